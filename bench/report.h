// The storage benchmark's figures, the goals of issues 2 and 3 judged on them, and their output as
// a table on stdout and (optionally) as JSON. Every figure here was measured in the run; a figure
// that was not measured (restic skipped) is absent, and the goals that need it say so.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "bench/machine_limits.h"
#include "env/file_system.h"

namespace kiln::bench {

struct FullFigures {
  uint64_t micros = 0;         // SnapshotStore::Start + SnapshotJob::Run
  uint64_t logical_bytes = 0;  // the volume's size
  uint64_t nonzero_bytes = 0;  // blocks that were not all zeros
  uint64_t blocks = 0;
  uint64_t zero_blocks = 0;
  uint64_t chunks_stored = 0;
  uint64_t bytes_stored = 0;
};

struct IncrementalFigures {
  uint64_t blocks_changed = 0;
  uint64_t micros = 0;
  uint64_t chunks_stored = 0;
  uint64_t bytes_stored = 0;
};

struct UnchangedFigures {
  uint64_t size = 0;
  uint64_t micros = 0;
};

struct RestoreFigures {
  uint64_t size = 0;
  uint64_t ready_micros = 0;  // SnapshotStore::CreateVolume
};

struct LazyReadFigures {
  std::vector<uint64_t> micros;  // one 4 KiB read at each of N non-present blocks
  uint64_t hydrate_bytes = 0;    // non-zero blocks fetched by Volume::Hydrate
  uint64_t hydrate_micros = 0;
};

struct DedupFigures {
  int volumes = 0;
  uint64_t blocks_changed_each = 0;
  uint64_t base_bytes = 0;     // stored by the full snapshot the volumes derive from
  uint64_t derived_bytes = 0;  // stored by the derived volumes' snapshots together
  uint64_t logical_bytes = 0;  // base + derived volumes' sizes
  uint64_t snapshot_micros_total = 0;
};

struct PeerFigures {
  std::string version;
  std::string settings;
  uint64_t full_micros = 0;
  uint64_t full_repo_bytes = 0;
  uint64_t incremental_micros = 0;
  uint64_t incremental_repo_bytes = 0;  // repository growth of the second backup
};

// Issue 3: the same full snapshot, restores, lazy reads and hydration with an encrypted volume
// (AES-XTS sectors with integrity tags on disk, sealed chunks in the store).
struct EncryptedFigures {
  FullFigures full;
  std::vector<RestoreFigures> restore;  // the snapshot's size, then 64 GiB
  LazyReadFigures lazy;
};

struct BenchReport {
  uint64_t size = 0;
  std::string work_dir;
  std::string image_description;
  std::string notes;  // scaling, cache dropping, skipped parts
  int threads = 0;    // SnapshotOptions::threads (0: the library's default)
  MachineLimits limits;
  FullFigures full;
  IncrementalFigures incremental;
  std::vector<UnchangedFigures> unchanged;  // the volume's size, then 64 GiB sparse
  std::vector<RestoreFigures> restore;      // the snapshot's size, then 64 GiB
  LazyReadFigures lazy;
  DedupFigures dedup;
  std::optional<PeerFigures> peer;
  std::optional<EncryptedFigures> encrypted;  // absent with --skip-encrypted
};

// Prints each section's figures as it is called (the run prints them as they come).
void PrintLimits(const MachineLimits& m);
void PrintFull(const FullFigures& f, const MachineLimits& m);
void PrintPeerFull(const PeerFigures& p, const FullFigures& f);
void PrintIncremental(const IncrementalFigures& i, const FullFigures& f,
                      const std::optional<PeerFigures>& p);
void PrintUnchanged(const UnchangedFigures& u);
void PrintRestore(const RestoreFigures& r, const std::string& snapshot = "full");
void PrintLazy(const LazyReadFigures& l);
void PrintDedup(const DedupFigures& d);
// The encrypted figures against the unencrypted ones of the same run and against the crypto
// limits (`m.crypto`, which must be measured).
void PrintEncryptedFull(const FullFigures& e, const FullFigures& plain, const MachineLimits& m);
void PrintEncryptedLazy(const LazyReadFigures& e, const LazyReadFigures& plain,
                        const MachineLimits& m);

// The goals of issue 2 (and of issue 3 when the encrypted part ran) with MET / NOT MET and the
// figures behind each.
void PrintGoals(const BenchReport& r);

// The whole report as JSON (figures in their base units: bytes, microseconds, MB/s).
Status WriteJson(FileSystem& fs, const std::string& path, const BenchReport& r);

}  // namespace kiln::bench
