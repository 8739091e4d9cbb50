// Small helpers shared by the benchmark programs: sizes and rates as people read them, timing,
// the page cache, reproducible test content, and removing a run's state.
//
// Units: MB/s is 10^6 bytes per second (as dd, fio and restic print them); sizes are printed
// in binary units (KiB, MiB, GiB) because volume sizes are given that way.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "env/clock.h"
#include "env/file_system.h"

namespace kiln::bench {

// "64MiB", "512MiB", "1GiB", "4GiB", "1048576" (bytes), "2G"/"2M"/"2K" (binary as well).
// InvalidArgument on anything else or on zero.
Result<uint64_t> ParseSize(std::string_view text);
// "1.00 GiB", "512.0 MiB", "7.3 KiB", "12 B".
std::string FormatBytes(uint64_t bytes);
// Decimal megabytes per second; 0 when no time passed.
double Mbps(uint64_t bytes, uint64_t micros);
double Millis(uint64_t micros);

// Measures elapsed time on the monotonic clock.
class Stopwatch {
 public:
  explicit Stopwatch(Clock& clock) : clock_(clock), start_(clock.NowMicros()) {}
  uint64_t ElapsedMicros() const { return clock_.NowMicros() - start_; }

 private:
  Clock& clock_;
  const uint64_t start_;
};

// Writes back dirty pages and drops the kernel's page cache (sync; echo 3 > drop_caches), so
// the next reads come from the disk. FailedPrecondition when the caller is not root (or the
// file cannot be written, as in some containers).
Status DropPageCache();

// Remembers whether caches are dropped in this run and, once, why not.
class CacheDropper {
 public:
  explicit CacheDropper(bool enabled) : enabled_(enabled) {}
  // Drops the page cache when possible; otherwise does nothing (the note says why).
  void Drop();
  bool dropped_any() const { return dropped_any_; }
  const std::string& note() const { return note_; }

 private:
  bool enabled_;
  bool dropped_any_ = false;
  std::string note_;
};

// Fills `out` with text-like content unique to `seed`: words from a fixed vocabulary in an
// order drawn from `seed`. zstd level 1 compresses it roughly 2-3x, like ordinary files, and no
// two seeds give the same 512 KiB block (so changed blocks never deduplicate by accident).
void FillCompressible(uint64_t seed, MutableByteView out);

// `n` distinct block indexes in [0, block_count), drawn from `seed`, sorted.
std::vector<uint64_t> PickBlocks(uint64_t seed, uint64_t block_count, uint64_t n);

// The text of a kernel file under /proc (which report size 0, so Size() cannot size the read);
// at most 64 KiB.
Result<std::string> ReadProcFile(FileSystem& fs, const std::string& path);
// The 1-minute load average ("1.58"), or "unknown", so a reader can tell figures taken on a busy
// machine.
std::string LoadAverage(FileSystem& fs);

// Removes `path` and everything under it (rm -r). OK if it does not exist. Follows no symlinks:
// the run directories it is used on hold none.
Status RemoveTree(FileSystem& fs, const std::string& path);
// Sum of file sizes under `path` (du --apparent-size).
Result<uint64_t> TreeBytes(FileSystem& fs, const std::string& path);

}  // namespace kiln::bench
