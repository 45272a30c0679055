/// @file
/// @brief A hash map keyed by job id that std::string_view lookups find without copying
/// the id into a std::string (memory_storage's jobs and attempt records).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace queuectl::detail {

/// Lets lookups by std::string_view find std::string keys without a copy.
struct id_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view id) const noexcept { return std::hash<std::string_view>{}(id); }
};

template <class T>
using by_id = std::unordered_map<std::string, T, id_hash, std::equal_to<>>;

}  // namespace queuectl::detail
