// BlockMap: which chunk holds each 512 KiB block of a volume. A snapshot is a BlockMap written
// to a file; a volume keeps the map it was last snapshotted from (or restored from) as its base.
//
// Blocks absent from the map are all zeros: zero blocks are never stored. A map also records
// the volume size in bytes, the lineage it belongs to (16 bytes shared by every volume and
// snapshot descended from one original volume; the key scope of encryption later) and its
// parent snapshot id (empty for a first snapshot), and whether the lineage is encrypted.
//
// File format (docs/formats/snapshot.md): header, entries sorted by block index, SHA-256
// trailer. Write is atomic and durable (WriteFileAtomic); Load validates everything and
// returns Corruption for any damage, never a partial map.
//
// Thread-safety: a const BlockMap may be read from many threads; mutation is single-threaded.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "env/file_system.h"
#include "store/chunk_id.h"

namespace kiln {

inline constexpr uint64_t kBlockSize = 512 * 1024;
inline constexpr uint64_t kMaxVolumeSize = 16ULL << 40;  // 16 TiB, as EBS

using LineageId = std::array<uint8_t, 16>;

inline uint64_t BlockCount(uint64_t volume_size) {
  return (volume_size + kBlockSize - 1) / kBlockSize;
}

class BlockMap {
 public:
  struct Entry {
    uint64_t block;
    ChunkId chunk;
    bool operator==(const Entry&) const = default;
  };

  BlockMap() = default;
  BlockMap(uint64_t volume_size, LineageId lineage, std::string parent, bool encrypted = false)
      : volume_size_(volume_size),
        lineage_(lineage),
        parent_(std::move(parent)),
        encrypted_(encrypted) {}

  uint64_t volume_size() const { return volume_size_; }
  uint64_t block_count() const { return BlockCount(volume_size_); }
  const LineageId& lineage() const { return lineage_; }
  const std::string& parent() const { return parent_; }
  // The lineage is encrypted: its chunks are sealed (SealedChunkStore) under the lineage's keys.
  bool encrypted() const { return encrypted_; }
  void set_volume_size(uint64_t size);  // grow; shrinking drops entries past the new end
  void set_parent(std::string parent) { parent_ = std::move(parent); }

  // The chunk of `block`, or nullopt when the block is zero. O(log n).
  std::optional<ChunkId> Find(uint64_t block) const;
  // Sets (chunk) or clears (nullopt: zero) the block. O(n) worst case for inserts in the middle;
  // bulk builders use Builder.
  void Set(uint64_t block, std::optional<ChunkId> chunk);

  const std::vector<Entry>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }

  // Returns this map with `changes` applied (chunk or zero per block), in one merge pass.
  // `changes` must be sorted by block and unique.
  BlockMap WithChanges(
      const std::vector<std::pair<uint64_t, std::optional<ChunkId>>>& changes) const;

  // Block indexes whose chunk differs between a and b (a block absent in one and present in the
  // other counts). Sorted. The maps must share a lineage (InvalidArgument otherwise), as EBS's
  // ListChangedBlocks requires.
  static Result<std::vector<uint64_t>> Diff(const BlockMap& a, const BlockMap& b);

  Bytes Serialize() const;
  static Result<BlockMap> Parse(ByteView bytes);                  // Corruption on any damage
  Status WriteTo(FileSystem& fs, const std::string& path) const;  // atomic + durable
  static Result<BlockMap> Load(FileSystem& fs, const std::string& path);

  bool operator==(const BlockMap&) const = default;

 private:
  uint64_t volume_size_ = 0;
  LineageId lineage_{};
  std::string parent_;
  bool encrypted_ = false;
  std::vector<Entry> entries_;  // sorted by block, unique
};

}  // namespace kiln
