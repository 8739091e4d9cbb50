#include "snapshot/snapshot_store.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <thread>

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

SnapshotStore::SnapshotStore(FileSystem& fs, ChunkStore& store, std::string dir,
                             LineageKeyring* keyring)
    : fs_(fs), store_(store), dir_(std::move(dir)), keyring_(keyring) {}

SnapshotStore::~SnapshotStore() = default;

Result<std::unique_ptr<SnapshotStore>> SnapshotStore::Open(FileSystem& fs, ChunkStore& store,
                                                           std::string dir,
                                                           LineageKeyring* keyring) {
  RETURN_IF_ERROR(CreateDirs(fs, dir));
  ASSIGN_OR_RETURN(auto names, fs.ListDir(dir));
  // WriteFileAtomic's temp files ("<id>.map.tmp-N") are all a crash can leave here.
  for (const auto& name : names) {
    if (name.find(".tmp-") != std::string::npos) RETURN_IF_ERROR(fs.Remove(JoinPath(dir, name)));
  }
  return std::unique_ptr<SnapshotStore>(new SnapshotStore(fs, store, std::move(dir), keyring));
}

std::string SnapshotStore::MapPath(const std::string& id) const {
  return JoinPath(dir_, id + std::string(kMapSuffix));
}

Result<std::unique_ptr<SnapshotJob>> SnapshotStore::Start(Volume& volume, const std::string& id,
                                                          SnapshotOptions options) {
  RETURN_IF_ERROR(CheckId(id));
  if (Exists(fs_, MapPath(id))) return AlreadyExistsError("snapshot " + id + " exists");
  std::unique_ptr<SnapshotJob> job(
      new SnapshotJob(*this, volume.chunk_store(), id, std::move(options)));
  ASSIGN_OR_RETURN(job->capture_, volume.BeginCapture(*job));
  job->blocks_total_ = job->capture_->blocks().size();
  // Two snapshots with one id would race to the same map file; the job's destructor aborts
  // the capture when this fails.
  RETURN_IF_ERROR(RegisterBase(job.get(), id, &job->capture_->base()));
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
  const Volume::Base base{&map, MapPath(id)};
  if (!map.encrypted()) return Volume::Create(fs_, store_, dir, size, base);
  ASSIGN_OR_RETURN(LineageKeys keys, KeysFor(map.lineage()));
  ASSIGN_OR_RETURN(ChunkStore * store, StoreFor(map.lineage(), true));
  auto volume = Volume::Create(fs_, *store, dir, size, base, &keys);
  OPENSSL_cleanse(&keys, sizeof(keys));
  return volume;
}

Result<std::unique_ptr<Volume>> SnapshotStore::OpenVolume(const std::string& dir) {
  ASSIGN_OR_RETURN(VolumeInfo info, Volume::Inspect(fs_, dir));
  if (!info.encrypted) return Volume::Open(fs_, store_, dir);
  ASSIGN_OR_RETURN(LineageKeys keys, KeysFor(info.lineage));
  ASSIGN_OR_RETURN(ChunkStore * store, StoreFor(info.lineage, true));
  auto volume = Volume::Open(fs_, *store, dir, &keys);
  OPENSSL_cleanse(&keys, sizeof(keys));
  return volume;
}

Result<LineageKeys> SnapshotStore::KeysFor(const LineageId& lineage) {
  if (keyring_ == nullptr) {
    return FailedPreconditionError("lineage " + HexEncode(lineage) +
                                   " is encrypted and this store has no keyring");
  }
  return keyring_->Keys(lineage);
}

