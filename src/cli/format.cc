#include "cli/format.h"

#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace kiln::cli {
namespace {

size_t DisplayWidth(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string Plural(int64_t n, const char* unit, const char* one) {
  if (n == 1) return one;
  return std::to_string(n) + " " + unit + "s";
}

// Two digits of `s` at `pos` as a number, or -1.
int Digits(std::string_view s, size_t pos, size_t count) {
  if (pos + count > s.size()) return -1;
  int v = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

}  // namespace

std::string Colorize(std::string_view text, Color color) {
  const char* code = nullptr;
  switch (color) {
    case Color::kNone:
      return std::string(text);
    case Color::kGreen:
      code = "32";
      break;
    case Color::kYellow:
      code = "33";
      break;
    case Color::kRed:
      code = "31";
      break;
    case Color::kCyan:
      code = "36";
      break;
    case Color::kDim:
      code = "2";
      break;
    case Color::kBold:
      code = "1";
      break;
  }
  return std::string("\033[") + code + "m" + std::string(text) + "\033[0m";
}

Color StateColor(std::string_view state) {
  for (std::string_view s : {"available", "running", "completed", "in-use", "attached"}) {
    if (state == s) return Color::kGreen;
  }
  for (std::string_view s : {"pending", "stopping", "shutting-down", "creating", "attaching",
                             "detaching", "deleting", "transient"}) {
    if (state == s) return Color::kYellow;
  }
  for (std::string_view s : {"failed", "error", "invalid", "terminated"}) {
    if (state == s) return Color::kRed;
  }
  for (std::string_view s : {"stopped", "deregistered", "deleted", "disabled"}) {
    if (state == s) return Color::kDim;
  }
  return Color::kNone;
}

void Table::AddRow(std::vector<Cell> row) {
  row.resize(headers_.size(), Cell(""));
  rows_.push_back(std::move(row));
}

std::string Table::Render(bool color) const {
  std::vector<size_t> widths;
  for (const auto& h : headers_) widths.push_back(DisplayWidth(h));
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(row[i].text.empty() ? "-" : row[i].text));
    }
  }
  std::string out;
  const auto add_line = [&](const std::vector<Cell>& cells) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      const std::string& text = cells[i].text.empty() ? std::string("-") : cells[i].text;
      line += color ? Colorize(text, cells[i].color) : text;
      if (i + 1 < cells.size()) line += std::string(widths[i] - DisplayWidth(text) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  };
  std::vector<Cell> header;
  for (const auto& h : headers_) header.emplace_back(h, Color::kBold);
  add_line(header);
  for (const auto& row : rows_) add_line(row);
  return out;
}

std::optional<int64_t> ParseIsoTime(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fff]Z
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
      s[13] != ':' || s[16] != ':' || s.back() != 'Z') {
    return std::nullopt;
  }
  struct tm tm = {};
  const int fields[] = {Digits(s, 0, 4),  Digits(s, 5, 2),  Digits(s, 8, 2),
                        Digits(s, 11, 2), Digits(s, 14, 2), Digits(s, 17, 2)};
  for (int f : fields) {
    if (f < 0) return std::nullopt;
  }
  const std::string_view rest = s.substr(19, s.size() - 20);
  // Any number of fraction digits (not read as a number: it would overflow an int).
  if (!rest.empty() && (rest[0] != '.' || rest.find_first_not_of("0123456789", 1) != rest.npos)) {
    return std::nullopt;
  }
  tm.tm_year = fields[0] - 1900;
  tm.tm_mon = fields[1] - 1;
  tm.tm_mday = fields[2];
  tm.tm_hour = fields[3];
  tm.tm_min = fields[4];
  tm.tm_sec = fields[5];
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return std::nullopt;
  }
  return static_cast<int64_t>(timegm(&tm));
}

std::string RelativeTime(int64_t then, int64_t now) {
  const int64_t delta = now - then;
  const int64_t d = delta < 0 ? -delta : delta;
  if (d < 5) return "just now";
  std::string amount;
  if (d < 60) {
    amount = Plural(d, "second", "a second");
  } else if (d < 3600) {
    amount = Plural(d / 60, "minute", "a minute");
  } else if (d < 86400) {
    amount = Plural(d / 3600, "hour", "an hour");
  } else if (d < 86400 * 30) {
    amount = Plural(d / 86400, "day", "a day");
  } else if (d < 86400 * 365) {
    amount = Plural(d / (86400 * 30), "month", "a month");
  } else {
    amount = Plural(d / (86400 * 365), "year", "a year");
  }
  return delta < 0 ? "in " + amount : amount + " ago";
}

std::string RelativeIsoTime(std::string_view iso, int64_t now) {
  const std::optional<int64_t> t = ParseIsoTime(iso);
  return t ? RelativeTime(*t, now) : std::string(iso);
}

std::string HumanBytes(int64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  if (bytes < 1000) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 999.95 && unit < 5) {
    v /= 1000;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[unit]);
  return buf;
}

std::string ProgressBar(int percent, int width) {
  percent = std::clamp(percent, 0, 100);
  const int filled = percent * width / 100;
  return "[" + std::string(filled, '#') + std::string(width - filled, '.') + "]";
}

std::string Dollars(double amount) {
  char buf[48];
  std::snprintf(buf, sizeof buf, (amount != 0 && std::fabs(amount) < 0.01) ? "$%.4f" : "$%.2f",
                amount);
  return buf;
}

}  // namespace kiln::cli
