#include "cloud/storage.h"

#include <openssl/crypto.h>

#include <filesystem>
#include <system_error>

#include "store/block_map.h"

namespace kiln {

Result<std::unique_ptr<Storage>> Storage::Open(FileSystem& fs, Clock& clock,
                                               const std::string& data_dir,
                                               const std::string& region) {
  std::unique_ptr<Storage> s(new Storage(fs, data_dir));
  RETURN_IF_ERROR(CreateDirs(fs, JoinPath(data_dir, "volumes")));
  RETURN_IF_ERROR(CreateDirs(fs, s->scratch_dir()));
  ASSIGN_OR_RETURN(s->backend_, LocalDirBackend::Open(fs, JoinPath(data_dir, "chunks")));
  s->store_ = std::make_unique<ContentChunkStore>(*s->backend_);
  ASSIGN_OR_RETURN(s->kms_, KeyService::Open(fs, clock, JoinPath(data_dir, "kms"), region));
  s->keyring_ = std::make_unique<KmsKeyring>(*s->kms_, *s->backend_);
  ASSIGN_OR_RETURN(
      s->snapshots_,
      SnapshotStore::Open(fs, *s->store_, JoinPath(data_dir, "snapshots"), s->keyring_.get()));
  // Every volume is opened now: open volumes' base maps are the garbage collector's roots, so
  // a chunk only a volume still uses is never freed.
  ASSIGN_OR_RETURN(std::vector<std::string> names, fs.ListDir(JoinPath(data_dir, "volumes")));
  for (const std::string& name : names) {
    RETURN_IF_ERROR(s->GetVolume(name).status());
  }
  return s;
}

Storage::~Storage() {
  std::lock_guard lock(mu_);
  for (auto& [id, volume] : volumes_) volume->Close().IgnoreError();
}

std::string Storage::scratch_dir() const { return JoinPath(data_dir_, "scratch"); }

std::string Storage::VolumeDir(const std::string& volume_id) const {
  return JoinPath(JoinPath(data_dir_, "volumes"), volume_id);
}

Result<Volume*> Storage::CreateVolume(const std::string& volume_id, const std::string& snapshot_id,
                                      int64_t size_gib) {
  std::lock_guard lock(mu_);
  if (volumes_.count(volume_id)) return AlreadyExistsError("volume " + volume_id + " exists");
  const uint64_t size = static_cast<uint64_t>(size_gib) * kGiB;
  std::unique_ptr<Volume> volume;
  if (snapshot_id.empty()) {
    ASSIGN_OR_RETURN(volume, Volume::Create(fs_, *store_, VolumeDir(volume_id), size));
  } else {
    ASSIGN_OR_RETURN(volume, snapshots_->CreateVolume(snapshot_id, VolumeDir(volume_id), size));
  }
  Volume* raw = volume.get();
  volumes_[volume_id] = std::move(volume);
  return raw;
}

Result<Volume*> Storage::Adopt(const std::string& volume_id, std::unique_ptr<Volume> volume) {
  std::lock_guard lock(mu_);
  if (volumes_.count(volume_id)) {
    volume->Close().IgnoreError();
    return AlreadyExistsError("volume " + volume_id + " exists");
  }
  Volume* raw = volume.get();
  volumes_[volume_id] = std::move(volume);
  return raw;
}

Result<bool> Storage::SealedBy(const std::string& snapshot_id, const std::string& key_id) {
  ASSIGN_OR_RETURN(BlockMap map, snapshots_->Load(snapshot_id));
  if (!map.encrypted()) return false;
  ASSIGN_OR_RETURN(WrappedDataKey wrapped, kms_->LoadLineageKey(map.lineage()));
  return wrapped.master_key_id == key_id;
}

Result<Volume*> Storage::CreateEncryptedVolume(const std::string& volume_id,
                                               const std::string& snapshot_id, int64_t size_gib,
                                               const std::string& account,
                                               const std::string& key_ref) {
  {
    std::lock_guard lock(mu_);
    if (volumes_.count(volume_id)) return AlreadyExistsError("volume " + volume_id + " exists");
  }
  ASSIGN_OR_RETURN(KeyMetadata key, kms_->DescribeKey(account, key_ref));
  const uint64_t size = static_cast<uint64_t>(size_gib) * kGiB;
  const std::string dir = VolumeDir(volume_id);
  if (!snapshot_id.empty()) {
    ASSIGN_OR_RETURN(bool sealed, SealedBy(snapshot_id, key.key_id));
    if (sealed) {
      ASSIGN_OR_RETURN(std::unique_ptr<Volume> volume,
                       snapshots_->CreateVolume(snapshot_id, dir, size));
      return Adopt(volume_id, std::move(volume));
    }
  }
  ASSIGN_OR_RETURN(LineageKeys keys, keyring_->NewLineage(account, key.arn));
  if (snapshot_id.empty()) {
    Result<ChunkStore*> store = keyring_->Store(keys.lineage);
    Result<std::unique_ptr<Volume>> volume =
        store.ok() ? Volume::Create(fs_, **store, dir, size, {}, &keys)
                   : Result<std::unique_ptr<Volume>>(store.status());
    OPENSSL_cleanse(&keys, sizeof(keys));
    if (!volume.ok()) return volume.status();
    return Adopt(volume_id, std::move(*volume));
  }
  // Re-sealing: the snapshot copied under the new lineage (a staging snapshot the volume starts
  // from), dropped once the volume holds its map: the open volume's base keeps the chunks live.
  const std::string staging = "reseal-" + volume_id;
  CopyOptions options;
  options.encrypt_to = &keys;
  Result<BlockMap> copy = snapshots_->Copy(snapshot_id, staging, options);
  OPENSSL_cleanse(&keys, sizeof(keys));
  Result<Volume*> made = copy.status();
  if (copy.ok()) {
    Result<std::unique_ptr<Volume>> volume = snapshots_->CreateVolume(staging, dir, size);
    made = volume.ok() ? Adopt(volume_id, std::move(*volume)) : Result<Volume*>(volume.status());
  }
  Status dropped = snapshots_->Delete(staging);
  if (!dropped.ok() && dropped.code() != Code::kNotFound) return dropped;
  if (!made.ok()) CollectGarbage().IgnoreError();
  return made;
}

Result<Volume*> Storage::GetVolume(const std::string& volume_id) {
  std::lock_guard lock(mu_);
  auto it = volumes_.find(volume_id);
  if (it != volumes_.end()) return it->second.get();
  const std::string dir = VolumeDir(volume_id);
  Result<FileInfo> info = fs_.Stat(dir);
  if (!info.ok()) return NotFoundError("volume " + volume_id + " has no data");
  ASSIGN_OR_RETURN(std::unique_ptr<Volume> volume, snapshots_->OpenVolume(dir));
  Volume* raw = volume.get();
  volumes_[volume_id] = std::move(volume);
  return raw;
}

Status Storage::DeleteVolume(const std::string& volume_id) {
  {
    std::lock_guard lock(mu_);
    auto it = volumes_.find(volume_id);
    if (it != volumes_.end()) {
      RETURN_IF_ERROR(it->second->Close());
      volumes_.erase(it);
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(VolumeDir(volume_id), ec);
  if (ec) return IoError("removing volume " + volume_id + ": " + ec.message());
  // The volume's base may have been the last user of some chunks.
  return CollectGarbage();
}

Status Storage::DeleteSnapshot(const std::string& snapshot_id) {
  Status s = snapshots_->Delete(snapshot_id);
  if (!s.ok() && s.code() != Code::kNotFound) return s;
  return CollectGarbage();
}

Result<uint64_t> Storage::SnapshotSize(const std::string& snapshot_id) {
  ASSIGN_OR_RETURN(BlockMap map, snapshots_->Load(snapshot_id));
  return map.volume_size();
}

Status Storage::CollectGarbage() {
  GcRoots roots;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, volume] : volumes_) roots.maps.push_back(volume->base());
  }
  return snapshots_->CollectGarbage(roots).status();
}

}  // namespace kiln
