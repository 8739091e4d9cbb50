#include "snapshot/snapshot_store.h"

#include <algorithm>

namespace kiln {
namespace {

constexpr std::string_view kMapSuffix = ".map";

bool ValidId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

Status CheckId(const std::string& id) {
  if (!ValidId(id)) return InvalidArgumentError("bad snapshot id '" + id + "'");
  return Status::Ok();
}

}  // namespace

SnapshotStore::SnapshotStore(FileSystem& fs, ChunkStore& store, std::string dir)
    : fs_(fs), store_(store), dir_(std::move(dir)) {}

SnapshotStore::~SnapshotStore() = default;

Result<std::unique_ptr<SnapshotStore>> SnapshotStore::Open(FileSystem& fs, ChunkStore& store,
                                                           std::string dir) {
  RETURN_IF_ERROR(CreateDirs(fs, dir));
  ASSIGN_OR_RETURN(auto names, fs.ListDir(dir));
  // WriteFileAtomic's temp files ("<id>.map.tmp-N") are all a crash can leave here.
  for (const auto& name : names) {
    if (name.find(".tmp-") != std::string::npos) RETURN_IF_ERROR(fs.Remove(JoinPath(dir, name)));
  }
  return std::unique_ptr<SnapshotStore>(new SnapshotStore(fs, store, std::move(dir)));
}

std::string SnapshotStore::MapPath(const std::string& id) const {
  return JoinPath(dir_, id + std::string(kMapSuffix));
}

Result<std::unique_ptr<SnapshotJob>> SnapshotStore::Start(Volume& volume, const std::string& id,
                                                          SnapshotOptions options) {
  RETURN_IF_ERROR(CheckId(id));
  if (Exists(fs_, MapPath(id))) return AlreadyExistsError("snapshot " + id + " exists");
  std::unique_ptr<SnapshotJob> job(new SnapshotJob(*this, id, std::move(options)));
  ASSIGN_OR_RETURN(job->capture_, volume.BeginCapture(*job));
  job->blocks_total_ = job->capture_->blocks().size();
  // Two snapshots with one id would race to the same map file; the job's destructor aborts
  // the capture when this fails.
  RETURN_IF_ERROR(RegisterBase(job.get(), &job->capture_->base()));
  return job;
}

Result<BlockMap> SnapshotStore::Load(const std::string& id) {
  RETURN_IF_ERROR(CheckId(id));
  auto map = BlockMap::Load(fs_, MapPath(id));
  if (!map.ok()) return map.status().Annotate("snapshot " + id);
  return map;
}

Result<std::vector<std::string>> SnapshotStore::List() {
  ASSIGN_OR_RETURN(auto names, fs_.ListDir(dir_));
  std::vector<std::string> ids;
  for (const auto& name : names) {
    if (name.size() > kMapSuffix.size() && name.ends_with(kMapSuffix)) {
      ids.push_back(name.substr(0, name.size() - kMapSuffix.size()));
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

Status SnapshotStore::Delete(const std::string& id) {
  RETURN_IF_ERROR(CheckId(id));
  std::shared_lock maps_lock(maps_mu_);
  Status s = fs_.Remove(MapPath(id));
  if (!s.ok())
    return s.code() == Code::kNotFound ? NotFoundError("snapshot " + id + " not found") : s;
  return fs_.SyncDir(dir_);
}

Result<std::vector<uint64_t>> SnapshotStore::Diff(const std::string& a, const std::string& b) {
  ASSIGN_OR_RETURN(BlockMap ma, Load(a));
  ASSIGN_OR_RETURN(BlockMap mb, Load(b));
  return BlockMap::Diff(ma, mb);
}

Result<std::unique_ptr<Volume>> SnapshotStore::CreateVolume(const std::string& id,
                                                            const std::string& dir, uint64_t size) {
  ASSIGN_OR_RETURN(BlockMap map, Load(id));
  if (size == 0) size = map.volume_size();
  if (size < map.volume_size()) {
    return InvalidArgumentError("volume size " + std::to_string(size) +
                                " is smaller than snapshot " + id + " (" +
                                std::to_string(map.volume_size()) + ")");
  }
  return Volume::Create(fs_, store_, dir, size, Volume::Base{&map, MapPath(id)});
}

void SnapshotStore::Pin(const ChunkId& id) {
  std::lock_guard lock(pin_mu_);
  ++pinned_[id];
  if (gc_running_) gc_touched_.insert(id);
}

void SnapshotStore::Unpin(const std::vector<ChunkId>& ids) {
  std::lock_guard lock(pin_mu_);
  for (const auto& id : ids) {
    auto it = pinned_.find(id);
    if (it != pinned_.end() && --it->second == 0) pinned_.erase(it);
  }
}

Status SnapshotStore::RegisterBase(const SnapshotJob* job, const BlockMap* base) {
  std::lock_guard lock(pin_mu_);
  for (const auto& [other, other_base] : in_flight_bases_) {
    if (other->id() == job->id())
      return AlreadyExistsError("snapshot " + job->id() + " is in progress");
  }
  in_flight_bases_[job] = base;
  return Status::Ok();
}

void SnapshotStore::UnregisterBase(const SnapshotJob* job) {
  std::lock_guard lock(pin_mu_);
  in_flight_bases_.erase(job);
}

Result<GcStats> SnapshotStore::CollectGarbage(const GcRoots& roots) {
  std::lock_guard gc_lock(gc_mu_);
  // From here until the sweep ends, every pin is remembered even after it is released: a
  // snapshot that pins a chunk and then writes its map after we listed the maps is invisible
  // to the mark phase, and only this record keeps its chunks.
  {
    std::lock_guard lock(pin_mu_);
    gc_running_ = true;
    for (const auto& [id, count] : pinned_) gc_touched_.insert(id);
  }
  struct EndGc {
    SnapshotStore* self;
    ~EndGc() {
      std::lock_guard lock(self->pin_mu_);
      self->gc_running_ = false;
      self->gc_touched_.clear();
    }
  } end_gc{this};

  std::unordered_set<ChunkId, ChunkIdHash> live;
  auto mark = [&live](const BlockMap& map) {
    for (const auto& e : map.entries()) live.insert(e.chunk);
  };
  {
    std::unique_lock maps_lock(maps_mu_);
    ASSIGN_OR_RETURN(auto ids, List());
    for (const auto& id : ids) {
      ASSIGN_OR_RETURN(BlockMap map, Load(id));
      mark(map);
    }
    // A base is unregistered (under pin_mu_) before its capture is destroyed.
    std::lock_guard lock(pin_mu_);
    for (const auto& [job, base] : in_flight_bases_) mark(*base);
  }
  for (const auto& path : roots.map_paths) {
    ASSIGN_OR_RETURN(BlockMap map, BlockMap::Load(fs_, path));
    mark(map);
  }
  for (const auto& map : roots.maps) mark(*map);

  GcStats stats;
  stats.live_chunks = live.size();
  std::vector<ChunkId> candidates;
  RETURN_IF_ERROR(store_.List([&](const ChunkId& id) {
    ++stats.scanned_chunks;
    if (!live.contains(id)) candidates.push_back(id);
  }));
  for (const auto& id : candidates) {
    // Deleting under pin_mu_ makes "not pinned" and "deleted" one step for a concurrent Pin.
    std::lock_guard lock(pin_mu_);
    if (pinned_.contains(id) || gc_touched_.contains(id)) {
      ++stats.kept_pinned;
      continue;
    }
    RETURN_IF_ERROR(store_.Delete(id));
    ++stats.deleted_chunks;
  }
  return stats;
}

}  // namespace kiln
