// The block-device benchmark's jobs and figures (`kiln-bench blockdev`, blockdev_bench.h), and
// their output as lines while the run goes, tables at its end and JSON. Every figure was
// measured in the run; a target the run did not reach is absent.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "bench/fio.h"
#include "env/file_system.h"

namespace kiln::bench {

struct BlockdevJob {
  FioJob fio;
  std::string label;    // "sequential write 1 MiB, iodepth 16"
  bool random = false;  // its figure is IOPS (else MB/s)
};

// The jobs each target runs, in order; the first writes the whole target.
const std::vector<BlockdevJob>& BlockdevJobs();

struct BlockdevJobFigures {
  FioResult fio;
  double server_cpu_seconds = 0;  // this process (the FUSE server and the volume) in the job
  double machine_busy = 0;        // share of all CPUs' time not idle or waiting, 0..1
};

struct BlockdevTarget {
  std::string key;    // "raw", "fuse", "loop", "fuse-encrypted", "loop-encrypted"
  std::string label;  // for people
  std::string path;   // what fio ran on
  bool encrypted = false;
  bool via_loop = false;
  bool loop_direct_io = false;           // whether the loop device took direct I/O (via_loop)
  std::vector<BlockdevJobFigures> jobs;  // in BlockdevJobs() order; fewer if the run stopped
};

struct BlockdevReport {
  uint64_t size = 0;
  int runtime_seconds = 0;
  std::string work_dir;
  std::string fio_version;
  std::string kernel;
  int fuse_threads = 0;
  uint32_t max_request_bytes = 0;
  bool loop_direct_io_asked = true;
  std::string load_start;
  std::string load_end;
  std::string notes;
  std::vector<BlockdevTarget> targets;  // the plain file first: the limit every ratio is to
};

// One job's line as soon as it is measured, with the ratio to the plain file's same job when
// `limit` is given.
void PrintJobLine(const BlockdevTarget& t, size_t job, const BlockdevJobFigures* limit);
// Per job, every target's figures; then the summary table (Markdown, as docs/benchmarks.md
// keeps it).
void PrintBlockdevTables(const BlockdevReport& r);
// The whole report as JSON (bytes, milliseconds, microseconds, MB/s, IOPS).
Status WriteBlockdevJson(FileSystem& fs, const std::string& path, const BlockdevReport& r);

}  // namespace kiln::bench
