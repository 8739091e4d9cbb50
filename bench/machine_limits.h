// The machine's limits for a full snapshot, measured in the same run on the benchmark's own
// data so the snapshot's throughput can be judged against what this hardware can do:
//   - single-core SHA-256 (src/crypto, OpenSSL) and single-core zstd level 1 compression
//     (libzstd, as the chunk store uses it), both over the image's non-zero 512 KiB blocks;
//   - sequential disk write: O_DIRECT, 1 MiB requests, fsync at the end, in the work dir.
// The limit: per core a block must be hashed then compressed, so one core moves
// 1/(1/sha + 1/zstd) bytes per second; `cores` cores move that many times more; the result is
// capped by the disk's sequential write.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "env/file_system.h"

namespace kiln::bench {

struct MachineLimits {
  uint64_t sample_bytes = 0;  // non-zero image data the CPU figures were measured on
  double sha256_mbps = 0;     // one core
  double zstd1_mbps = 0;      // one core, input bytes per second
  double zstd1_ratio = 0;     // input / output on the sample
  uint64_t disk_write_bytes = 0;
  double disk_write_mbps = 0;
  std::string disk_write_method;  // O_DIRECT, or buffered where the file system has none
  int cores = 0;
  double per_core_mbps = 0;  // 1 / (1/sha256 + 1/zstd1)
  double limit_mbps = 0;     // min(cores * per_core, disk_write)
};

// `image` supplies the data (its first 256 MiB of non-zero blocks); the disk test writes
// `disk_bytes` to a temporary file in `work_dir` and removes it.
Result<MachineLimits> MeasureMachineLimits(FileSystem& fs, const std::string& image,
                                           const std::string& work_dir, uint64_t disk_bytes,
                                           int cores);

}  // namespace kiln::bench
