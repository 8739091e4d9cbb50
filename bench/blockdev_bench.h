// `kiln-bench blockdev`: volumes as block devices (issue 4). fio (libaio, O_DIRECT) runs the
// same jobs on each target in one run:
//   - the limit: a plain sparse file of the same size on the work dir's file system;
//   - a kiln volume (ContentChunkStore over a LocalDirBackend in the work dir) shown as a file
//     by VolumeFs, fio on that FUSE file;
//   - the same through a loop device over the FUSE file (what an instance's kernel sees);
//   - both again with an encrypted volume (a new lineage under the default EBS key).
// Each kiln target gets a new empty volume. Jobs, in order: a sequential 1 MiB write of the
// whole target (fills it, so every later read hits written data rather than the zeros of a
// never-written block, which cost no I/O), then sequential write and read (1 MiB, iodepth 16)
// and random read and write (4 KiB, iodepth 32), each at most one pass and `runtime_seconds`.
// Write jobs end with an fsync counted in their time. The page cache is dropped before each job.
// It prints, per job and target, MB/s, IOPS, mean latency, the ratio to the plain file and the
// CPU the FUSE server used, then a summary table; optionally the figures as JSON.
//
// State lives in <work_dir>/run and is removed at the end unless `keep` (and <work_dir> too when
// that leaves it empty); every path detaches the loop devices, unmounts the FUSE file system and
// closes the volumes. A run interrupted by SIGINT or SIGTERM stops after the job under way and
// cleans up the same way. A FUSE mount left by a killed run is unmounted at the next start; a
// second run on the same work dir while one is under way is refused (flock on the work dir).
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "fuse/volume_fs.h"

namespace kiln::bench {

struct BlockdevBenchOptions {
  uint64_t size = 2ULL << 30;  // of every target
  std::string work_dir = "/var/tmp/kiln-bench-blockdev";
  int runtime_seconds = 10;  // cap of each fio job (the first write is never capped)
  std::string json_path;     // empty: no JSON
  bool keep = false;         // keep <work_dir>/run
  bool skip_encrypted = false;
  bool drop_caches = true;     // drop the page cache before each job (needs root)
  VolumeFsOptions fuse;        // FUSE request threads and largest request
  bool loop_direct_io = true;  // LoopOptions::direct_io
};

// The exit status of `kiln-bench blockdev` when the host lacks what it needs (ctest's
// SKIP_RETURN_CODE: the smoke test skips there, except under CI).
inline constexpr int kMissingPrerequisiteExit = 77;

// What this host lacks to run the benchmark (root, /dev/fuse, loop devices, fio), or "" when
// it has everything.
std::string MissingBlockdevPrerequisite();

// Runs the benchmark, printing as it goes. An error only when something failed (slow figures
// are reported, not errors); Aborted when interrupted.
Status RunBlockdevBench(const BlockdevBenchOptions& options);

}  // namespace kiln::bench
