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
#include <functional>
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
  // `region` names the key service's region (its key ARNs): a data dir keeps the region it was
  // made in (FailedPrecondition for another).
  static Result<std::unique_ptr<Storage>> Open(FileSystem& fs, Clock& clock,
                                               const std::string& data_dir,
                                               const std::string& region);
  // Closes every open volume cleanly.
  ~Storage();

  SnapshotStore& snapshots() { return *snapshots_; }
  ChunkStore& store() { return *store_; }
  // The backend every store writes its frames to (all lineages' chunks side by side).
  ChunkBackend& backend() { return *backend_; }
  FileSystem& fs() { return fs_; }
  std::string scratch_dir() const;

  // A new empty volume, or one holding snapshot `snapshot_id` ("" for empty), of `size_gib`
  // (0: the snapshot's size). AlreadyExists if the volume exists.
  Result<Volume*> CreateVolume(const std::string& volume_id, const std::string& snapshot_id,
                               int64_t size_gib);
  // An encrypted volume: new and empty, or holding snapshot `snapshot_id`, sealed under a
  // data key wrapped by master key `key_ref` (any form KeyService::DescribeKey accepts) of
  // `account`. A snapshot whose lineage is already wrapped by that master key is used as it is
  // (the volume shares its lineage); any other snapshot (unencrypted, or under another key) is
  // re-sealed into a new lineage first: every block read and sealed again before this returns.
  // The key service's errors (NotFoundException for an unknown key); AlreadyExists if the
  // volume exists.
  Result<Volume*> CreateEncryptedVolume(const std::string& volume_id,
                                        const std::string& snapshot_id, int64_t size_gib,
                                        const std::string& account, const std::string& key_ref);
  // The key service (every account's KMS keys), kept under DATA_DIR/kms.
  KeyService& kms() { return *kms_; }

  // The open volume, opened now if needed. NotFound if it does not exist.
  Result<Volume*> GetVolume(const std::string& volume_id);
  // Closes the volume and removes its data. OK if it does not exist.
  Status DeleteVolume(const std::string& volume_id);

  // A new snapshot `new_id` holding what snapshot `source_id` holds (CopySnapshot, CopyImage),
  // durable when it returns; independent of the source (deleting either leaves the other whole).
  // Unless `encrypt`, or when the source is already sealed by master key `kms_key_ref`, the copy
  // is the source's map under the new id: same lineage, every chunk shared (dedup, no block is
  // read). Otherwise every block is read and sealed again into a new lineage whose data key is
  // wrapped by `kms_key_ref` (any form KeyService::DescribeKey accepts) of `account`: an
  // unencrypted source becomes encrypted, an encrypted one moves to the new key. `progress` (may
  // be empty) is called from worker threads with blocks done and total while re-sealing.
  // AlreadyExists if `new_id` is taken; NotFound if `source_id` is; FailedPrecondition for an
  // unencrypted copy of an encrypted source; the key service's errors. (storage_copy.cc)
  Status CopySnapshot(const std::string& source_id, const std::string& new_id, bool encrypt,
                      const std::string& kms_key_ref, const std::string& account,
                      std::function<void(uint64_t done, uint64_t total)> progress = {});

  // Deletes snapshot `snapshot_id` and frees the chunks nothing else uses. OK if absent.
  Status DeleteSnapshot(const std::string& snapshot_id);
  // The snapshot's size in bytes.
  Result<uint64_t> SnapshotSize(const std::string& snapshot_id);

 private:
  Storage(FileSystem& fs, std::string data_dir) : fs_(fs), data_dir_(std::move(data_dir)) {}
  std::string VolumeDir(const std::string& volume_id) const;
  // Takes `volume` as the open volume `volume_id` (AlreadyExists if one is).
  Result<Volume*> Adopt(const std::string& volume_id, std::unique_ptr<Volume> volume);
  // Whether snapshot `snapshot_id` is encrypted under a data key wrapped by master key `key_id`.
  Result<bool> SealedBy(const std::string& snapshot_id, const std::string& key_id);
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
