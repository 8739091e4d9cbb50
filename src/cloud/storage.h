// Storage: the storage engine as the control plane uses it, under DATA_DIR: the chunk store
// (chunks/), the key service (kms/), snapshots (snapshots/) and EBS volumes (volumes/<vol-id>).
// Snapshots are stored under their EC2 ids (snap-...), volumes in directories named by theirs.
//
// Open volumes: a volume is opened once and kept open while kilnd runs (the runtime borrows it
// while attached; snapshots capture from it). Volume(id) opens it on first use.
//
// Thread-safety: all methods may be called concurrently. A Volume* stays valid until
// DeleteVolume or the Storage's destruction.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "base/status.h"
#include "env/clock.h"
#include "env/file_system.h"
#include "kms/key_service.h"
#include "snapshot/kms_keyring.h"
#include "snapshot/snapshot_store.h"
#include "store/chunk_backend.h"
#include "store/content_chunk_store.h"

namespace kiln {

inline constexpr uint64_t kGiB = uint64_t{1} << 30;

class Storage {
 public:
  static Result<std::unique_ptr<Storage>> Open(FileSystem& fs, Clock& clock,
                                               const std::string& data_dir);
  // Closes every open volume cleanly.
  ~Storage();

  SnapshotStore& snapshots() { return *snapshots_; }
  ChunkStore& store() { return *store_; }
  FileSystem& fs() { return fs_; }
  std::string scratch_dir() const;

  // A new empty volume, or one holding snapshot `snapshot_id` ("" for empty), of `size_gib`
  // (0: the snapshot's size). AlreadyExists if the volume exists.
  Result<Volume*> CreateVolume(const std::string& volume_id, const std::string& snapshot_id,
                               int64_t size_gib);
  // The open volume, opened now if needed. NotFound if it does not exist.
  Result<Volume*> GetVolume(const std::string& volume_id);
  // Closes the volume and removes its data. OK if it does not exist.
  Status DeleteVolume(const std::string& volume_id);

  // Deletes snapshot `snapshot_id` and frees the chunks nothing else uses. OK if absent.
  Status DeleteSnapshot(const std::string& snapshot_id);
  // The snapshot's size in bytes.
  Result<uint64_t> SnapshotSize(const std::string& snapshot_id);

 private:
  Storage(FileSystem& fs, std::string data_dir) : fs_(fs), data_dir_(std::move(data_dir)) {}
  std::string VolumeDir(const std::string& volume_id) const;
  Status CollectGarbage();

  FileSystem& fs_;
  const std::string data_dir_;
  std::unique_ptr<LocalDirBackend> backend_;
  std::unique_ptr<ContentChunkStore> store_;
  std::unique_ptr<KeyService> kms_;
  std::unique_ptr<KmsKeyring> keyring_;
  std::unique_ptr<SnapshotStore> snapshots_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Volume>> volumes_;  // guarded by mu_
};

}  // namespace kiln
