// Text for a terminal: printable (escaped) lines, widths, truncation, and aligned tables.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace queuectl::app {

/// Width of UTF-8 text in terminal columns (one per code point; good enough for tables).
std::size_t display_width(std::string_view utf8);

/// One printable line: control characters become `\n`, `\t`, `\xNN` escapes, so stored
/// text can never break a table or send escape sequences to the terminal.
std::string printable(std::string_view s);

/// `printable(s)` cut to `max_width` columns, ending with "…" when cut.
std::string truncate(std::string_view s, std::size_t max_width);

/// @brief A text table: a header line, then rows, columns separated by two spaces.
class table {
 public:
  explicit table(std::vector<std::string> headers);
  /// Cells are passed through printable(); missing cells are empty.
  void add_row(std::vector<std::string> cells);
  /// Cuts a column's cells (not its header) to `width` columns.
  void max_width(std::size_t column, std::size_t width);
  void align_right(std::size_t column);
  bool empty() const noexcept { return rows_.empty(); }
  /// Header and rows, each line ending in '\n'; the last column is not padded.
  std::string render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<std::size_t> max_;
  std::vector<bool> right_;
};

}  // namespace queuectl::app
