// Volumes created from a snapshot: lazy loading, hydration, damaged chunks, the base link.
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "env/mem_file_system.h"
#include "volume/volume.h"
#include "volume/volume_testing.h"

namespace kiln {
namespace {

using volume_testing::FakeChunkStore;
using volume_testing::MakeBase;
using volume_testing::MakeImage;
using volume_testing::RandomBytes;
using volume_testing::ReadAll;

class VolumeLazyTest : public ::testing::Test {
 protected:
  // A base of 6 blocks and a bit, blocks 1 and 4 zero, the rest random.
  void SetUp() override {
    std::mt19937_64 rng(7);
    image_ = RandomBytes(rng, 6 * kBlockSize + 1000);
    std::fill_n(image_.begin() + 1 * kBlockSize, kBlockSize, 0);
    std::fill_n(image_.begin() + 4 * kBlockSize, kBlockSize, 0);
    base_ = MakeBase(fs_, store_, "/snap.map", image_);
    ASSERT_EQ(base_.size(), 5u);
  }
  std::unique_ptr<Volume> CreateFromBase(uint64_t size) {
    auto v = Volume::Create(fs_, store_, "/vol", size, Volume::Base{&base_, "/snap.map"});
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? std::move(v).value() : nullptr;
  }
  Bytes Expected(uint64_t size) const {
    Bytes e = image_;
    e.resize(size, 0);
    return e;
  }

  MemFileSystem fs_;
  FakeChunkStore store_;
  Bytes image_;
  BlockMap base_;
};

TEST_F(VolumeLazyTest, CreateIsReadyAtOnceAndCopiesNothing) {
  auto v = CreateFromBase(64ULL << 30);  // 64 GiB from a small snapshot
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(store_.gets(), 0u);
  EXPECT_EQ(v->lineage(), base_.lineage());
  EXPECT_EQ(*v->base(), base_);
  EXPECT_LT(fs_.Stat("/vol/data")->allocated_bytes, 1u << 20);
  VolumeStats stats = v->Stats();
  EXPECT_EQ(stats.base_blocks, 5u);
  EXPECT_EQ(stats.base_blocks_missing, 5u);
  EXPECT_EQ(stats.present_blocks, 0u);
}

TEST_F(VolumeLazyTest, ReadsFetchEachBlockOnce) {
  const uint64_t size = image_.size() + 2 * kBlockSize + 3;
  auto v = CreateFromBase(size);
  EXPECT_EQ(ReadAll(*v), Expected(size));
  EXPECT_EQ(store_.gets(), 5u);  // zero blocks are never fetched
  EXPECT_EQ(ReadAll(*v), Expected(size));
  EXPECT_EQ(store_.gets(), 5u);
  VolumeStats stats = v->Stats();
  EXPECT_EQ(stats.present_blocks, 5u);
  EXPECT_EQ(stats.base_blocks_missing, 0u);
  EXPECT_EQ(stats.dirty_blocks, 0u);  // fetching is not changing
}

TEST_F(VolumeLazyTest, ConcurrentReadersOfOneBlockFetchItOnce) {
  auto v = CreateFromBase(image_.size());
  std::vector<std::thread> readers;
  for (int t = 0; t < 8; ++t) {
    readers.emplace_back([&, t] {
      Bytes out(1000);
      EXPECT_TRUE(v->Read(2 * kBlockSize + t * 1000, out).ok());
      EXPECT_TRUE(std::equal(out.begin(), out.end(), image_.begin() + 2 * kBlockSize + t * 1000));
    });
  }
  for (auto& t : readers) t.join();
  EXPECT_EQ(store_.gets(), 1u);
}

TEST_F(VolumeLazyTest, PartialWriteKeepsTheRestOfTheBaseBlock) {
  auto v = CreateFromBase(image_.size());
  std::mt19937_64 rng(3);
  Bytes expected = image_;
  Bytes patch = RandomBytes(rng, 100);
  ASSERT_TRUE(v->Write(3 * kBlockSize + 5000, patch).ok());  // fetches block 3 first
  std::copy(patch.begin(), patch.end(), expected.begin() + 3 * kBlockSize + 5000);
  EXPECT_EQ(store_.gets(), 1u);
  Bytes whole = RandomBytes(rng, kBlockSize);
  ASSERT_TRUE(v->Write(5 * kBlockSize, whole).ok());  // a whole block needs no fetch
  std::copy(whole.begin(), whole.end(), expected.begin() + 5 * kBlockSize);
  EXPECT_EQ(store_.gets(), 1u);
  ASSERT_TRUE(v->WriteZeroes(0, kBlockSize).ok());  // nor does a whole-block trim
  std::fill_n(expected.begin(), kBlockSize, 0);
  EXPECT_EQ(store_.gets(), 1u);
  ASSERT_TRUE(v->WriteZeroes(6 * kBlockSize + 10, 20).ok());  // the short last block: partial
  std::fill_n(expected.begin() + 6 * kBlockSize + 10, 20, 0);
  EXPECT_EQ(store_.gets(), 2u);
  EXPECT_EQ(ReadAll(*v), expected);
  ASSERT_TRUE(v->Close().ok());
  auto reopened = Volume::Open(fs_, store_, "/vol");
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(ReadAll(**reopened), expected);
}

TEST_F(VolumeLazyTest, HydrateFetchesEveryMissingBlockWithProgress) {
  auto v = CreateFromBase(image_.size() + kBlockSize);
  Bytes out(10);
  ASSERT_TRUE(v->Read(0, out).ok());  // block 0 is already local
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  ASSERT_TRUE(v->Hydrate(0, [&](uint64_t done, uint64_t total) {
                 calls.emplace_back(done, total);
                 return true;
               }).ok());
  ASSERT_EQ(calls.size(), 4u);
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i], std::make_pair(uint64_t{i + 1}, uint64_t{4}));
  }
  EXPECT_EQ(store_.gets(), 5u);
  EXPECT_EQ(v->Stats().base_blocks_missing, 0u);
  EXPECT_EQ(v->Stats().dirty_blocks, 0u);
  calls.clear();
  ASSERT_TRUE(v->Hydrate(0, [&](uint64_t d, uint64_t t) {
                 calls.emplace_back(d, t);
                 return true;
               }).ok());
  EXPECT_TRUE(calls.empty());
  EXPECT_EQ(store_.gets(), 5u);
  EXPECT_EQ(ReadAll(*v), Expected(v->size()));
}

