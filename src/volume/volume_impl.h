// Volume::Impl and VolumeCapture::State: the internals of volume.h, shared by volume.cc
// (create, open, flush, grow, close), volume_io.cc (reads, writes, lazy fetch, hydration) and
// volume_capture.cc (point-in-time captures). Not part of any contract outside src/volume.
//
// Locking, outermost first:
//   - epoch_ (EpochLock): shared by every I/O call, Flush, Stats and CaptureBlock for their
//     duration; exclusive by BeginCapture, Grow and the end of a capture. Holding it shared
//     keeps the bitmaps' sizes and capture_ fixed.
//   - flush_mu_: one Flush at a time, so a Flush that returns has written every present bit
//     taken by any Flush before it.
//   - block stripes: a block's fetch, its writes while not present, and its capture.
//   - meta_mu_, base_mu_: leaves.
// Content rule: present_[b] -> the data file holds block b; else block b is its base chunk, or
// zeros. A present bit is set only after the data it covers is in the file, and persisted only
// after that data is durable.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "volume/bitmap.h"
#include "volume/epoch_lock.h"
#include "volume/volume.h"
#include "volume/volume_meta.h"

namespace kiln {

inline constexpr char kVolumeMetaFile[] = "volume.meta";
// The data lives in segment files of 8 TiB ("data", "data.1"): ext4 caps a file at 16 TiB
// minus 4 KiB, one page short of the largest volume.
inline constexpr uint64_t kDataSegmentBytes = 8ULL << 40;
static_assert(kDataSegmentBytes % kBlockSize == 0, "a block never straddles two segments");
inline uint64_t DataSegmentCount(uint64_t size) {
  return (size + kDataSegmentBytes - 1) / kDataSegmentBytes;
}
inline uint64_t DataSegmentBytes(uint64_t size, uint64_t segment) {
  return std::min(kDataSegmentBytes, size - segment * kDataSegmentBytes);
}
std::string DataSegmentName(uint64_t segment);  // "data", "data.1", ...
// An encrypted volume's sector tags and write intents of each segment: "tags", "tags.1", ...
// and "intent", "intent.1", ... (sector_tags.h).
std::string TagsFileName(uint64_t segment);
std::string IntentFileName(uint64_t segment);
// Opens data segment `segment` of `bytes` bytes (`mode`: kCreateExclusive at Create, kCreate
// at Grow, kReadWrite at Open). With `keys` it is an XtsFile with its sector tags, recovered
// (SectorTags::Recover) if writes were under way at a crash.
Result<std::unique_ptr<File>> OpenDataSegment(FileSystem& fs, const std::string& dir,
                                              uint64_t segment, uint64_t bytes, OpenMode mode,
                                              const LineageKeys* keys);
// The key check volume.meta records for an encrypted volume.
std::array<uint8_t, 16> KeyCheck(const LineageKeys& keys);
inline constexpr char kVolumePresentFile[] = "present";
inline constexpr char kVolumeDirtyFile[] = "dirty";

struct VolumeCapture::State {
  std::atomic<Volume::Impl*> volume{nullptr};  // null once the volume is gone
  CaptureSink* sink = nullptr;
  std::vector<uint64_t> blocks;  // pending at the point in time, ascending
  Bitmap pending;                // those not yet claimed
  // Claimed blocks whose delivery to the sink has returned; CaptureBlock waits on it for a
  // block a writer claimed.
  std::mutex delivery_mu;
  std::condition_variable delivery_cv;
  Bitmap delivered;  // guarded by delivery_mu
  uint64_t volume_size = 0;
  std::shared_ptr<const BlockMap> base;
  std::atomic<uint64_t> claimed{0};
  std::atomic<bool> finished{false};  // committed or aborted; set under the exclusive epoch
  std::mutex end_mu;                  // one Commit or Abort at a time
};

class Volume::Impl {
 public:
  struct Files {
    std::vector<std::unique_ptr<File>> data;  // segments
    std::unique_ptr<File> present, dirty;
  };
  struct Parts {
    VolumeMeta meta;
    Files files;
    Bitmap present, dirty;
    std::shared_ptr<const BlockMap> base;  // never null: an empty map when there is no base
    bool unclean = false;                  // opened after an unclean shutdown
    std::unique_ptr<LineageKeys> keys;     // set for an encrypted volume
  };
  Impl(FileSystem& fs, ChunkStore& store, std::string dir, Parts parts);
  ~Impl();

