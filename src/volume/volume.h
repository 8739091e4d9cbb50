// Volume: a thin-provisioned block device of up to 16 TiB, kept in a directory.
//
// State (docs/formats/volume.md):
//   - a sparse data file holding the blocks that are local ("present");
//   - a present bitmap and a dirty bitmap, one bit per 512 KiB block;
//   - an optional base BlockMap: the snapshot the volume was created from or last snapshotted
//     into. A block that is not present reads as its base chunk, fetched from the ChunkStore on
//     first touch (lazy loading) and then kept locally.
// Invariant: a block that is not dirty holds exactly its base content (after a clean shutdown).
// Every write marks its blocks dirty (changed-block tracking), so a snapshot reads only dirty
// blocks and inherits the rest from the base.
//
// Durability (the block-device contract, as NBD and disks give it): Write/WriteZeroes are
// acknowledged durable once a later Flush() returns. Close() is a clean shutdown. Opening a
// volume that was not closed cleanly (kill -9, power loss) is detected (unclean_open()): the
// dirty map on disk is not trusted and every present block counts as dirty instead, so the
// next snapshot re-reads them all (and compares with the base) rather than miss a change.
//
// Thread-safety: Read, Write, WriteZeroes, Flush, Hydrate, Grow and capture calls may run
// concurrently from many threads at any offsets: Grow waits for the calls inside to finish and
// holds new ones off while it runs (the volume's epoch lock), so an attached volume grows under
// live I/O. A call checks its range against the size when it starts. Close must not race
// other calls.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "env/file_system.h"
#include "store/block_map.h"
#include "store/chunk_store.h"
#include "store/lineage_keys.h"

namespace kiln {

class VolumeCapture;

// Receives the content of each block a capture takes. The snapshot layer implements it.
class CaptureSink {
 public:
  virtual ~CaptureSink() = default;
  // Called exactly once per pending block of the capture, from whichever thread captured it (a
  // capture worker, or a writer that had to capture the block before overwriting it), possibly
  // concurrently. `data` is the whole block (kBlockSize bytes, zeros past the volume's end) as
  // it was at the capture's point in time. Failures are the sink's to record: the capture goes
  // on and the snapshot layer aborts it.
  virtual void OnBlockCaptured(uint64_t block, ByteView data) = 0;
};

struct VolumeStats {
  uint64_t size = 0;
  uint64_t blocks = 0;
  uint64_t present_blocks = 0;
  uint64_t dirty_blocks = 0;
  uint64_t base_blocks = 0;          // non-zero blocks of the base map
  uint64_t base_blocks_missing = 0;  // of those, not yet local (hydration still to do)
};

// What a volume directory holds, without opening it (Volume::Inspect).
struct VolumeInfo {
  uint64_t size = 0;
  LineageId lineage{};
  bool encrypted = false;
};

// The snapshot a new volume starts from (Volume::Create).
struct VolumeBase {
  const BlockMap* map = nullptr;
  std::string map_path;
};

class Volume {
 public:
  // Creates a new volume in `dir` (which must not exist). With `base` (a snapshot's map and the
  // path of its durable file), the volume starts as that snapshot and is ready at once: nothing
  // is copied, the map file is hard-linked. `size` must be >= the base's size and <= 16 TiB.
  // Without `base`, the volume is all zeros under a new random lineage.
  //
  // Encryption: with `keys`, the volume is encrypted under keys->lineage. Its data files hold
  // only AES-XTS ciphertext with integrity tags (xts_file.h, sector_tags.h), and `store` must
  // be that lineage's SealedChunkStore. Without a base the volume takes keys->lineage; with one,
  // the base must be an encrypted map of that lineage (InvalidArgument otherwise: an
  // unencrypted snapshot is re-sealed by copying it, SnapshotStore::Copy). An encrypted base
  // without keys is FailedPrecondition: encrypted data never becomes unencrypted.
  using Base = VolumeBase;
  static Result<std::unique_ptr<Volume>> Create(FileSystem& fs, ChunkStore& store,
                                                const std::string& dir, uint64_t size,
                                                Base base = {}, const LineageKeys* keys = nullptr);
  // Opens a volume `dir` holds. An encrypted volume needs the keys of its lineage: none is
  // FailedPrecondition, keys of another lineage InvalidArgument, and a wrong data key for the
  // lineage FailedPrecondition (a key check in volume.meta tells it before any data is read).
  // Keys for an unencrypted volume are InvalidArgument.
  static Result<std::unique_ptr<Volume>> Open(FileSystem& fs, ChunkStore& store,
                                              const std::string& dir,
                                              const LineageKeys* keys = nullptr);
  // Reads `dir`'s volume.meta: NotFound if there is no volume, Corruption if it is damaged.
  // Tells a caller whether Open needs keys, and of which lineage.
  static Result<VolumeInfo> Inspect(FileSystem& fs, const std::string& dir);
  ~Volume();  // does not Close: dropping an open volume is an unclean shutdown

