/// @file
/// @brief What the loader checks before `dlopen` (docs/plugins.md, "What the loader checks"):
/// the file is a regular file, opened without ever blocking, and an ELF shared library for
/// this machine whose headers and loadable segments lie inside the file.
///
/// Why: `dlopen` maps a file's segments by the sizes its headers claim. A truncated
/// library maps pages past the end of the file and the first touch raises SIGBUS in the
/// host; a FIFO blocks `open` forever; a device may do anything when read. Each of these
/// gets its own one-line error here instead.
#pragma once

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "queuectl/error.hpp"

namespace queuectl::detail {

/// What kind of file `st` describes, for messages ("a FIFO", "a directory" ...).
inline const char* file_kind(const struct stat& st) {
  if (S_ISDIR(st.st_mode)) return "a directory";
  if (S_ISFIFO(st.st_mode)) return "a FIFO";
  if (S_ISCHR(st.st_mode)) return "a character device";
  if (S_ISBLK(st.st_mode)) return "a block device";
  if (S_ISSOCK(st.st_mode)) return "a socket";
  return "not a regular file";
}

/// The ELF machine this host runs (a plugin for another one cannot load).
inline constexpr int native_elf_machine() {
#if defined(__x86_64__)
  return EM_X86_64;
#elif defined(__aarch64__)
  return EM_AARCH64;
#elif defined(__i386__)
  return EM_386;
#elif defined(__arm__)
  return EM_ARM;
#elif defined(__riscv)
  return EM_RISCV;
#elif defined(__powerpc64__)
  return EM_PPC64;
#elif defined(__s390x__)
  return EM_S390;
#else
  return EM_NONE;  // unknown: not checked
#endif
}

#if UINTPTR_MAX > 0xffffffffu
using elf_ehdr = Elf64_Ehdr;
using elf_phdr = Elf64_Phdr;
using elf_shdr = Elf64_Shdr;
inline constexpr unsigned char native_elf_class = ELFCLASS64;
#else
using elf_ehdr = Elf32_Ehdr;
using elf_phdr = Elf32_Phdr;
using elf_shdr = Elf32_Shdr;
inline constexpr unsigned char native_elf_class = ELFCLASS32;
#endif

/// `offset + count * each <= size`, without overflow.
inline bool fits(std::uint64_t offset, std::uint64_t count, std::uint64_t each, std::uint64_t size) {
  if (offset > size) return false;
  if (each != 0 && count > (size - offset) / each) return false;
  return true;
}

/// Reads exactly `n` bytes at `off`; false on a short read.
inline bool read_at(int fd, void* buf, std::size_t n, std::uint64_t off) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    const ssize_t got = ::pread(fd, p, n, static_cast<off_t>(off));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    p += got;
    n -= static_cast<std::size_t>(got);
    off += static_cast<std::uint64_t>(got);
  }
  return true;
}

/// Checks the ELF headers of the open regular file `fd` (of `size` bytes); "" if it looks
/// loadable, else why not (one line, without the path).
inline std::string elf_problem(int fd, std::uint64_t size) {
  elf_ehdr eh{};
  const std::size_t head = size < sizeof eh ? static_cast<std::size_t>(size) : sizeof eh;
  if (!read_at(fd, &eh, head, 0)) return "unreadable";
  if (head < SELFMAG || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) return "not an ELF shared library";
  if (head < sizeof eh) return "truncated: " + std::to_string(size) + " bytes, shorter than an ELF header";
  if (eh.e_ident[EI_CLASS] != native_elf_class)
    return std::string("built for ") + (eh.e_ident[EI_CLASS] == ELFCLASS32 ? "32" : "64") + "-bit, this host is " +
           (native_elf_class == ELFCLASS32 ? "32" : "64") + "-bit";
  if (native_elf_machine() != EM_NONE && eh.e_machine != native_elf_machine())
    return "built for another machine (ELF e_machine " + std::to_string(eh.e_machine) + ", this host " +
           std::to_string(native_elf_machine()) + ")";
  if (eh.e_type != ET_DYN) return "not a shared library (ELF type " + std::to_string(eh.e_type) + ")";
  if (eh.e_phentsize != sizeof(elf_phdr) || eh.e_phnum == 0) return "corrupt ELF header (program header table)";
  if (!fits(eh.e_phoff, eh.e_phnum, sizeof(elf_phdr), size))
    return "truncated: its program headers end past the file's end (" + std::to_string(size) + " bytes)";
  if (eh.e_shnum != 0) {
    if (eh.e_shentsize != sizeof(elf_shdr)) return "corrupt ELF header (section header table)";
    if (!fits(eh.e_shoff, eh.e_shnum, sizeof(elf_shdr), size))
      return "truncated: its section headers end past the file's end (" + std::to_string(size) + " bytes)";
  }
  std::vector<elf_phdr> ph(eh.e_phnum);
  if (!read_at(fd, ph.data(), ph.size() * sizeof(elf_phdr), eh.e_phoff)) return "unreadable program headers";
  for (std::size_t i = 0; i < ph.size(); ++i) {
    if (ph[i].p_type != PT_LOAD && ph[i].p_type != PT_DYNAMIC) continue;
    if (!fits(ph[i].p_offset, 1, ph[i].p_filesz, size))
      return "truncated: segment " + std::to_string(i) + " ends at byte " +
             std::to_string(static_cast<std::uint64_t>(ph[i].p_offset) + ph[i].p_filesz) + ", past the file's end (" +
             std::to_string(size) + " bytes)";
  }
  return {};
}

/// Opens `path` for the checks without ever blocking (O_NONBLOCK: a FIFO opens at once;
/// special files are refused from their stat before any open), requires a regular file
/// and a sane ELF image. Throws queuectl::error (invalid_input): `queuectl.plugin.not_a_file`,
/// `.unreadable`, `.not_loadable` (not ELF, other machine) or `.truncated`.
inline void check_plugin_file(const std::string& path) {
  auto fail = [&](const char* id, const std::string& why) {
    throw error(error_kind::invalid_input, id, "cannot load plugin " + path + ": " + why);
  };
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int e = errno;
    if (e == ELOOP) fail("queuectl.plugin.not_a_file", "symbolic link loop (too many levels of symbolic links)");
    if (e == ENOENT) fail("queuectl.plugin.not_found", "no such file (a dangling symbolic link?)");
    fail("queuectl.plugin.unreadable", std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) fail("queuectl.plugin.not_a_file", std::string("it is ") + file_kind(st) + ", not a regular file");
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) fail("queuectl.plugin.unreadable", std::strerror(errno));
  struct stat fst {};
  const bool same = ::fstat(fd, &fst) == 0 && S_ISREG(fst.st_mode);
  const std::string why = same ? elf_problem(fd, static_cast<std::uint64_t>(fst.st_size)) : std::string();
  ::close(fd);
  if (!same) fail("queuectl.plugin.not_a_file", "it changed into something that is not a regular file");
  if (why.rfind("truncated", 0) == 0) fail("queuectl.plugin.truncated", why);
  if (!why.empty()) fail("queuectl.plugin.not_loadable", why);
}

/// Something is at `p` (a file, a special file, even a dangling or looping symlink): the
/// search stops there, and check_plugin_file says what is wrong with it.
inline bool path_taken(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}

}  // namespace queuectl::detail
