// StorageUsage: exact stored/unique/shared figures over real snapshots (plain and encrypted),
// images as sets of snapshots, deleted and pending snapshots, a brute-force cross-check, and
// the cost of a hundred multi-GiB maps.
#include "cloud/storage_usage.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>

#include "env/mem_file_system.h"
#include "snapshot/snapshot_testing.h"
#include "store/content_chunk_store.h"
#include "store/store_testing.h"

namespace kiln {
namespace {

using store_testing::DataKind;
using store_testing::MakeData;

// Random data does not compress: its frame is the header and the raw block.
constexpr uint64_t kRawFrame = kChunkFrameHeaderSize + kBlockSize;

class StorageUsageTest : public ::testing::Test {
 protected:
  StorageUsage Measure() {
    Result<StorageUsage> u = StorageUsage::Measure(*st_.snaps_, *st_.backend_);
    EXPECT_TRUE(u.ok()) << u.status().ToString();
    return u.ok() ? std::move(*u) : StorageUsage();
  }

  // Writes one 512 KiB block of `kind` data (seeded) at block index `block`.
  static void Put(Volume& v, uint64_t block, DataKind kind, uint64_t seed) {
    ASSERT_TRUE(v.Write(block * kBlockSize, MakeData(kBlockSize, kind, seed)).ok());
  }

  std::map<ChunkId, uint64_t> FrameSizes() {
    std::map<ChunkId, uint64_t> sizes;
    EXPECT_TRUE(st_.backend_->List([&](const ChunkId& id, uint64_t n) { sizes[id] = n; }).ok());
    return sizes;
  }

  // The figures of `set` the slow way: chunk sets of every stored snapshot, compared.
  UsageFigures BruteForce(const std::vector<std::string>& set) {
    const std::map<ChunkId, uint64_t> sizes = FrameSizes();
    std::set<ChunkId> mine, others;
    const std::vector<std::string> ids = st_.snaps_->List().value();
    for (const std::string& id : ids) {
      const std::set<ChunkId> chunks = st_.ChunksOf(id);
      const bool in = std::find(set.begin(), set.end(), id) != set.end();
      (in ? mine : others).insert(chunks.begin(), chunks.end());
    }
    UsageFigures f;
    for (const ChunkId& c : mine) {
      f.stored_bytes += sizes.at(c);
      if (!others.count(c)) f.unique_bytes += sizes.at(c);
    }
    f.shared_bytes = f.stored_bytes - f.unique_bytes;
    return f;
  }

