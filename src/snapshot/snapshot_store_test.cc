// SnapshotStore: incremental capture, point in time under racing writes, restore, delete in any
// order, diff, and garbage collection (exactness and safety against concurrent snapshots).
#include "snapshot/snapshot_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <set>
#include <thread>

#include "env/mem_file_system.h"
#include "store/content_chunk_store.h"
#include "store/store_testing.h"

namespace kiln {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

class SnapshotStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_ = std::move(LocalDirBackend::Open(fs_, "/data/chunks").value());
    store_ = std::make_unique<ContentChunkStore>(*backend_);
    snaps_ = std::move(SnapshotStore::Open(fs_, *store_, "/data/snapshots").value());
    ASSERT_TRUE(CreateDirs(fs_, "/data/volumes").ok());
  }

  std::unique_ptr<Volume> NewVolume(const std::string& name, uint64_t size) {
    auto v = Volume::Create(fs_, *store_, "/data/volumes/" + name, size);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return std::move(v).value();
  }

  static Bytes Pattern(size_t n, uint64_t seed) {
    return store_testing::MakeData(n, store_testing::DataKind::kCompressible, seed);
  }

  static Bytes ReadAll(Volume& v) {
    Bytes out(v.size());
    EXPECT_TRUE(v.Read(0, out).ok());
    return out;
  }

  SnapshotInfo Snap(Volume& v, const std::string& id, SnapshotOptions o = {}) {
    auto job = snaps_->Start(v, id, o);
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    auto info = (*job)->Run();
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return *info;
  }

  Bytes Restored(const std::string& id) {
    auto v = snaps_->CreateVolume(id, "/data/volumes/restore-" + id + "-" + std::to_string(n_++));
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return ReadAll(**v);
  }

  std::set<ChunkId> StoredChunks() {
    std::set<ChunkId> ids;
    EXPECT_TRUE(store_->List([&](const ChunkId& id) { ids.insert(id); }).ok());
    return ids;
  }

  MemFileSystem fs_;
  std::unique_ptr<LocalDirBackend> backend_;
  std::unique_ptr<ContentChunkStore> store_;
  std::unique_ptr<SnapshotStore> snaps_;
  int n_ = 0;
};

TEST_F(SnapshotStoreTest, EmptyVolumeSnapshotHasNoBlocks) {
  auto v = NewVolume("v", 8 * kMiB);
  SnapshotInfo info = Snap(*v, "snap-1");
  EXPECT_EQ(info.mapped_blocks, 0u);
  EXPECT_EQ(info.volume_size, 8 * kMiB);
  EXPECT_EQ(Restored("snap-1"), Bytes(8 * kMiB, 0));
}

TEST_F(SnapshotStoreTest, IncrementalReadsOnlyDirtyBlocks) {
  auto v = NewVolume("v", 16 * kMiB);
  ASSERT_TRUE(v->Write(0, Pattern(16 * kMiB, 1)).ok());
  SnapshotInfo full = Snap(*v, "s1");
  EXPECT_EQ(full.progress.blocks_total, 32u);
  EXPECT_EQ(full.mapped_blocks, 32u);

  // Two writes touching three blocks (one straddles a boundary).
  ASSERT_TRUE(v->Write(3 * kBlockSize + 100, Pattern(50, 2)).ok());
  ASSERT_TRUE(v->Write(10 * kBlockSize - 10, Pattern(20, 3)).ok());
  SnapshotInfo inc = Snap(*v, "s2", {.parent_id = "s1"});
  EXPECT_EQ(inc.progress.blocks_total, 3u);
  EXPECT_EQ(inc.mapped_blocks, 32u);
  EXPECT_EQ(inc.progress.chunks_stored, 3u);

  auto diff = snaps_->Diff("s1", "s2");
  ASSERT_TRUE(diff.ok());
  EXPECT_EQ(*diff, (std::vector<uint64_t>{3, 9, 10}));
  EXPECT_EQ(snaps_->Load("s2")->parent(), "s1");
  EXPECT_EQ(Restored("s2"), ReadAll(*v));

  // Nothing changed: nothing to read.
  SnapshotInfo same = Snap(*v, "s3");
  EXPECT_EQ(same.progress.blocks_total, 0u);
  EXPECT_EQ(*snaps_->Diff("s2", "s3"), std::vector<uint64_t>{});
}

