// Test-only: a whole storage stack on real files, laid out under one root as kilnd will lay
// out its data dir (chunks, snapshots, volumes, the key service). Not part of kiln_snapshot.
#pragma once

#include <gtest/gtest.h>
#include <openssl/crypto.h>

#include <memory>
#include <set>
#include <string>

#include "env/clock.h"
#include "env/posix_file_system.h"
#include "kms/key_service.h"
#include "snapshot/kms_keyring.h"
#include "snapshot/snapshot_store.h"
#include "store/content_chunk_store.h"

namespace kiln::snapshot_testing {

inline constexpr char kAccount[] = "123456789012";

// The stack; Close and Open again to see what survives a restart.
class Storage {
 public:
  explicit Storage(const std::string& root) : root_(root) { Open(); }

  void Open() {
    backend_ = std::move(LocalDirBackend::Open(fs_, root_ + "/chunks").value());
    plain_ = std::make_unique<ContentChunkStore>(*backend_);
    auto kms = KeyService::Open(fs_, clock_, root_ + "/kms");
    ASSERT_TRUE(kms.ok()) << kms.status().ToString();
    kms_ = std::move(kms).value();
    keyring_ = std::make_unique<KmsKeyring>(*kms_, *backend_);
    snaps_ =
        std::move(SnapshotStore::Open(fs_, *plain_, root_ + "/snapshots", keyring_.get()).value());
    ASSERT_TRUE(CreateDirs(fs_, root_ + "/volumes").ok());
  }
  void Close() {
    snaps_.reset();
    keyring_.reset();
    kms_.reset();
    plain_.reset();
    backend_.reset();
  }

  std::string VolumeDir(const std::string& name) const { return root_ + "/volumes/" + name; }

  std::unique_ptr<Volume> NewVolume(const std::string& name, uint64_t size, bool encrypted) {
    if (!encrypted) return Volume::Create(fs_, *plain_, VolumeDir(name), size).value();
    LineageKeys keys = keyring_->NewLineage(kAccount, "alias/aws/ebs").value();
    ChunkStore* store = keyring_->Store(keys.lineage).value();
    auto v = Volume::Create(fs_, *store, VolumeDir(name), size, {}, &keys);
    OPENSSL_cleanse(&keys, sizeof(keys));
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return std::move(v).value();
  }

  void Snapshot(Volume& v, const std::string& id) {
    auto job = snaps_->Start(v, id);
    ASSERT_TRUE(job.ok()) << job.status().ToString();
    auto info = (*job)->Run();
    ASSERT_TRUE(info.ok()) << info.status().ToString();
  }

  std::set<ChunkId> ChunksOf(const std::string& snapshot) {
    std::set<ChunkId> out;
    const BlockMap map = snaps_->Load(snapshot).value();
    for (const auto& e : map.entries()) out.insert(e.chunk);
    return out;
  }

  std::string root_;
  PosixFileSystem fs_;
  ManualClock clock_;
  std::unique_ptr<LocalDirBackend> backend_;
  std::unique_ptr<ContentChunkStore> plain_;
  std::unique_ptr<KeyService> kms_;
  std::unique_ptr<KmsKeyring> keyring_;
  std::unique_ptr<SnapshotStore> snaps_;
};

}  // namespace kiln::snapshot_testing
