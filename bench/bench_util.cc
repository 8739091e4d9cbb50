#include "bench/bench_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <random>
#include <unordered_set>

namespace kiln::bench {

Result<uint64_t> ParseSize(std::string_view text) {
  uint64_t value = 0;
  auto [rest, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || value == 0)
    return InvalidArgumentError("bad size: " + std::string(text));
  std::string unit(rest, text.data() + text.size());
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  int shift = 0;
  if (unit.empty() || unit == "B") {
    shift = 0;
  } else if (unit == "K" || unit == "KIB") {
    shift = 10;
  } else if (unit == "M" || unit == "MIB") {
    shift = 20;
  } else if (unit == "G" || unit == "GIB") {
    shift = 30;
  } else if (unit == "T" || unit == "TIB") {
    shift = 40;
  } else {
    return InvalidArgumentError("bad size unit in " + std::string(text) + " (use KiB, MiB, GiB)");
  }
  if (value > (UINT64_MAX >> shift))
    return InvalidArgumentError("size too large: " + std::string(text));
  return value << shift;
}

std::string FormatBytes(uint64_t bytes) {
  static constexpr std::array<const char*, 5> kUnits = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  size_t unit = 0;
  while (v >= 1024 && unit + 1 < kUnits.size()) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  if (unit == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof buf, v >= 100 ? "%.1f %s" : "%.2f %s", v, kUnits[unit]);
  }
  return buf;
}

double Mbps(uint64_t bytes, uint64_t micros) {
  return micros == 0 ? 0 : static_cast<double>(bytes) / static_cast<double>(micros);
}

double Millis(uint64_t micros) { return static_cast<double>(micros) / 1000.0; }

// drop_caches is a kernel control file that is write-only (mode 0200), which FileSystem's open
// modes (all readable) cannot open; it holds no data of ours, so it is written directly.
Status DropPageCache() {
  if (::geteuid() != 0) return FailedPreconditionError("not root");
  ::sync();
  int fd = ::open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open /proc/sys/vm/drop_caches", errno);
  ssize_t n = ::write(fd, "3\n", 2);
  int err = errno;
  ::close(fd);
  if (n != 2) return ErrnoError("write /proc/sys/vm/drop_caches", n < 0 ? err : EIO);
  return Status::Ok();
}

void CacheDropper::Drop() {
  if (!enabled_) {
    if (note_.empty())
      note_ = "page cache not dropped (--no-drop-caches): reads may come from memory";
    return;
  }
  Status s = DropPageCache();
  if (s.ok()) {
    dropped_any_ = true;
    return;
  }
  if (note_.empty()) {
    note_ = "page cache not dropped (" + s.ToString() + "): reads may come from memory";
    std::printf("  note: %s\n", note_.c_str());
  }
}

namespace {

// A vocabulary of 1024 pseudo-words, the same in every run.
const std::vector<std::string>& Vocabulary() {
  static const std::vector<std::string> words = [] {
    std::mt19937_64 rng(0x6b696c6e);  // fixed: the vocabulary is part of the test data
    std::vector<std::string> w;
    for (int i = 0; i < 1024; ++i) {
      std::string s(2 + rng() % 9, 'a');
      for (char& c : s) c = static_cast<char>('a' + rng() % 26);
      w.push_back(std::move(s));
    }
    return w;
  }();
  return words;
}

}  // namespace

void FillCompressible(uint64_t seed, MutableByteView out) {
  const auto& words = Vocabulary();
  std::mt19937_64 rng(seed * 0x9e3779b97f4a7c15ULL + 1);
  size_t pos = 0;
  while (pos < out.size()) {
    uint64_t r = rng();
    const std::string& w = words[r % words.size()];
    size_t n = std::min(w.size(), out.size() - pos);
    std::copy_n(w.data(), n, out.data() + pos);
    pos += n;
    if (pos < out.size()) out[pos++] = ((r >> 32) % 12 == 0) ? '\n' : ' ';
  }
}

std::vector<uint64_t> PickBlocks(uint64_t seed, uint64_t block_count, uint64_t n) {
  n = std::min(n, block_count);
  std::mt19937_64 rng(seed);
  std::unordered_set<uint64_t> picked;
  while (picked.size() < n) picked.insert(rng() % block_count);
  std::vector<uint64_t> blocks(picked.begin(), picked.end());
  std::sort(blocks.begin(), blocks.end());
  return blocks;
}

Result<std::string> ReadProcFile(FileSystem& fs, const std::string& path) {
  ASSIGN_OR_RETURN(auto file, fs.Open(path, OpenMode::kRead));
  std::string text(64 << 10, '\0');
  size_t used = 0;
  while (used < text.size()) {
    ASSIGN_OR_RETURN(
        size_t n, file->ReadAt(used, MutableByteView(reinterpret_cast<uint8_t*>(text.data()) + used,
                                                     text.size() - used)));
    if (n == 0) break;
    used += n;
  }
  text.resize(used);
  return text;
}

std::string LoadAverage(FileSystem& fs) {
  auto text = ReadProcFile(fs, "/proc/loadavg");
  if (!text.ok() || text->empty()) return "unknown";
  return text->substr(0, text->find(' '));
}

Status RemoveTree(FileSystem& fs, const std::string& path) {
  auto info = fs.Stat(path);
  if (!info.ok()) return info.status().code() == Code::kNotFound ? Status::Ok() : info.status();
  if (!info->is_dir) return fs.Remove(path);
  ASSIGN_OR_RETURN(auto names, fs.ListDir(path));
  for (const auto& name : names) RETURN_IF_ERROR(RemoveTree(fs, JoinPath(path, name)));
  return fs.RemoveDir(path);
}

Result<uint64_t> TreeBytes(FileSystem& fs, const std::string& path) {
  ASSIGN_OR_RETURN(FileInfo info, fs.Stat(path));
  if (!info.is_dir) return info.size;
  ASSIGN_OR_RETURN(auto names, fs.ListDir(path));
  uint64_t total = 0;
  for (const auto& name : names) {
    ASSIGN_OR_RETURN(uint64_t n, TreeBytes(fs, JoinPath(path, name)));
    total += n;
  }
  return total;
}

}  // namespace kiln::bench
