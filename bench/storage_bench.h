// `kiln-bench storage`: the storage engine's benchmark of issue 2. One run builds (or reuses) an
// ext4 test image, measures the machine's limits, then takes kiln's full, incremental and
// unchanged snapshots, restores, lazy reads, hydration and 20 derived volumes, runs restic on
// the same data, and prints every figure with its unit and the goals as MET / NOT MET.
// Issue 3 adds the same full snapshot, lazy reads and hydration with an encrypted volume, each
// right after its unencrypted twin, and the machine's AES-GCM, AES-XTS and HMAC throughput.
//
// State of the run lives in <work_dir>/run and is removed at the end unless `keep`; the test
// image is cached in <work_dir> across runs.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace kiln::bench {

struct StorageBenchOptions {
  uint64_t size = 1ULL << 30;  // of the test image and the volume
  std::string work_dir = "/var/tmp/kiln-bench";
  int threads = 0;              // SnapshotOptions::threads; 0: the library's default
  std::string json_path;        // empty: no JSON
  bool keep = false;            // keep <work_dir>/run
  bool skip_peer = false;       // no restic
  bool skip_encrypted = false;  // no encrypted volumes, no crypto limits
  bool drop_caches = true;      // drop the page cache before timed reads (needs root)
};

// Runs the benchmark, printing as it goes. An error only when something failed (goals that are
// not met are reported, not errors).
Status RunStorageBench(const StorageBenchOptions& options);

}  // namespace kiln::bench