  uint64_t size() const { return size_.load(); }
  const LineageId& lineage() const;
  bool encrypted() const;
  // The chunk store the volume fetches from (its lineage's sealed store when encrypted); its
  // snapshots store their chunks there.
  ChunkStore& chunk_store() const;
  bool unclean_open() const { return unclean_open_; }
  // The base map as of now (shared: stays valid while held even if a snapshot replaces it).
  // Never null: a volume without a base has an empty map of its lineage.
  std::shared_ptr<const BlockMap> base() const;

  // Offsets and lengths are in bytes, any alignment; a range past the end is InvalidArgument.
  // A read of a block that is not local fetches it (Corruption if its chunk is damaged: the
  // caller never gets the bad data). After Close every call is FailedPrecondition.
  Status Read(uint64_t offset, MutableByteView out);
  Status Write(uint64_t offset, ByteView data);
  // Makes [offset, offset+len) read as zeros; whole blocks are deallocated (trim).
  Status WriteZeroes(uint64_t offset, uint64_t len);
  // Makes every acknowledged write durable.
  Status Flush();
  // Grows the volume (EC2 allows enlarging, never shrinking: InvalidArgument, as is over 16
  // TiB). Durable when it returns. Not while a capture is active (FailedPrecondition).
  Status Grow(uint64_t new_size);
  // Fetches every block of the base that is not yet local, calling `progress(done, total)`
  // after each; stops early (Aborted) when `progress` returns false. `rate_bytes_per_sec` > 0
  // paces the fetches (EC2's VolumeInitializationRate) by sleeping on the steady clock; 0 means
  // as fast as possible. Blocks already local are skipped; `total` is fixed at the start.
  // Runs beside I/O and captures (it never holds the volume for longer than one block).
  Status Hydrate(uint64_t rate_bytes_per_sec,
                 const std::function<bool(uint64_t done, uint64_t total)>& progress);
  // Clean shutdown: flush, persist both bitmaps, mark clean. The volume must not be used after.
  // FailedPrecondition while a capture is active. On an I/O error the volume stays open and
  // unclean, and Close may be retried.
  Status Close();
  VolumeStats Stats() const;

  // Fixes a point in time: every dirty block (every present block after an unclean open)
  // becomes pending for `sink`, and the dirty map starts afresh. A write to a pending block
  // first captures the block's old content into `sink`. One capture at a time
  // (FailedPrecondition otherwise). The returned capture must end with Commit or Abort, before
  // the volume is closed or destroyed (a capture that outlives its volume fails its calls).
  Result<std::unique_ptr<VolumeCapture>> BeginCapture(CaptureSink& sink);

 private:
  friend class VolumeCapture;
  class Impl;
  explicit Volume(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::atomic<uint64_t> size_{0};
  bool unclean_open_ = false;
};

// A point-in-time capture of a volume, from Volume::BeginCapture. Thread-safe, but Commit and
// Abort must not be called from inside the sink (they wait for deliveries under way).
class VolumeCapture {
 public:
  ~VolumeCapture();  // aborts if neither committed nor aborted

  // Blocks pending at the point in time, ascending.
  const std::vector<uint64_t>& blocks() const;
  uint64_t volume_size() const;
  // The base map at the point in time, with the volume's size (larger than the snapshot's own
  // when the volume was restored larger or grown): the new snapshot is this plus the captured
  // blocks.
  const BlockMap& base() const;
  // Captures `block` (one of blocks(), else InvalidArgument) unless a writer or an earlier call
  // already claimed it; hands it to the sink. When it returns OK the sink has the block (it
  // waits for a writer's delivery under way), so once CaptureBlock succeeded for every block
  // the new map may be built. An error reading the block (Corruption of a lazily fetched
  // chunk, IoError) leaves it pending. FailedPrecondition once the capture ended.
  Status CaptureBlock(uint64_t block);
  // Blocks claimed so far, by CaptureBlock or by writers (progress). A claimed block is always
  // delivered to the sink, but a writer's delivery may still be under way when this counts it.
  // Abort waits for every delivery under way.
  uint64_t captured() const;

  // Every block has been captured and `new_base` (the new snapshot, durable at `map_path`) now
  // holds them: it becomes the volume's base. Blocks written since the point in time stay dirty.
  // The volume hard-links `map_path` into its directory and records it durably before this
  // returns. FailedPrecondition if a block is not yet claimed or the capture ended;
  // InvalidArgument if `new_base` is of another lineage or larger than volume_size(). On an
  // I/O error the capture stays open (Abort it).
  Status Commit(const BlockMap& new_base, const std::string& map_path);
  // The capture is dropped: every pending block is dirty again, captured ones too. Idempotent;
  // nothing is claimed or delivered after it returns.
  void Abort();

 private:
  friend class Volume;
  struct State;
  explicit VolumeCapture(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace kiln
