// Crash at every mutating file-system operation of a workload of volume writes, flushes,
// snapshots, deletes and GC; then reopen everything and check the invariants of DESIGN.md:
//   - no acknowledged write is lost (a write is acknowledged once a later Flush returned) and
//     no block is shadowed by stale content: each byte is its acknowledged value or a value
//     some unacknowledged write put there;
//   - no snapshot map references a chunk that is missing or damaged;
//   - a snapshot that exists restores to exactly its point in time;
//   - the first snapshot after the crash captures the volume exactly (the dirty map is not
//     trusted after an unclean shutdown).
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>

#include "env/mem_file_system.h"
#include "snapshot/snapshot_store.h"
#include "store/content_chunk_store.h"
#include "store/store_testing.h"

namespace kiln {
namespace {

constexpr uint64_t kVolumeSize = 6 * kBlockSize + 4096;

struct World {
  MemFileSystem fs;
  std::unique_ptr<LocalDirBackend> backend;
  std::unique_ptr<ContentChunkStore> store;
  std::unique_ptr<SnapshotStore> snaps;
  std::unique_ptr<Volume> volume;

  Status OpenStores() {
    ASSIGN_OR_RETURN(backend, LocalDirBackend::Open(fs, "/d/chunks"));
    store = std::make_unique<ContentChunkStore>(*backend);
    ASSIGN_OR_RETURN(snaps, SnapshotStore::Open(fs, *store, "/d/snapshots"));
    return Status::Ok();
  }
};

// What the workload has done, as far as acknowledgements go.
struct Model {
  Bytes current;
  Bytes acked;
  std::vector<std::pair<uint64_t, Bytes>> unacked;
  std::map<std::string, Bytes> snapshots;  // completed (Run returned OK) -> content
  std::set<std::string> deleted;           // Delete returned OK
};

Bytes Data(size_t n, uint64_t seed) {
  return store_testing::MakeData(
      n, seed % 3 == 0 ? store_testing::DataKind::kRandom : store_testing::DataKind::kCompressible,
      seed);
}

// The workload under test; stops at the first error (the simulated crash).
Status Workload(World& w, Model& m) {
  auto write = [&](uint64_t off, Bytes d) -> Status {
    RETURN_IF_ERROR(w.volume->Write(off, d));
    std::copy(d.begin(), d.end(), m.current.begin() + off);
    m.unacked.emplace_back(off, std::move(d));
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
  RETURN_IF_ERROR(write(kBlockSize + 100, Data(3 * kBlockSize, 11)));
  RETURN_IF_ERROR(flush());
  RETURN_IF_ERROR(snap("s1"));
  RETURN_IF_ERROR(write(0, Data(4096, 12)));
  RETURN_IF_ERROR(w.volume->WriteZeroes(4 * kBlockSize, kBlockSize));
  std::fill(m.current.begin() + 4 * kBlockSize, m.current.begin() + 5 * kBlockSize, 0);
  m.unacked.emplace_back(4 * kBlockSize, Bytes(kBlockSize, 0));
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
    auto seed_vol = Volume::Create(w.fs, *w.store, "/d/volumes/seed", kVolumeSize);
    ASSERT_TRUE(seed_vol.ok());
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
  auto v = Volume::Open(w.fs, *w.store, "/d/volumes/v");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  w.volume = std::move(v).value();
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
    for (const auto& e : map->entries()) {
      ASSERT_TRUE(w.store->Get(e.chunk).ok()) << id << " names a missing chunk";
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

TEST(SnapshotCrashTest, EveryCrashPointKeepsTheInvariants) {
  int64_t points;
  {
    World w;
    Model m;
    Prepare(w, m);
    const int64_t before = w.fs.mutating_ops();
    ASSERT_TRUE(Workload(w, m).ok());
    points = w.fs.mutating_ops() - before;
  }
  ASSERT_GT(points, 20);
  const uint64_t seed = store_testing::TestSeed();
  SCOPED_TRACE("KILN_SEED=" + std::to_string(seed) + " points=" + std::to_string(points));
  for (int64_t k = 0; k <= points; ++k) {
    for (CrashMode mode : {CrashMode::kDropUnsynced, CrashMode::kKeepSomeUnsynced}) {
      World w;
      Model m;
      Prepare(w, m);
      if (HasFatalFailure()) return;
      w.fs.SetCrashAfter(k);
      Status s = Workload(w, m);
      EXPECT_TRUE(k == points || !s.ok()) << "crash point " << k << " did not stop the workload";
      w.volume.reset();
      w.snaps.reset();
      w.store.reset();
      w.backend.reset();
      w.fs.Crash(mode, seed + k);
      CheckAfterCrash(w, m,
                      "crash after op " + std::to_string(k) +
                          (mode == CrashMode::kDropUnsynced ? " (drop)" : " (keep some)"));
      if (HasFatalFailure()) return;
    }
  }
}

}  // namespace
}  // namespace kiln