TEST_F(SnapshotStoreTest, ZeroBlocksAreNotStoredAndTrimReachesTheSnapshot) {
  auto v = NewVolume("v", 4 * kMiB);
  ASSERT_TRUE(v->Write(0, Pattern(4 * kMiB, 5)).ok());
  Snap(*v, "s1");
  ASSERT_TRUE(v->WriteZeroes(kBlockSize, 2 * kBlockSize).ok());
  SnapshotInfo s2 = Snap(*v, "s2");
  EXPECT_EQ(s2.progress.zero_blocks, 2u);
  EXPECT_EQ(s2.mapped_blocks, 6u);
  EXPECT_EQ(Restored("s2"), ReadAll(*v));
}

TEST_F(SnapshotStoreTest, RestoreIsLazyAndGrowsOnRequest) {
  auto v = NewVolume("v", 4 * kMiB);
  Bytes data = Pattern(4 * kMiB, 7);
  ASSERT_TRUE(v->Write(0, data).ok());
  Snap(*v, "s1");
  auto r = snaps_->CreateVolume("s1", "/data/volumes/r", 6 * kMiB);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->Stats().present_blocks, 0u);  // nothing copied at creation
  Bytes got = ReadAll(**r);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), got.begin()));
  EXPECT_TRUE(IsAllZero(ByteView(got).subspan(4 * kMiB)));

  auto small = snaps_->CreateVolume("s1", "/data/volumes/small", 2 * kMiB);
  EXPECT_EQ(small.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(snaps_->CreateVolume("nope", "/data/volumes/x").status().code(), Code::kNotFound);
}