Result<ChunkStore*> SnapshotStore::StoreFor(const LineageId& lineage, bool encrypted) {
  if (!encrypted) return &store_;
  if (keyring_ == nullptr) {
    return FailedPreconditionError("lineage " + HexEncode(lineage) +
                                   " is encrypted and this store has no keyring");
  }
  return keyring_->Store(lineage);
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

Status SnapshotStore::RegisterBase(const void* owner, const std::string& id, const BlockMap* base) {
  std::lock_guard lock(pin_mu_);
  for (const auto& [other, in_flight] : in_flight_bases_) {
    if (in_flight.id == id) return AlreadyExistsError("snapshot " + id + " is in progress");
  }
  in_flight_bases_[owner] = InFlight{id, base};
  return Status::Ok();
}

void SnapshotStore::UnregisterBase(const void* owner) {
  std::lock_guard lock(pin_mu_);
  in_flight_bases_.erase(owner);
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
    for (const auto& [owner, in_flight] : in_flight_bases_) mark(*in_flight.base);
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

// --- Copy: CopySnapshot, sharing chunks or re-sealing them under a new encrypted lineage ---

Status SnapshotStore::WriteNewMap(const std::string& id, const BlockMap& map) {
  std::shared_lock maps_lock(maps_mu_);
  if (Exists(fs_, MapPath(id))) return AlreadyExistsError("snapshot " + id + " exists");
  // Every chunk the map names is durable (or was already referenced by the source).
  return map.WriteTo(fs_, MapPath(id));
}

Result<std::vector<BlockMap::Entry>> SnapshotStore::Reseal(const BlockMap& map, ChunkStore& source,
                                                           ChunkStore& target,
                                                           const CopyOptions& options,
                                                           std::vector<ChunkId>& pins) {
  const std::vector<BlockMap::Entry>& in = map.entries();
  std::vector<BlockMap::Entry> out(in.size());
  std::vector<ChunkId> new_ids(in.size());
  size_t threads = options.threads > 0 ? static_cast<size_t>(options.threads)
                                       : std::max(1u, std::thread::hardware_concurrency()) * 8;
  threads = std::min(threads, std::max<size_t>(1, in.size()));
  std::atomic<size_t> next{0}, done{0};
  std::mutex mu;
  Status error;  // guarded by mu
  auto fail = [&](Status s) {
    std::lock_guard lock(mu);
    if (error.ok()) error = std::move(s);
  };
  auto failed = [&] {
    std::lock_guard lock(mu);
    return !error.ok();
  };
  auto worker = [&] {
    for (size_t i = next++; i < in.size() && !failed(); i = next++) {
      auto plain = source.Get(in[i].chunk);  // opened and verified by the source store
      if (!plain.ok()) {
        return fail(plain.status().Annotate("copying block " + std::to_string(in[i].block)));
      }
      const ChunkId id = target.IdFor(*plain);
      Pin(id);  // before the store decides between writing and reusing (as SnapshotJob)
      new_ids[i] = id;
      auto put = target.PutWithId(id, *plain);
      OPENSSL_cleanse(plain->data(), plain->size());
      if (!put.ok()) {
        return fail(put.status().Annotate("copying block " + std::to_string(in[i].block)));
      }
      out[i] = BlockMap::Entry{in[i].block, id};
      const uint64_t n = ++done;
      if (options.progress && !options.progress(n, in.size())) {
        return fail(AbortedError("copy stopped"));
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  for (size_t i = 0; i < in.size(); ++i) {
    if (new_ids[i] != ChunkId{}) pins.push_back(new_ids[i]);
  }
  if (!error.ok()) return error;
  return out;
}

Result<BlockMap> SnapshotStore::Copy(const std::string& source, const std::string& id,
                                     const CopyOptions& options) {
  RETURN_IF_ERROR(CheckId(id));
  ASSIGN_OR_RETURN(BlockMap map, Load(source));
  if (Exists(fs_, MapPath(id))) return AlreadyExistsError("snapshot " + id + " exists");
  if (options.encrypt_to == nullptr) {
    RETURN_IF_ERROR(WriteNewMap(id, map));
    return map;
  }
  const LineageKeys& keys = *options.encrypt_to;
  if (keys.lineage == map.lineage()) {
    return InvalidArgumentError("re-sealing needs a new lineage, not the source's own");
  }
  ASSIGN_OR_RETURN(ChunkStore * from, StoreFor(map.lineage(), map.encrypted()));
  ASSIGN_OR_RETURN(ChunkStore * to, StoreFor(keys.lineage, true));
  // The source map stays live while its chunks are read, even if it is deleted meanwhile.
  RETURN_IF_ERROR(RegisterBase(&map, id, &map));
  std::vector<ChunkId> pins;
  auto entries = Reseal(map, *from, *to, options, pins);
  BlockMap copy(map.volume_size(), keys.lineage, map.parent(), /*encrypted=*/true);
  Status s = entries.status();
  if (s.ok()) {
    copy = copy.WithChanges([&] {
      std::vector<std::pair<uint64_t, std::optional<ChunkId>>> changes;
      changes.reserve(entries->size());
      for (const auto& e : *entries) changes.emplace_back(e.block, e.chunk);
      return changes;
    }());
    s = WriteNewMap(id, copy);
  }
  UnregisterBase(&map);
  Unpin(pins);
  if (!s.ok()) return s.Annotate("copying snapshot " + source + " to " + id);
  return copy;
}

}  // namespace kiln
