// fio (the flexible I/O tester, from Debian) as the block-device benchmark drives it: one job on
// one file or device, libaio with O_DIRECT, its JSON report parsed into the few figures the
// benchmark prints.
//
// Units: MB/s is 10^6 bytes per second, as fio's own "bw_bytes" counts them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "env/file_system.h"

namespace kiln::bench {

struct FioJob {
  std::string name;  // fio's job name: "seqwrite"
  std::string rw;    // fio's rw=: write, read, randwrite, randread
  uint32_t block_bytes = 0;
  int iodepth = 1;
  // Stop after `runtime_seconds` even if the pass is not done. A job never loops: it covers the
  // target at most once (random jobs visit each block at most once, fio's random map), so no
  // byte is read twice and a cache under the target cannot serve a second pass.
  bool capped = true;
  // fsync the target when the writes are done; fio counts the fsync in the job's runtime, so a
  // write is only counted once it is durable (a FUSE volume acknowledges writes from the page
  // cache of its data file, the raw file with O_DIRECT from the disk).
  bool end_fsync = false;
};

struct FioResult {
  uint64_t bytes = 0;       // moved by the job
  uint64_t runtime_ms = 0;  // as fio measured it (end_fsync included)
  double mbps = 0;          // 10^6 bytes per second
  double iops = 0;
  double mean_latency_us = 0;  // submission to completion, per I/O
};

// fio's version line ("fio-3.33"). FailedPrecondition when fio cannot be run.
Result<std::string> FioVersion();

// Runs `job` on `target` (a file or a block device) over its first `size` bytes, O_DIRECT,
// libaio, no preallocation, reproducible random offsets. The JSON report goes to `json_path`
// (fio prints warnings on stdout, so the report has its own file). An error when fio fails or
// its report lacks the figures.
Result<FioResult> RunFio(FileSystem& fs, const FioJob& job, const std::string& target,
                         uint64_t size, int runtime_seconds, const std::string& json_path);

// The figures of the first job of a fio JSON report (--output-format=json): its "write"
// section when `write`, else its "read" section. InvalidArgument for a report that does not
// parse or has no such job; Internal when fio recorded an error for the job.
Result<FioResult> ParseFioJson(std::string_view text, bool write);

}  // namespace kiln::bench