TEST_F(SnapshotStoreTest, BadIdsAndDuplicates) {
  auto v = NewVolume("v", kMiB);
  EXPECT_EQ(snaps_->Start(*v, "", {}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(snaps_->Start(*v, "../etc", {}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(snaps_->Start(*v, std::string(65, 'a'), {}).status().code(), Code::kInvalidArgument);
  Snap(*v, "s1");
  EXPECT_EQ(snaps_->Start(*v, "s1", {}).status().code(), Code::kAlreadyExists);
  EXPECT_EQ(snaps_->Delete("s9").code(), Code::kNotFound);
}

TEST_F(SnapshotStoreTest, AnIdInProgressCannotBeReused) {
  auto a = NewVolume("a", kMiB);
  auto b = NewVolume("b", kMiB);
  ASSERT_TRUE(a->Write(0, Pattern(100, 1)).ok());
  ASSERT_TRUE(b->Write(0, Pattern(100, 2)).ok());
  auto first = snaps_->Start(*a, "s1", {});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(snaps_->Start(*b, "s1", {}).status().code(), Code::kAlreadyExists);
  ASSERT_TRUE((*first)->Run().ok());
  // The refused start left b's blocks dirty for its next snapshot.
  SnapshotInfo s2 = Snap(*b, "s2");
  EXPECT_EQ(s2.progress.blocks_total, 1u);
  EXPECT_EQ(Restored("s1"), ReadAll(*a));
}

TEST_F(SnapshotStoreTest, OneCaptureAtATime) {
  auto v = NewVolume("v", kMiB);
  ASSERT_TRUE(v->Write(0, Pattern(100, 1)).ok());
  auto first = snaps_->Start(*v, "s1", {});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(snaps_->Start(*v, "s2", {}).status().code(), Code::kFailedPrecondition);
  ASSERT_TRUE((*first)->Run().ok());
  EXPECT_TRUE(snaps_->Start(*v, "s2", {}).ok());
}

TEST_F(SnapshotStoreTest, DroppedJobLeavesBlocksDirty) {
  auto v = NewVolume("v", 2 * kMiB);
  ASSERT_TRUE(v->Write(0, Pattern(2 * kMiB, 1)).ok());
  {
    auto job = snaps_->Start(*v, "never", {});
    ASSERT_TRUE(job.ok());
  }
  EXPECT_FALSE(Exists(fs_, snaps_->MapPath("never")));
  SnapshotInfo s = Snap(*v, "s1");
  EXPECT_EQ(s.progress.blocks_total, 4u);
  EXPECT_EQ(Restored("s1"), ReadAll(*v));
}

TEST_F(SnapshotStoreTest, FailedPutAbortsAndKeepsBlocksDirty) {
  auto v = NewVolume("v", 2 * kMiB);
  ASSERT_TRUE(v->Write(0, Pattern(2 * kMiB, 1)).ok());
  fs_.FailNext("/data/chunks/", IoError("injected EIO"), 1);
  auto job = snaps_->Start(*v, "s1", {.threads = 1});
  ASSERT_TRUE(job.ok());
  auto r = (*job)->Run();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("injected EIO"), std::string::npos) << r.status().ToString();
  EXPECT_FALSE(Exists(fs_, snaps_->MapPath("s1")));
  SnapshotInfo s = Snap(*v, "s1");
  EXPECT_EQ(s.progress.blocks_total, 4u);
  EXPECT_EQ(Restored("s1"), ReadAll(*v));
}

// The snapshot is the volume at Start, whatever writers do while it runs; the volume is every
// acknowledged write.
TEST_F(SnapshotStoreTest, WritesRacingASnapshot) {
  const uint64_t seed = store_testing::TestSeed();
  SCOPED_TRACE("KILN_SEED=" + std::to_string(seed));
  for (int round = 0; round < 4; ++round) {
    auto v = NewVolume("race" + std::to_string(round), 16 * kMiB);
    ASSERT_TRUE(v->Write(0, Pattern(16 * kMiB, seed + round)).ok());
    Snap(*v, "base" + std::to_string(round));
    std::mt19937_64 rng(seed * 31 + round);
    for (int i = 0; i < 20; ++i) {
      uint64_t off = rng() % (16 * kMiB - 8192);
      ASSERT_TRUE(v->Write(off, Pattern(8192, rng())).ok());
    }
    const Bytes at_call = ReadAll(*v);
    auto job = snaps_->Start(*v, "r" + std::to_string(round), {.threads = 3});
    ASSERT_TRUE(job.ok());
    Bytes expected_after = at_call;
    std::mutex mu;
    std::atomic<bool> go{true};
    std::vector<std::thread> writers;
    for (int w = 0; w < 3; ++w) {
      writers.emplace_back([&, w] {
        std::mt19937_64 wr(seed + 1000 * round + w);
        // Each writer owns a disjoint third of the volume, so the final content is known.
        const uint64_t lo = w * (16 * kMiB / 3), span = 16 * kMiB / 3 - 70000;
        for (int i = 0; i < 60 && go; ++i) {
          uint64_t off = lo + wr() % span, len = 1 + wr() % 65536;
          Bytes d = Pattern(len, wr());
          ASSERT_TRUE(v->Write(off, d).ok());
          std::lock_guard lock(mu);
          std::copy(d.begin(), d.end(), expected_after.begin() + off);
        }
      });
    }
    auto info = (*job)->Run();
    go = false;
    for (auto& t : writers) t.join();
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(Restored("r" + std::to_string(round)), at_call);
    EXPECT_EQ(ReadAll(*v), expected_after);
  }
}

TEST_F(SnapshotStoreTest, DeleteInAnyOrderAndGcFreesExactlyTheUnreferenced) {
  auto v = NewVolume("v", 8 * kMiB);
  std::vector<Bytes> contents;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(v->Write(i * 2 * kMiB, Pattern(2 * kMiB, 100 + i)).ok());
    Snap(*v, "s" + std::to_string(i));
    contents.push_back(ReadAll(*v));
  }
  auto expected_live = [&](const std::vector<std::string>& ids) {
    std::set<ChunkId> live;
    for (const auto& id : ids) {
      BlockMap map = snaps_->Load(id).value();
      for (const auto& e : map.entries()) live.insert(e.chunk);
    }
    for (const auto& e : v->base()->entries()) live.insert(e.chunk);
    return live;
  };
  // Delete the middle ones first, then the first: survivors stay whole.
  std::vector<std::string> alive = {"s0", "s1", "s2", "s3"};
  for (const std::string victim : {"s2", "s1", "s0"}) {
    ASSERT_TRUE(snaps_->Delete(victim).ok());
    alive.erase(std::find(alive.begin(), alive.end(), victim));
    GcRoots roots;
    roots.maps.push_back(v->base());
    auto gc = snaps_->CollectGarbage(roots);
    ASSERT_TRUE(gc.ok()) << gc.status().ToString();
    EXPECT_EQ(StoredChunks(), expected_live(alive));
    for (const auto& id : alive) EXPECT_EQ(Restored(id), contents[id[1] - '0']);
  }
  // With the volume gone and the last snapshot deleted, nothing is left.
  ASSERT_TRUE(snaps_->Delete("s3").ok());
  auto gc = snaps_->CollectGarbage();
  ASSERT_TRUE(gc.ok());
  EXPECT_TRUE(StoredChunks().empty());
}

TEST_F(SnapshotStoreTest, VolumeKeepsItsBaseWhenItsSnapshotIsDeleted) {
  auto v = NewVolume("v", 4 * kMiB);
  ASSERT_TRUE(v->Write(0, Pattern(4 * kMiB, 9)).ok());
  Snap(*v, "s1");
  auto r = snaps_->CreateVolume("s1", "/data/volumes/r");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(snaps_->Delete("s1").ok());
  GcRoots roots;
  roots.maps = {v->base(), (*r)->base()};
  ASSERT_TRUE(snaps_->CollectGarbage(roots).ok());
  EXPECT_EQ(ReadAll(**r), ReadAll(*v));  // lazy fetches still find their chunks
}

TEST_F(SnapshotStoreTest, GcRefusesToSweepWhenAMapIsUnreadable) {
  auto v = NewVolume("v", 2 * kMiB);
  ASSERT_TRUE(v->Write(0, Pattern(2 * kMiB, 3)).ok());
  Snap(*v, "s1");
  auto before = StoredChunks();
  ASSERT_TRUE(WriteFileAtomic(fs_, snaps_->MapPath("s1"), AsBytes("garbage")).ok());
  auto gc = snaps_->CollectGarbage();
  EXPECT_EQ(gc.status().code(), Code::kCorruption);
  EXPECT_EQ(StoredChunks(), before);
}

// GC running in a loop while snapshots of changing volumes are taken: no snapshot ever names a
// chunk that is gone.
TEST_F(SnapshotStoreTest, GcConcurrentWithSnapshotsNeverLosesAChunk) {
  const uint64_t seed = store_testing::TestSeed();
  SCOPED_TRACE("KILN_SEED=" + std::to_string(seed));
  auto v = NewVolume("v", 8 * kMiB);
  std::atomic<bool> done{false};
  std::atomic<int> collections{0};
  std::thread gc([&] {
    while (!done) {
      // Roots: only the store's snapshots (the volume's base is always one of them here,
      // as nothing is deleted while the volume lives).
      auto r = snaps_->CollectGarbage();
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ++collections;
    }
  });
  std::mt19937_64 rng(seed);
  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i) {
    // Rewrite blocks with content that earlier deleted snapshots held, so dedup hits on chunks
    // GC is about to free: the race the pins exist for.
    uint64_t block = rng() % 16;
    ASSERT_TRUE(v->Write(block * kBlockSize, Pattern(kBlockSize, rng() % 6)).ok());
    std::string id = "g" + std::to_string(i);
    Snap(*v, id);
    ids.push_back(id);
    if (ids.size() > 1) {
      ASSERT_TRUE(snaps_->Delete(ids.front()).ok());
      ids.erase(ids.begin());
    }
  }
  while (collections < 2) std::this_thread::yield();
  done = true;
  gc.join();
  for (const auto& id : ids) {
    BlockMap map = snaps_->Load(id).value();
    for (const auto& e : map.entries()) {
      ASSERT_TRUE(store_->Get(e.chunk).ok()) << id << " lost " << e.chunk.ToHex();
    }
  }
  EXPECT_EQ(Restored(ids.back()), ReadAll(*v));
}

}  // namespace
}  // namespace kiln
