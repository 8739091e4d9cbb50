#include "store/block_map.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "crypto/sha256.h"

namespace kiln {
namespace {

constexpr uint8_t kMagic[4] = {'K', 'L', 'N', 'M'};
constexpr uint32_t kVersion = 1;
// magic, version, block_size, flags, volume_size, entry_count, lineage, parent_len.
constexpr size_t kFixedHeaderSize = 4 + 4 + 4 + 4 + 8 + 8 + 16 + 2;
constexpr size_t kEntrySize = 8 + 32;
constexpr size_t kTrailerSize = 32;
constexpr size_t kMaxParentLength = 255;

std::string Num(uint64_t v) { return std::to_string(v); }

Status Bad(const std::string& what) { return CorruptionError("block map: " + what); }

bool IsValidParent(std::string_view parent) {
  if (parent.size() > kMaxParentLength) return false;
  return std::all_of(parent.begin(), parent.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

bool BlockLess(const BlockMap::Entry& e, uint64_t block) { return e.block < block; }

// The fixed header fields Parse checks before trusting any length in the file.
struct Header {
  uint64_t volume_size;
  uint64_t entry_count;
  LineageId lineage;
  std::string parent;
  size_t entries_offset;
  bool encrypted;
};

constexpr uint32_t kFlagEncrypted = 1;

Result<Header> ParseHeader(ByteView b) {
  if (b.size() < kFixedHeaderSize + kTrailerSize) {
    return Bad("file too short (" + Num(b.size()) + " bytes, the smallest map has " +
               Num(kFixedHeaderSize + kTrailerSize) + ")");
  }
  const uint8_t* p = b.data();
  if (std::memcmp(p, kMagic, 4) != 0) return Bad("wrong magic (not a kiln block map)");
  const uint32_t version = GetU32(p + 4);
  if (version != kVersion) {
    return Bad("unknown version " + Num(version) + " (this build reads version " + Num(kVersion) +
               ")");
  }
  const uint32_t block_size = GetU32(p + 8);
  if (block_size != kBlockSize) {
    return Bad("block size " + Num(block_size) + ", expected " + Num(kBlockSize));
  }
  const uint32_t flags = GetU32(p + 12);
  if ((flags & ~kFlagEncrypted) != 0) return Bad("unknown flags " + Num(flags));
  Header h;
  h.encrypted = (flags & kFlagEncrypted) != 0;
  h.volume_size = GetU64(p + 16);
  if (h.volume_size > kMaxVolumeSize) {
    return Bad("volume size " + Num(h.volume_size) + " is beyond the 16 TiB limit");
  }
  h.entry_count = GetU64(p + 24);
  std::memcpy(h.lineage.data(), p + 32, 16);
  const uint16_t parent_len = static_cast<uint16_t>(p[48] | (p[49] << 8));
  if (parent_len > kMaxParentLength) return Bad("parent id of " + Num(parent_len) + " bytes");
  h.entries_offset = kFixedHeaderSize + parent_len;
  const uint64_t room = b.size() - kTrailerSize;  // >= kFixedHeaderSize, checked above
  if (h.entries_offset > room || h.entry_count > (room - h.entries_offset) / kEntrySize ||
      h.entries_offset + h.entry_count * kEntrySize != room) {
    return Bad("entry count " + Num(h.entry_count) + " does not match the file length " +
               Num(b.size()));
  }
  h.parent.assign(reinterpret_cast<const char*>(p + kFixedHeaderSize), parent_len);
  if (!IsValidParent(h.parent)) return Bad("parent id is not printable ASCII");
  return h;
}

}  // namespace

void BlockMap::set_volume_size(uint64_t size) {
  volume_size_ = size;
  const uint64_t count = block_count();
  entries_.erase(std::lower_bound(entries_.begin(), entries_.end(), count, BlockLess),
                 entries_.end());
}

std::optional<ChunkId> BlockMap::Find(uint64_t block) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), block, BlockLess);
  if (it == entries_.end() || it->block != block) return std::nullopt;
  return it->chunk;
}

void BlockMap::Set(uint64_t block, std::optional<ChunkId> chunk) {
  assert(block < block_count() && "block beyond the volume");
  auto it = std::lower_bound(entries_.begin(), entries_.end(), block, BlockLess);
  const bool found = it != entries_.end() && it->block == block;
  if (chunk.has_value()) {
    if (found) {
      it->chunk = *chunk;
    } else {
      entries_.insert(it, Entry{block, *chunk});
    }
  } else if (found) {
    entries_.erase(it);
  }
}

