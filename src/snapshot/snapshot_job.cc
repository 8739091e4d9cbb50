#include "snapshot/snapshot_job.h"

#include <algorithm>
#include <thread>

#include "base/bytes.h"
#include "snapshot/snapshot_store.h"

namespace kiln {

SnapshotJob::SnapshotJob(SnapshotStore& owner, ChunkStore& store, std::string id,
                         SnapshotOptions options)
    : owner_(owner), store_(store), id_(std::move(id)), options_(std::move(options)) {}

SnapshotJob::~SnapshotJob() {
  if (capture_) AbortCapture();
}

SnapshotProgress SnapshotJob::progress() const {
  SnapshotProgress p;
  p.blocks_total = blocks_total_.load();
  p.blocks_done = blocks_done_.load();
  p.chunks_stored = chunks_stored_.load();
  p.bytes_stored = bytes_stored_.load();
  p.zero_blocks = zero_blocks_.load();
  return p;
}

void SnapshotJob::OnBlockCaptured(uint64_t block, ByteView data) {
  std::optional<ChunkId> chunk;
  Status failure;
  if (IsAllZero(data)) {
    ++zero_blocks_;  // zero blocks are never stored: absence from the map means zeros
  } else {
    ChunkStore& store = store_;
    ChunkId id = store.IdFor(data);
    // Pin before the store decides between writing and reusing, so a concurrent GC can't free
    // a chunk this snapshot is about to reference.
    owner_.Pin(id);
    {
      std::lock_guard lock(mu_);
      pins_.push_back(id);
    }
    auto put = store.PutWithId(id, data);
    if (put.ok()) {
      if (put->stored) {
        ++chunks_stored_;
        bytes_stored_ += put->stored_bytes;
      }
      chunk = id;
    } else {
      failure = put.status().Annotate("snapshot " + id_ + " block " + std::to_string(block));
    }
  }
  std::lock_guard lock(mu_);
  if (!failure.ok()) {
    if (error_.ok()) error_ = failure;
  } else {
    changes_.emplace_back(block, chunk);
  }
  ++blocks_done_;
  delivered_.notify_all();
}

void SnapshotJob::Fail(Status status) {
  std::lock_guard lock(mu_);
  if (error_.ok()) error_ = std::move(status);
}

void SnapshotJob::WaitForDeliveries() {
  // A writer may have claimed a block (taken its old content) but not yet handed it to us; the
  // capture's claim count says how many deliveries are owed.
  std::unique_lock lock(mu_);
  delivered_.wait(lock, [this] { return blocks_done_.load() >= capture_->captured(); });
}

void SnapshotJob::ReleasePins() {
  std::vector<ChunkId> pins;
  {
    std::lock_guard lock(mu_);
    pins.swap(pins_);
  }
  owner_.Unpin(pins);
}

void SnapshotJob::AbortCapture() {
  capture_->Abort();  // no block can be claimed after this
  WaitForDeliveries();
  owner_.UnregisterBase(this);
  capture_.reset();
  ReleasePins();
}

Result<SnapshotInfo> SnapshotJob::Run() {
  if (!capture_) return FailedPreconditionError("snapshot " + id_ + " already ran");
  const std::vector<uint64_t>& blocks = capture_->blocks();
  size_t threads = options_.threads > 0 ? static_cast<size_t>(options_.threads)
                                        : std::max(1u, std::thread::hardware_concurrency()) * 8;
  threads = std::min(threads, std::max<size_t>(1, blocks.size()));

  // Workers take blocks in ascending order from a shared cursor: near-sequential reads for the
  // disk, every core busy hashing and compressing, and I/O waits overlapped.
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < blocks.size(); i = next++) {
      {
        std::lock_guard lock(mu_);
        if (!error_.ok()) return;
      }
      Status s = capture_->CaptureBlock(blocks[i]);
      if (!s.ok()) {
        Fail(s.Annotate("snapshot " + id_ + " block " + std::to_string(blocks[i])));
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  return Finish();
}

Result<SnapshotInfo> SnapshotJob::Finish() {
  WaitForDeliveries();
  Status error;
  std::vector<std::pair<uint64_t, std::optional<ChunkId>>> changes;
  {
    std::lock_guard lock(mu_);
    error = error_;
    changes.swap(changes_);
  }
  if (!error.ok()) {
    AbortCapture();
    return error;
  }
  std::sort(changes.begin(), changes.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  BlockMap map = capture_->base().WithChanges(changes);
  map.set_volume_size(capture_->volume_size());
  map.set_parent(options_.parent_id);

  const std::string path = owner_.MapPath(id_);
  Status s;
  {
    std::shared_lock maps_lock(owner_.maps_mu_);
    // Every chunk is durable (each Put returned); only now may a map name them.
    s = map.WriteTo(owner_.fs_, path);
    if (s.ok()) {
      s = capture_->Commit(map, path);
      if (!s.ok()) owner_.fs_.Remove(path).IgnoreError();
    }
  }
  if (!s.ok()) {
    AbortCapture();
    return s.Annotate("snapshot " + id_);
  }
  SnapshotInfo info;
  info.id = id_;
  info.volume_size = map.volume_size();
  info.mapped_blocks = map.size();
  info.progress = progress();
  owner_.UnregisterBase(this);
  capture_.reset();
  ReleasePins();
  return info;
}

}  // namespace kiln