TEST_F(VolumeLazyTest, HydrateStopsWhenProgressSaysSoAndPaces) {
  auto v = CreateFromBase(image_.size());
  Status s = v->Hydrate(0, [](uint64_t done, uint64_t) { return done < 2; });
  EXPECT_EQ(s.code(), Code::kAborted);
  EXPECT_EQ(v->Stats().base_blocks_missing, 3u);
  // A generous rate: the pacing path runs, the test does not depend on its timing.
  EXPECT_TRUE(v->Hydrate(1ULL << 40, nullptr).ok());
  EXPECT_EQ(v->Stats().base_blocks_missing, 0u);
}

TEST_F(VolumeLazyTest, CorruptChunkIsAnErrorNeverData) {
  auto v = CreateFromBase(image_.size());
  store_.Corrupt(*base_.Find(2));
  Bytes out(100, 0xee);
  Status s = v->Read(2 * kBlockSize + 10, out);
  EXPECT_EQ(s.code(), Code::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find("block 2"), std::string::npos) << s.ToString();
  Bytes patch(10, 1);
  EXPECT_EQ(v->Write(2 * kBlockSize + 10, patch).code(), Code::kCorruption);
  EXPECT_EQ(v->WriteZeroes(2 * kBlockSize + 10, 10).code(), Code::kCorruption);
  EXPECT_EQ(v->Hydrate(0, nullptr).code(), Code::kCorruption);  // stops at block 2
  VolumeStats stats = v->Stats();
  EXPECT_EQ(stats.base_blocks_missing, 4u);  // only block 0 was fetched
  EXPECT_EQ(stats.dirty_blocks, 0u);
  // Overwriting the whole block needs no fetch and repairs the volume's view.
  Bytes whole(kBlockSize, 9);
  ASSERT_TRUE(v->Write(2 * kBlockSize, whole).ok());
  ASSERT_TRUE(v->Read(2 * kBlockSize + 10, out).ok());
  EXPECT_EQ(out, Bytes(100, 9));
}

TEST_F(VolumeLazyTest, MissingChunkIsReported) {
  auto v = CreateFromBase(image_.size());
  ASSERT_TRUE(store_.Delete(*base_.Find(3)).ok());
  Bytes out(10);
  EXPECT_EQ(v->Read(3 * kBlockSize, out).code(), Code::kNotFound);
}

// The volume keeps its own link to the map: deleting the snapshot does not take the base away.
TEST_F(VolumeLazyTest, BaseSurvivesTheSnapshotFile) {
  auto v = CreateFromBase(image_.size());
  ASSERT_TRUE(v->Close().ok());
  ASSERT_TRUE(fs_.Remove("/snap.map").ok());
  auto reopened = Volume::Open(fs_, store_, "/vol");
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ(ReadAll(**reopened), image_);
}

// A base whose last block is short, grown: the tail past the old end reads as zeros.
TEST_F(VolumeLazyTest, GrowPastAShortBaseBlock) {
  auto v = CreateFromBase(image_.size());
  ASSERT_TRUE(v->Grow(image_.size() + 3 * kBlockSize).ok());
  EXPECT_EQ(ReadAll(*v), Expected(v->size()));
  EXPECT_EQ(store_.gets(), 5u);
}

}  // namespace
}  // namespace kiln