  env_testing::TempDir dir_;
  snapshot_testing::Storage st_{dir_.path()};
};

TEST_F(StorageUsageTest, TwoSnapshotsSharingChunks) {
  auto v = st_.NewVolume("v", 8 * kBlockSize, /*encrypted=*/false);
  for (uint64_t b = 0; b < 4; ++b) Put(*v, b, DataKind::kRandom, b);
  Put(*v, 5, DataKind::kRandom, 0);  // the same data as block 0: one chunk, counted once
  st_.Snapshot(*v, "s1");
  Put(*v, 3, DataKind::kRandom, 33);  // one block changes
  st_.Snapshot(*v, "s2");

  const StorageUsage u = Measure();
  EXPECT_EQ(u.snapshot_count(), 2u);
  EXPECT_EQ(u.chunk_count(), 5u);
  EXPECT_EQ(u.Of({"s1"}), (UsageFigures{4 * kRawFrame, kRawFrame, 3 * kRawFrame}));
  EXPECT_EQ(u.Of({"s2"}), (UsageFigures{4 * kRawFrame, kRawFrame, 3 * kRawFrame}));
  // Both together (an image of the two): everything is theirs alone; repeats count once.
  EXPECT_EQ(u.Of({"s1", "s2", "s1"}), (UsageFigures{5 * kRawFrame, 5 * kRawFrame, 0}));
  EXPECT_EQ(u.Of({"nope"}), UsageFigures{});
  EXPECT_EQ(u.Of({}), UsageFigures{});
}

TEST_F(StorageUsageTest, CompressedChunksCountTheirStoredSize) {
  auto v = st_.NewVolume("v", 4 * kBlockSize, false);
  Put(*v, 0, DataKind::kCompressible, 1);
  Put(*v, 1, DataKind::kRandom, 2);
  st_.Snapshot(*v, "s1");
  const StorageUsage u = Measure();
  const UsageFigures f = u.Of({"s1"});
  EXPECT_LT(f.stored_bytes, kRawFrame + kBlockSize / 2);  // zstd shrank the text
  EXPECT_GT(f.stored_bytes, kRawFrame);
  EXPECT_EQ(f.unique_bytes, f.stored_bytes);
  EXPECT_EQ(f, BruteForce({"s1"}));
}

TEST_F(StorageUsageTest, EncryptedSnapshotsAndTheirCopy) {
  auto plain = st_.NewVolume("p", 4 * kBlockSize, false);
  Put(*plain, 0, DataKind::kRandom, 7);
  st_.Snapshot(*plain, "p1");
  // The same plaintext in an encrypted lineage is another chunk (keyed ids never dedupe with
  // unencrypted data), sealed: header + data + GCM tag at least.
  auto enc = st_.NewVolume("e", 4 * kBlockSize, true);
  Put(*enc, 0, DataKind::kRandom, 7);
  Put(*enc, 1, DataKind::kRandom, 8);
  st_.Snapshot(*enc, "e1");
  ASSERT_TRUE(st_.snaps_->Copy("e1", "e1-copy").ok());  // same lineage: every chunk shared

  const StorageUsage u = Measure();
  EXPECT_EQ(u.Of({"p1"}), (UsageFigures{kRawFrame, kRawFrame, 0}));
  const UsageFigures e1 = u.Of({"e1"});
  EXPECT_GT(e1.stored_bytes, 2 * kRawFrame);
  EXPECT_EQ(e1.unique_bytes, 0u);
  EXPECT_EQ(e1.shared_bytes, e1.stored_bytes);
  EXPECT_EQ(u.Of({"e1", "e1-copy"}), (UsageFigures{e1.stored_bytes, e1.stored_bytes, 0}));
  for (const auto& set : std::vector<std::vector<std::string>>{{"p1"}, {"e1"}, {"p1", "e1"}}) {
    EXPECT_EQ(u.Of(set), BruteForce(set));
  }
}

TEST_F(StorageUsageTest, ImageOfTwoSnapshotsAndOtherAccountsSnapshots) {
  // An image of two volumes (root r1 and data d1); another snapshot (any account's) reuses
  // one of the root's chunks.
  auto root = st_.NewVolume("root", 4 * kBlockSize, false);
  auto data = st_.NewVolume("data", 4 * kBlockSize, false);
  auto other = st_.NewVolume("other", 4 * kBlockSize, false);
  Put(*root, 0, DataKind::kRandom, 1);
  Put(*root, 1, DataKind::kRandom, 2);
  Put(*data, 0, DataKind::kRandom, 3);
  Put(*other, 2, DataKind::kRandom, 2);  // root's block 1
  st_.Snapshot(*root, "r1");
  st_.Snapshot(*data, "d1");
  st_.Snapshot(*other, "o1");

  const StorageUsage u = Measure();
  EXPECT_EQ(u.Of({"r1", "d1"}), (UsageFigures{3 * kRawFrame, 2 * kRawFrame, kRawFrame}));
  EXPECT_EQ(u.Of({"r1"}), (UsageFigures{2 * kRawFrame, kRawFrame, kRawFrame}));
  EXPECT_EQ(u.Of({"o1"}), (UsageFigures{kRawFrame, 0, kRawFrame}));
  // The account-wide identity: the union's stored bytes are every snapshot's unique bytes
  // plus the chunks shared among them, each once.
  const UsageFigures all = u.Of({"r1", "d1", "o1"});
  const uint64_t uniques =
      u.Of({"r1"}).unique_bytes + u.Of({"d1"}).unique_bytes + u.Of({"o1"}).unique_bytes;
  const uint64_t shared_union = kRawFrame;  // root's block 1, shared by r1 and o1
  EXPECT_EQ(all.stored_bytes, uniques + shared_union);
  for (const auto& set :
       std::vector<std::vector<std::string>>{{"r1", "d1"}, {"r1"}, {"d1"}, {"o1", "d1"}}) {
    EXPECT_EQ(u.Of(set), BruteForce(set));
  }
}

TEST_F(StorageUsageTest, DeletedSnapshotNoLongerCounts) {
  auto v = st_.NewVolume("v", 4 * kBlockSize, false);
  Put(*v, 0, DataKind::kRandom, 1);
  Put(*v, 1, DataKind::kRandom, 2);
  st_.Snapshot(*v, "s1");
  Put(*v, 1, DataKind::kRandom, 3);
  st_.Snapshot(*v, "s2");
  EXPECT_EQ(Measure().Of({"s2"}), (UsageFigures{2 * kRawFrame, kRawFrame, kRawFrame}));

  ASSERT_TRUE(st_.snaps_->Delete("s1").ok());
  // Before and after collection alike: s1's map is gone, its chunk no longer shared.
  StorageUsage u = Measure();
  EXPECT_FALSE(u.Has("s1"));
  EXPECT_EQ(u.Of({"s1"}), UsageFigures{});
  EXPECT_EQ(u.Of({"s2"}), (UsageFigures{2 * kRawFrame, 2 * kRawFrame, 0}));
  GcRoots roots;
  roots.maps.push_back(v->base());
  ASSERT_TRUE(st_.snaps_->CollectGarbage(roots).ok());
  u = Measure();
  EXPECT_EQ(u.chunk_count(), 2u);
  EXPECT_EQ(u.Of({"s2"}), (UsageFigures{2 * kRawFrame, 2 * kRawFrame, 0}));
}

TEST_F(StorageUsageTest, PendingSnapshotIsSkippedUntilComplete) {
  auto v = st_.NewVolume("v", 4 * kBlockSize, false);
  Put(*v, 0, DataKind::kRandom, 1);
  auto job = st_.snaps_->Start(*v, "s1");
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  StorageUsage u = Measure();
  EXPECT_FALSE(u.Has("s1"));
  EXPECT_EQ(u.Of({"s1"}), UsageFigures{});
  ASSERT_TRUE((*job)->Run().ok());
  u = Measure();
  EXPECT_TRUE(u.Has("s1"));
  EXPECT_EQ(u.Of({"s1"}), (UsageFigures{kRawFrame, kRawFrame, 0}));
}

// A backend that only lists sizes: enough for Measure at a scale no real test writes.
class SizesOnlyBackend : public ChunkBackend {
 public:
  Status Put(const ChunkId& id, ByteView frame) override {
    sizes_[id] = frame.size();
    return Status::Ok();
  }
  Result<Bytes> Get(const ChunkId&) override { return NotFoundError("sizes only"); }
  Result<bool> Has(const ChunkId& id) override { return sizes_.count(id) != 0; }
  Status Delete(const ChunkId& id) override {
    sizes_.erase(id);
    return Status::Ok();
  }
  Status List(const std::function<void(const ChunkId&, uint64_t)>& fn) override {
    for (const auto& [id, size] : sizes_) fn(id, size);
    return Status::Ok();
  }
  std::unordered_map<ChunkId, uint64_t, ChunkIdHash> sizes_;
};

ChunkId NthChunk(uint64_t n) {
  ChunkId id;
  for (int i = 0; i < 8; ++i) id.bytes[i] = static_cast<uint8_t>(n >> (8 * i));
  id.bytes[31] = 0x5a;
  return id;
}

// A hundred 4 GiB snapshots (8192 blocks each): 6144 blocks from a shared base, 2048 of their
// own. Measure and the account-wide figures must stay well under a second.
TEST(StorageUsageScaleTest, HundredMultiGibSnapshots) {
  constexpr int kSnapshots = 100;
  constexpr uint64_t kBlocks = 8192, kShared = 6144;
  MemFileSystem fs;
  SizesOnlyBackend backend;
  ContentChunkStore store(backend);
  auto snaps = SnapshotStore::Open(fs, store, "/snapshots");
  ASSERT_TRUE(snaps.ok()) << snaps.status().ToString();
  std::vector<std::string> ids;
  uint64_t next = kShared;
  for (uint64_t b = 0; b < kShared; ++b) backend.sizes_[NthChunk(b)] = 1000;
  for (int s = 0; s < kSnapshots; ++s) {
    BlockMap map(kBlocks * kBlockSize, LineageId{}, "");
    std::vector<std::pair<uint64_t, std::optional<ChunkId>>> changes;
    for (uint64_t b = 0; b < kBlocks; ++b) {
      const uint64_t n = b < kShared ? b : next++;
      backend.sizes_[NthChunk(n)] = 1000;
      changes.emplace_back(b, NthChunk(n));
    }
    ids.push_back("snap-" + std::to_string(s));
    ASSERT_TRUE(map.WithChanges(changes).WriteTo(fs, (*snaps)->MapPath(ids.back())).ok());
  }
  const auto start = std::chrono::steady_clock::now();
  Result<StorageUsage> u = StorageUsage::Measure(**snaps, backend);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  const UsageFigures all = u->Of(ids);
  const UsageFigures one = u->Of({ids[0]});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("measured %zu snapshots, %zu chunks in %.3f s\n", u->snapshot_count(),
              u->chunk_count(), seconds);
  EXPECT_EQ(all, (UsageFigures{next * 1000, next * 1000, 0}));
  EXPECT_EQ(one, (UsageFigures{kBlocks * 1000, 2048 * 1000, kShared * 1000}));
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  EXPECT_LT(seconds, 5.0);  // ~0.3 s on an idle core (docs/storage-usage.md); sanitizers: no bound
#endif
}

}  // namespace
}  // namespace kiln
