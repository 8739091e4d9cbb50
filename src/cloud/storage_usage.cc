#include "cloud/storage_usage.h"

#include <algorithm>
#include <unordered_set>

namespace kiln {

Result<StorageUsage> StorageUsage::Measure(SnapshotStore& snapshots, ChunkBackend& backend) {
  StorageUsage usage;
  // Chunks get dense indexes so each map becomes a small sorted vector of ints: a hundred maps
  // of a few GiB are millions of entries, and ids (32 bytes) per entry would be 8x the memory.
  std::unordered_map<ChunkId, uint32_t, ChunkIdHash> index;
  ASSIGN_OR_RETURN(std::vector<std::string> ids, snapshots.List());
  for (const std::string& id : ids) {
    Result<BlockMap> map = snapshots.Load(id);
    if (!map.ok() && map.status().code() == Code::kNotFound) continue;  // deleted meanwhile
    if (!map.ok()) return map.status();
    std::vector<uint32_t> chunks;
    chunks.reserve(map->size());
    for (const BlockMap::Entry& e : map->entries()) {
      auto [it, added] = index.try_emplace(e.chunk, static_cast<uint32_t>(usage.refs_.size()));
      if (added) usage.refs_.push_back(0);
      chunks.push_back(it->second);
    }
    std::sort(chunks.begin(), chunks.end());
    chunks.erase(std::unique(chunks.begin(), chunks.end()), chunks.end());
    for (uint32_t c : chunks) ++usage.refs_[c];
    usage.chunks_of_[id] = std::move(chunks);
  }
  // The frames are listed after the maps are read: a chunk a read map names is live unless
  // that snapshot was deleted meanwhile, so a missing frame only ever belongs to a gone map.
  usage.sizes_.assign(usage.refs_.size(), 0);
  RETURN_IF_ERROR(backend.List([&](const ChunkId& id, uint64_t size) {
    auto it = index.find(id);
    if (it != index.end()) usage.sizes_[it->second] = size;
  }));
  return usage;
}

UsageFigures StorageUsage::Of(const std::vector<std::string>& ids) const {
  // How many snapshots of the set reference each chunk; a chunk is the set's alone when that
  // is every snapshot referencing it.
  std::unordered_map<uint32_t, uint32_t> in_set;
  std::unordered_set<std::string> seen;
  for (const std::string& id : ids) {
    if (!seen.insert(id).second) continue;
    auto it = chunks_of_.find(id);
    if (it == chunks_of_.end()) continue;
    for (uint32_t c : it->second) ++in_set[c];
  }
  UsageFigures f;
  for (const auto& [c, n] : in_set) {
    f.stored_bytes += sizes_[c];
    if (n == refs_[c]) f.unique_bytes += sizes_[c];
  }
  f.shared_bytes = f.stored_bytes - f.unique_bytes;
  return f;
}

}  // namespace kiln
