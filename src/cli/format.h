// Human output of `kiln`: aligned tables with optional colour, relative times ("3 minutes ago"),
// byte sizes in decimal units (as prices are per GB = 10^9 bytes) and progress bars.
// Thread-safety: pure functions and plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::cli {

enum class Color { kNone, kGreen, kYellow, kRed, kCyan, kDim, kBold };

// `text` wrapped in the ANSI colour's escapes (unchanged for kNone).
std::string Colorize(std::string_view text, Color color);

// Green for the good resting states (available, running, completed, in-use), yellow for
// transitions, red for failures and terminated, dim for stopped/deregistered ones.
Color StateColor(std::string_view state);

struct Cell {
  std::string text;
  Color color = Color::kNone;
  Cell(std::string t) : text(std::move(t)) {}  // NOLINT: implicit for brace lists of strings
  Cell(const char* t) : text(t) {}             // NOLINT
  Cell(std::string t, Color c) : text(std::move(t)), color(c) {}
};

// Columns separated by two spaces, every column padded to its widest cell (by UTF-8 code
// points), the header in bold when coloured; no trailing spaces. An empty cell shows "-".
class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  // A row with fewer cells than headers is padded with empty cells; extra cells are dropped.
  void AddRow(std::vector<Cell> row);
  size_t rows() const { return rows_.size(); }
  std::string Render(bool color) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<Cell>> rows_;
};

// "2026-11-27T10:53:21.538Z" or "2026-11-27T10:53:21Z" (UTC) -> seconds since the Unix epoch.
std::optional<int64_t> ParseIsoTime(std::string_view text);

// "just now", "5 seconds ago", "a minute ago", "3 minutes ago", "an hour ago", "2 days ago",
// "4 months ago", "2 years ago"; "in 3 minutes" for the future (beyond a few seconds of skew).
std::string RelativeTime(int64_t then, int64_t now);

// RelativeTime of an ISO time, or the text as it is when it does not parse ("" stays "").
std::string RelativeIsoTime(std::string_view iso, int64_t now);

// "0 B", "512 B", "1.5 kB", "12.3 MB", "8.0 GB", "1.2 TB".
std::string HumanBytes(int64_t bytes);

// "[#########...........]" of `width` inner characters for 0..100 percent (clamped).
std::string ProgressBar(int percent, int width);

// "0.05" -> cost string "$0.12" with two decimals, or four below a cent ("$0.0004").
std::string Dollars(double amount);

}  // namespace kiln::cli
