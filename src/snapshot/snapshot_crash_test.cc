// Crash at every mutating file-system operation of a workload of volume writes, flushes,
// snapshots, deletes and GC; then reopen everything and check the invariants of DESIGN.md:
//   - no acknowledged write is lost (a write is acknowledged once a later Flush returned) and
//     no block is shadowed by stale content: each byte is its acknowledged value or a value
//     some unacknowledged write put there;
//   - no snapshot map references a chunk that is missing or damaged;
//   - a snapshot that exists restores to exactly its point in time;
//   - the first snapshot after the crash captures the volume exactly (the dirty map is not
//     trusted after an unclean shutdown).
// It runs twice: with plain volumes, and with encrypted ones, where the workload also creates a
// master key, a new lineage's wrapped data key and an encrypted volume under it (each must be
// whole after the crash if its call returned, and the volume's sector tags consistent).
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <optional>
#include <set>

#include "env/clock.h"
#include "env/mem_file_system.h"
#include "kms/key_service.h"
#include "snapshot/kms_keyring.h"
#include "snapshot/snapshot_store.h"
#include "store/content_chunk_store.h"
#include "store/store_testing.h"

namespace kiln {
namespace {

constexpr uint64_t kVolumeSize = 6 * kBlockSize + 4096;

constexpr char kAccount[] = "123456789012";

struct World {
  explicit World(bool encrypted) : encrypted(encrypted) {}
  const bool encrypted;
  MemFileSystem fs;
  ManualClock clock;
  std::unique_ptr<LocalDirBackend> backend;
  std::unique_ptr<ContentChunkStore> store;
  std::unique_ptr<KeyService> kms;
  std::unique_ptr<KmsKeyring> keyring;
  std::unique_ptr<SnapshotStore> snaps;
  std::unique_ptr<Volume> volume;