  // volume.cc
  static Result<std::unique_ptr<Impl>> Create(FileSystem& fs, ChunkStore& store,
                                              const std::string& dir, uint64_t size,
                                              const Volume::Base& base, const LineageKeys* keys);
  static Result<std::unique_ptr<Impl>> Open(FileSystem& fs, ChunkStore& store,
                                            const std::string& dir, const LineageKeys* keys);
  uint64_t size() const { return size_.load(); }
  const LineageId& lineage() const { return lineage_; }
  bool encrypted() const { return keys_ != nullptr; }
  ChunkStore& chunk_store() const { return store_; }
  bool unclean_open() const { return unclean_open_; }
  std::shared_ptr<const BlockMap> base() const;
  Status Flush();
  Status Grow(uint64_t new_size);
  Status Close();
  VolumeStats Stats();

  // volume_io.cc
  Status Read(uint64_t offset, MutableByteView out);
  Status Write(uint64_t offset, ByteView data);
  Status WriteZeroes(uint64_t offset, uint64_t len);
  Status Hydrate(uint64_t rate_bytes_per_sec,
                 const std::function<bool(uint64_t done, uint64_t total)>& progress);

  // volume_capture.cc
  Result<std::unique_ptr<VolumeCapture>> BeginCapture(CaptureSink& sink);
  Status CaptureBlock(VolumeCapture::State& capture, uint64_t block);
  Status Commit(VolumeCapture::State& capture, const BlockMap& new_base,
                const std::string& map_path);
  void Abort(VolumeCapture::State& capture);

 private:
  static constexpr size_t kStripes = 1024;

  // One block's share of a write: [begin, begin + len) of block `block`; `data` holds len
  // bytes, or is empty for zeroes.
  struct BlockWrite {
    uint64_t block;
    uint64_t begin;
    uint64_t len;
    ByteView data;
  };

  Status CheckOpen() const;
  Status CheckRange(uint64_t offset, uint64_t len) const;
  std::mutex& BlockLock(uint64_t block) { return stripes_[block % kStripes]; }
  uint64_t BlockBytes(uint64_t block) const;  // bytes of the block inside the volume

  // volume.cc
  Status WriteMeta(const VolumeMeta& meta);  // requires meta_mu_; updates meta_ on success
  Status FlushFiles();
  Status GrowDataFiles(uint64_t new_size);  // requires the exclusive epoch
  Status Save(Bitmap& bitmap, File& file);  // takes, writes and syncs the changed pages

  // volume_io.cc
  // The data file holding `block`, and the offset of byte `begin` of the block in it.
  File& DataFile(uint64_t block) { return *files_.data[block * kBlockSize / kDataSegmentBytes]; }
  static uint64_t DataOffset(uint64_t block, uint64_t begin) {
    return block * kBlockSize % kDataSegmentBytes + begin;
  }
  Status ReadData(uint64_t block, uint64_t begin, MutableByteView out);
  Status ReadBlock(uint64_t block, uint64_t begin, MutableByteView out);
  Status WriteBlock(const BlockWrite& w);
  Status WriteBlockLocked(const BlockWrite& w);
  Status Apply(const BlockWrite& w);
  Result<Bytes> FetchChunk(uint64_t block, const ChunkId& id);
  // Requires the block's lock and the block not present: puts its base content (the chunk, or
  // zeros) in the data file. `content`, if given, receives it (kBlockSize bytes).
  Status MaterializeLocked(uint64_t block, const std::optional<ChunkId>& chunk, Bytes* content);
  // Requires the block's lock: the whole block as it reads now, zero-padded to kBlockSize.
  Status ReadFullBlockLocked(uint64_t block, Bytes& out);
  Status HydrateBlock(uint64_t block);
  // Hands a claimed block to the capture's sink and records the delivery.
  static void Deliver(VolumeCapture::State& capture, uint64_t block, const Bytes& data);

  FileSystem& fs_;
  ChunkStore& store_;
  const std::string dir_;
  const std::unique_ptr<LineageKeys> keys_;  // null for an unencrypted volume; wiped at the end
  const LineageId lineage_;
  const bool unclean_open_;

  std::mutex meta_mu_;
  VolumeMeta meta_;           // as last written; guarded by meta_mu_
  uint64_t next_generation_;  // of the next base link; never reused in a process; meta_mu_

  Files files_;
  Bitmap present_;
  Bitmap dirty_;
  std::atomic<uint64_t> size_;

  mutable std::mutex base_mu_;
  std::shared_ptr<const BlockMap> base_;  // guarded by base_mu_; never null

  EpochLock epoch_;
  std::mutex flush_mu_;
  std::array<std::mutex, kStripes> stripes_;
  std::shared_ptr<VolumeCapture::State> capture_;  // guarded by epoch_
  std::atomic<bool> closed_{false};
};

}  // namespace kiln
