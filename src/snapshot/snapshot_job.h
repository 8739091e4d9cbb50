// SnapshotJob: one snapshot being captured, from SnapshotStore::Start. The point in time was
// fixed by Start; Run captures the pending blocks on worker threads (reading, zero detection,
// hashing, compression and storage pipelined across them), writes the map once every chunk is
// durable, and makes it the volume's new base. Progress may be read from any thread meanwhile.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/block_map.h"
#include "store/chunk_store.h"
#include "volume/volume.h"

namespace kiln {

class SnapshotStore;

struct SnapshotOptions {
  // Worker threads; 0 picks eight per hardware thread: workers spend much of their time waiting
  // on reads and on the two fsyncs of each new chunk, and kiln-bench storage measured 16
  // threads 20% faster than 4 on 2 cores (docs/benchmarks.md).
  int threads = 0;
  // Recorded as the map's parent (metadata for people and for Diff; maps are self-contained).
  std::string parent_id;
};

struct SnapshotProgress {
  uint64_t blocks_total = 0;  // blocks to capture (dirty ones; every present one after a crash)
  uint64_t blocks_done = 0;
  uint64_t chunks_stored = 0;  // new chunks written (dedup hits and zero blocks excluded)
  uint64_t bytes_stored = 0;   // bytes those chunks take in the store
  uint64_t zero_blocks = 0;
  int Percent() const {
    return blocks_total == 0 ? 100 : static_cast<int>(blocks_done * 100 / blocks_total);
  }
};

struct SnapshotInfo {
  std::string id;
  uint64_t volume_size = 0;
  uint64_t mapped_blocks = 0;  // non-zero blocks in the snapshot
  SnapshotProgress progress;
};

class SnapshotJob : public CaptureSink {
 public:
  ~SnapshotJob() override;  // aborts the capture if Run did not finish it

  // Captures everything, writes the map, commits. On any failure the capture is aborted (the
  // volume's blocks become dirty again, nothing half-written is visible) and the error returned.
  Result<SnapshotInfo> Run();
  SnapshotProgress progress() const;
  const std::string& id() const { return id_; }

  void OnBlockCaptured(uint64_t block, ByteView data) override;

 private:
  friend class SnapshotStore;
  SnapshotJob(SnapshotStore& owner, ChunkStore& store, std::string id, SnapshotOptions options);
  Result<SnapshotInfo> Finish();
  void Fail(Status status);

  SnapshotStore& owner_;
  ChunkStore& store_;  // the volume's: its lineage's sealed store when encrypted
  const std::string id_;
  const SnapshotOptions options_;
  std::unique_ptr<VolumeCapture> capture_;

  // Ends the capture after a failure: abort, wait for deliveries under way, release pins.
  void AbortCapture();
  void WaitForDeliveries();
  void ReleasePins();

  std::atomic<uint64_t> blocks_total_{0};
  std::atomic<uint64_t> blocks_done_{0}, chunks_stored_{0}, bytes_stored_{0}, zero_blocks_{0};
  mutable std::mutex mu_;
  std::condition_variable delivered_;  // signalled (under mu_) as blocks_done_ grows
  std::vector<std::pair<uint64_t, std::optional<ChunkId>>> changes_;  // guarded by mu_
  std::vector<ChunkId> pins_;                                         // guarded by mu_
  Status error_;                                                      // guarded by mu_
};

}  // namespace kiln