  Status OpenStores() {
    ASSIGN_OR_RETURN(backend, LocalDirBackend::Open(fs, "/d/chunks"));
    store = std::make_unique<ContentChunkStore>(*backend);
    ASSIGN_OR_RETURN(kms, KeyService::Open(fs, clock, "/d/kms"));
    keyring = std::make_unique<KmsKeyring>(*kms, *backend);
    ASSIGN_OR_RETURN(snaps, SnapshotStore::Open(fs, *store, "/d/snapshots", keyring.get()));
    return Status::Ok();
  }
  void Drop() {
    volume.reset();
    snaps.reset();
    keyring.reset();
    kms.reset();
    store.reset();
    backend.reset();
  }
  // A new volume: plain, or encrypted under a new lineage of master key `key`.
  Result<std::unique_ptr<Volume>> NewVolume(const std::string& dir, const std::string& key) {
    if (!encrypted) return Volume::Create(fs, *store, dir, kVolumeSize);
    ASSIGN_OR_RETURN(LineageKeys keys, keyring->NewLineage(kAccount, key));
    ASSIGN_OR_RETURN(ChunkStore * sealed, keyring->Store(keys.lineage));
    return Volume::Create(fs, *sealed, dir, kVolumeSize, {}, &keys);
  }
};

// What the workload has done, as far as acknowledgements go.
struct Model {
  Bytes current;
  Bytes acked;
  std::vector<std::pair<uint64_t, Bytes>> unacked;
  std::map<std::string, Bytes> snapshots;  // completed (Run returned OK) -> content
  std::set<std::string> deleted;           // Delete returned OK
  // Encrypted runs: what the key steps returned.
  std::string master_key;            // CreateKey returned this id
  std::optional<LineageId> lineage;  // NewLineage returned it
  bool second_volume = false;        // the encrypted volume under it was created
};

Bytes Data(size_t n, uint64_t seed) {
  return store_testing::MakeData(
      n, seed % 3 == 0 ? store_testing::DataKind::kRandom : store_testing::DataKind::kCompressible,
      seed);
}

// The workload under test; stops at the first error (the simulated crash).
Status Workload(World& w, Model& m) {
  // A write that fails may still have reached the disk (as on any block device: an encrypted
  // volume's write is data, then tags), so it is possible content from the moment it starts.
  auto write = [&](uint64_t off, Bytes d) -> Status {
    m.unacked.emplace_back(off, d);
    RETURN_IF_ERROR(w.volume->Write(off, d));
    std::copy(d.begin(), d.end(), m.current.begin() + off);
    return Status::Ok();
  };
  auto flush = [&]() -> Status {
    RETURN_IF_ERROR(w.volume->Flush());
    m.acked = m.current;
    m.unacked.clear();
    return Status::Ok();
  };
  auto snap = [&](const std::string& id) -> Status {
    ASSIGN_OR_RETURN(auto job, w.snaps->Start(*w.volume, id, {.threads = 2}));
    Bytes at_call = m.current;
    ASSIGN_OR_RETURN(auto info, job->Run());
    m.snapshots[id] = at_call;
    return Status::Ok();
  };
  if (w.encrypted) {
    // Key creation and wrapping crash too: a master key, a lineage's wrapped data key, and an
    // encrypted volume under it with a flushed write.
    ASSIGN_OR_RETURN(KeyMetadata key, w.kms->CreateKey(kAccount, "crash test"));
    m.master_key = key.key_id;
    ASSIGN_OR_RETURN(LineageKeys keys, w.keyring->NewLineage(kAccount, key.key_id));
    m.lineage = keys.lineage;
    ASSIGN_OR_RETURN(ChunkStore * sealed, w.keyring->Store(keys.lineage));
    auto made = Volume::Create(w.fs, *sealed, "/d/volumes/e2", kVolumeSize, {}, &keys);
    RETURN_IF_ERROR(made.status());
    m.second_volume = true;
    RETURN_IF_ERROR((*made)->Write(100, Data(kBlockSize, 15)));
    RETURN_IF_ERROR((*made)->Close());
  }
  RETURN_IF_ERROR(write(kBlockSize + 100, Data(3 * kBlockSize, 11)));
  RETURN_IF_ERROR(flush());
  RETURN_IF_ERROR(snap("s1"));
  RETURN_IF_ERROR(write(0, Data(4096, 12)));
  m.unacked.emplace_back(4 * kBlockSize, Bytes(kBlockSize, 0));
  RETURN_IF_ERROR(w.volume->WriteZeroes(4 * kBlockSize, kBlockSize));
  std::fill(m.current.begin() + 4 * kBlockSize, m.current.begin() + 5 * kBlockSize, 0);
  RETURN_IF_ERROR(write(5 * kBlockSize, Data(kBlockSize + 4096, 13)));
  RETURN_IF_ERROR(snap("s2"));
  RETURN_IF_ERROR(flush());
  RETURN_IF_ERROR(w.snaps->Delete("s0"));
  m.deleted.insert("s0");
  GcRoots roots;
  roots.maps.push_back(w.volume->base());
  RETURN_IF_ERROR(w.snaps->CollectGarbage(roots).status());
  RETURN_IF_ERROR(write(2 * kBlockSize, Data(kBlockSize, 14)));
  RETURN_IF_ERROR(w.volume->Close());
  m.acked = m.current;
  m.unacked.clear();
  return Status::Ok();
}

// A volume restored from a base snapshot s0, with a flushed write on top: the state every run
// starts from (made durable before the crash point is armed).
void Prepare(World& w, Model& m) {
  ASSERT_TRUE(w.OpenStores().ok());
  ASSERT_TRUE(CreateDirs(w.fs, "/d/volumes").ok());
  {
    auto seed_vol = w.NewVolume("/d/volumes/seed", "alias/aws/ebs");
    ASSERT_TRUE(seed_vol.ok()) << seed_vol.status().ToString();
    ASSERT_TRUE((*seed_vol)->Write(0, Data(kVolumeSize, 10)).ok());
    auto job = w.snaps->Start(**seed_vol, "s0", {});
    ASSERT_TRUE(job.ok());
    ASSERT_TRUE((*job)->Run().ok());
    ASSERT_TRUE((*seed_vol)->Close().ok());
  }
  auto v = w.snaps->CreateVolume("s0", "/d/volumes/v");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  w.volume = std::move(v).value();
  m.current = Data(kVolumeSize, 10);
  m.acked = m.current;
  m.snapshots["s0"] = m.current;
}

Bytes ReadAll(Volume& v) {
  Bytes out(v.size());
  EXPECT_TRUE(v.Read(0, out).ok());
  return out;
}

void CheckAfterCrash(World& w, const Model& m, const std::string& label) {
  SCOPED_TRACE(label);
  ASSERT_TRUE(w.OpenStores().ok());
  auto v = w.snaps->OpenVolume("/d/volumes/v");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  w.volume = std::move(v).value();
  EXPECT_EQ(w.volume->encrypted(), w.encrypted);
  if (!m.master_key.empty()) {
    EXPECT_TRUE(w.kms->DescribeKey(kAccount, m.master_key).ok()) << "a created key was lost";
  }
  if (m.lineage) {
    auto keys = w.keyring->Keys(*m.lineage);
    EXPECT_TRUE(keys.ok()) << "a stored lineage key was lost: " << keys.status().ToString();
  }
  if (m.second_volume) {
    auto e2 = w.snaps->OpenVolume("/d/volumes/e2");
    ASSERT_TRUE(e2.ok()) << e2.status().ToString();
    Bytes got(kVolumeSize);
    EXPECT_TRUE((*e2)->Read(0, got).ok()) << "sector tags inconsistent after the crash";
  }
  const Bytes got = ReadAll(*w.volume);
  for (uint64_t i = 0; i < got.size(); ++i) {
    if (got[i] == m.acked[i]) continue;
    bool written = false;
    for (const auto& [off, d] : m.unacked)
      if (i >= off && i < off + d.size() && d[i - off] == got[i]) written = true;
    ASSERT_TRUE(written) << "byte " << i << " lost its acknowledged value";
  }
  auto ids = w.snaps->List();
  ASSERT_TRUE(ids.ok());
  for (const auto& id : *ids) {
    auto map = w.snaps->Load(id);
    ASSERT_TRUE(map.ok()) << id << ": " << map.status().ToString();
    auto store = w.snaps->StoreFor(map->lineage(), map->encrypted());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ(map->encrypted(), w.encrypted);
    for (const auto& e : map->entries()) {
      ASSERT_TRUE((*store)->Get(e.chunk).ok()) << id << " names a missing chunk";
    }
    auto it = m.snapshots.find(id);
    if (it != m.snapshots.end()) {
      auto r = w.snaps->CreateVolume(id, "/d/volumes/check-" + id);
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(ReadAll(**r), it->second) << "snapshot " << id;
    }
  }
  for (const auto& [id, content] : m.snapshots) {
    if (!m.deleted.contains(id)) {
      EXPECT_TRUE(std::find(ids->begin(), ids->end(), id) != ids->end()) << id << " vanished";
    }
  }
  auto job = w.snaps->Start(*w.volume, "after-crash", {});
  ASSERT_TRUE(job.ok());
  ASSERT_TRUE((*job)->Run().ok());
  auto r = w.snaps->CreateVolume("after-crash", "/d/volumes/check-after");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(ReadAll(**r), got) << "the first snapshot after a crash missed a change";
}

class SnapshotCrashTest : public ::testing::TestWithParam<bool> {};

TEST_P(SnapshotCrashTest, EveryCrashPointKeepsTheInvariants) {
  int64_t points;
  {
    World w(GetParam());
    Model m;
    Prepare(w, m);
    const int64_t before = w.fs.mutating_ops();
    ASSERT_TRUE(Workload(w, m).ok());
    points = w.fs.mutating_ops() - before;
  }
  ASSERT_GT(points, 20);
  const uint64_t seed = store_testing::TestSeed();
  SCOPED_TRACE("KILN_SEED=" + std::to_string(seed) + " points=" + std::to_string(points));
  // Under ASan+UBSan each point costs ~10x: the sanitized run takes every 8th point (from an
  // offset the seed picks, so runs cover different points) and the last; the normal build takes
  // every point.
#ifdef KILN_SANITIZED
  constexpr int64_t kStride = 8;
#else
  constexpr int64_t kStride = 1;
#endif
  for (int64_t k = static_cast<int64_t>(seed % kStride); k <= points;
       k = (k + kStride > points && k != points) ? points : k + kStride) {
    for (CrashMode mode : {CrashMode::kDropUnsynced, CrashMode::kKeepSomeUnsynced}) {
      World w(GetParam());
      Model m;
      Prepare(w, m);
      if (HasFatalFailure()) return;
      w.fs.SetCrashAfter(k);
      Status s = Workload(w, m);
      EXPECT_TRUE(k == points || !s.ok()) << "crash point " << k << " did not stop the workload";
      w.Drop();
      w.fs.Crash(mode, seed + k);
      CheckAfterCrash(w, m,
                      "crash after op " + std::to_string(k) +
                          (mode == CrashMode::kDropUnsynced ? " (drop)" : " (keep some)"));
      if (HasFatalFailure()) return;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(PlainAndEncrypted, SnapshotCrashTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Encrypted" : "Plain"; });

}  // namespace
}  // namespace kiln
