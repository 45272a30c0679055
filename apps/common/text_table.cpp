#include "text_table.hpp"

#include <algorithm>
#include <cstdio>

namespace queuectl::app {

std::size_t display_width(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;  // count every byte but UTF-8 continuation bytes
  return n;
}

std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string truncate(std::string_view s, std::size_t max_width) {
  std::string p = printable(s);
  if (display_width(p) <= max_width) return p;
  if (max_width == 0) return {};
  // Keep max_width - 1 code points, then the ellipsis.
  std::size_t kept = 0, i = 0;
  for (; i < p.size(); ++i) {
    if ((static_cast<unsigned char>(p[i]) & 0xC0) != 0x80) {
      if (kept == max_width - 1) break;
      ++kept;
    }
  }
  return p.substr(0, i) + "\xE2\x80\xA6";
}

table::table(std::vector<std::string> headers)
    : headers_(std::move(headers)), max_(headers_.size(), 0), right_(headers_.size(), false) {}

void table::add_row(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  for (std::size_t c = 0; c < cells.size(); ++c)
    cells[c] = max_[c] ? truncate(cells[c], max_[c]) : printable(cells[c]);
  rows_.push_back(std::move(cells));
}

void table::max_width(std::size_t column, std::size_t width) {
  if (column < max_.size()) max_[column] = width;
}

void table::align_right(std::size_t column) {
  if (column < right_.size()) right_[column] = true;
}

std::string table::render() const {
  std::vector<std::size_t> width(headers_.size(), 0);
  for (std::size_t c = 0; c < headers_.size(); ++c) width[c] = display_width(headers_[c]);
  for (const auto& r : rows_)
    for (std::size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], display_width(r[c]));
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const bool last = c + 1 == cells.size();
      const std::size_t pad = width[c] - display_width(cells[c]);
      if (right_[c]) l.append(pad, ' ');
      l += cells[c];
      if (!right_[c] && !last) l.append(pad, ' ');
      if (!last) l += "  ";
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l;
    out += '\n';
  };
  line(headers_);
  for (const auto& r : rows_) line(r);
  return out;
}

}  // namespace queuectl::app