BlockMap BlockMap::WithChanges(
    const std::vector<std::pair<uint64_t, std::optional<ChunkId>>>& changes) const {
  BlockMap out(volume_size_, lineage_, parent_, encrypted_);
  out.entries_.reserve(entries_.size() + changes.size());
  auto old = entries_.begin();
  for (const auto& [block, chunk] : changes) {
    assert(block < block_count() && "change beyond the volume");
    while (old != entries_.end() && old->block < block) out.entries_.push_back(*old++);
    if (old != entries_.end() && old->block == block) ++old;  // replaced or cleared
    if (chunk.has_value()) out.entries_.push_back(Entry{block, *chunk});
  }
  out.entries_.insert(out.entries_.end(), old, entries_.end());
  return out;
}

Result<std::vector<uint64_t>> BlockMap::Diff(const BlockMap& a, const BlockMap& b) {
  if (a.lineage_ != b.lineage_) {
    return InvalidArgumentError("cannot diff block maps of different lineages");
  }
  std::vector<uint64_t> changed;
  auto x = a.entries_.begin(), y = b.entries_.begin();
  while (x != a.entries_.end() || y != b.entries_.end()) {
    if (y == b.entries_.end() || (x != a.entries_.end() && x->block < y->block)) {
      changed.push_back((x++)->block);
    } else if (x == a.entries_.end() || y->block < x->block) {
      changed.push_back((y++)->block);
    } else {
      if (x->chunk != y->chunk) changed.push_back(x->block);
      ++x, ++y;
    }
  }
  return changed;
}

Bytes BlockMap::Serialize() const {
  Bytes out;
  out.reserve(kFixedHeaderSize + parent_.size() + entries_.size() * kEntrySize + kTrailerSize);
  out.insert(out.end(), kMagic, kMagic + 4);
  AppendU32(out, kVersion);
  AppendU32(out, static_cast<uint32_t>(kBlockSize));
  AppendU32(out, encrypted_ ? kFlagEncrypted : 0);  // flags
  AppendU64(out, volume_size_);
  AppendU64(out, entries_.size());
  out.insert(out.end(), lineage_.begin(), lineage_.end());
  out.push_back(static_cast<uint8_t>(parent_.size()));
  out.push_back(static_cast<uint8_t>(parent_.size() >> 8));
  out.insert(out.end(), parent_.begin(), parent_.end());
  for (const Entry& e : entries_) {
    AppendU64(out, e.block);
    out.insert(out.end(), e.chunk.bytes.begin(), e.chunk.bytes.end());
  }
  const Digest256 digest = Sha256(out);
  out.insert(out.end(), digest.begin(), digest.end());
  return out;
}

Result<BlockMap> BlockMap::Parse(ByteView bytes) {
  ASSIGN_OR_RETURN(Header h, ParseHeader(bytes));
  const size_t body = bytes.size() - kTrailerSize;
  const Digest256 digest = Sha256(bytes.first(body));
  if (std::memcmp(digest.data(), bytes.data() + body, kTrailerSize) != 0) {
    return Bad("checksum mismatch (the file is damaged)");
  }
  BlockMap map(h.volume_size, h.lineage, std::move(h.parent), h.encrypted);
  const uint64_t count = map.block_count();
  map.entries_.resize(h.entry_count);
  const uint8_t* p = bytes.data() + h.entries_offset;
  for (uint64_t i = 0; i < h.entry_count; ++i, p += kEntrySize) {
    Entry& e = map.entries_[i];
    e.block = GetU64(p);
    std::memcpy(e.chunk.bytes.data(), p + 8, 32);
    if (e.block >= count) {
      return Bad("entry " + Num(i) + " names block " + Num(e.block) + ", the volume has " +
                 Num(count));
    }
    if (i > 0 && e.block <= map.entries_[i - 1].block) {
      return Bad("entry " + Num(i) + " (block " + Num(e.block) +
                 ") is not after the previous one: entries unsorted or duplicated");
    }
  }
  return map;
}

Status BlockMap::WriteTo(FileSystem& fs, const std::string& path) const {
  // Refuse to write what Parse would reject: a map that cannot be read back is lost data.
  if (volume_size_ > kMaxVolumeSize) {
    return InvalidArgumentError("block map: volume size " + Num(volume_size_) + " beyond 16 TiB");
  }
  if (!IsValidParent(parent_)) {
    return InvalidArgumentError("block map: parent id must be <= 255 printable ASCII characters");
  }
  if (!entries_.empty() && entries_.back().block >= block_count()) {
    return InvalidArgumentError("block map: entry beyond the volume size");
  }
  return WriteFileAtomic(fs, path, Serialize());
}

Result<BlockMap> BlockMap::Load(FileSystem& fs, const std::string& path) {
  ASSIGN_OR_RETURN(Bytes bytes, ReadFile(fs, path));
  Result<BlockMap> map = Parse(bytes);
  if (!map.ok()) return map.status().Annotate(path);
  return map;
}

}  // namespace kiln
