// Volume: I/O at any offset, bounds, trim, grow, huge sparse volumes, lifecycle.
#include "volume/volume.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <thread>

#include "env/mem_file_system.h"
#include "env/posix_file_system.h"
#include "volume/volume_testing.h"

namespace kiln {
namespace {

using volume_testing::FakeChunkStore;
using volume_testing::RandomBytes;
using volume_testing::ReadAll;
using volume_testing::TestSeed;

class VolumeTest : public ::testing::Test {
 protected:
  std::unique_ptr<Volume> MustCreate(const std::string& dir, uint64_t size) {
    auto v = Volume::Create(fs_, store_, dir, size);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? std::move(v).value() : nullptr;
  }
  std::unique_ptr<Volume> MustOpen(const std::string& dir) {
    auto v = Volume::Open(fs_, store_, dir);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? std::move(v).value() : nullptr;
  }
  MemFileSystem fs_;
  FakeChunkStore store_;
};

// Random writes, zeroes and reads of any offset and length against a byte-array model.
TEST_F(VolumeTest, RandomIoMatchesModelAcrossReopen) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("KILN_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const uint64_t size = 5 * kBlockSize + 12345;  // the last block is short
  auto v = MustCreate("/vol", size);
  ASSERT_NE(v, nullptr);
  Bytes model(size, 0);
  for (int i = 0; i < 300; ++i) {
    const uint64_t offset = rng() % (size + 1);
    const uint64_t max_len = std::min<uint64_t>(size - offset, 2 * kBlockSize + 100);
    uint64_t len = max_len == 0 ? 0 : rng() % (max_len + 1);
    if (rng() % 8 == 0) len = std::min<uint64_t>(len, 7);  // tiny, unaligned
    switch (rng() % 4) {
      case 0:
      case 1: {
        Bytes data = RandomBytes(rng, len);
        ASSERT_TRUE(v->Write(offset, data).ok());
        std::copy(data.begin(), data.end(), model.begin() + offset);
        break;
      }
      case 2:
        ASSERT_TRUE(v->WriteZeroes(offset, len).ok());
        std::fill_n(model.begin() + offset, len, 0);
        break;
      default: {
        Bytes out(len, 0xee);
        ASSERT_TRUE(v->Read(offset, out).ok());
        ASSERT_TRUE(std::equal(out.begin(), out.end(), model.begin() + offset))
            << "read at " << offset << " len " << len;
      }
    }
    if (i == 150) {
      ASSERT_TRUE(v->Close().ok());
      v = MustOpen("/vol");
      ASSERT_NE(v, nullptr);
      EXPECT_FALSE(v->unclean_open());
    }
  }
  EXPECT_EQ(ReadAll(*v), model);
  ASSERT_TRUE(v->Flush().ok());
  ASSERT_TRUE(v->Close().ok());
  v = MustOpen("/vol");
  EXPECT_EQ(ReadAll(*v), model);
}

TEST_F(VolumeTest, BoundsAndZeroLength) {
  auto v = MustCreate("/vol", 3 * kBlockSize);
  const uint64_t size = v->size();
  Bytes one(1, 7), none;
  EXPECT_TRUE(v->Write(0, none).ok());
  EXPECT_TRUE(v->Write(size, none).ok());
  EXPECT_TRUE(v->Read(size, MutableByteView()).ok());
  EXPECT_TRUE(v->WriteZeroes(size, 0).ok());
  EXPECT_TRUE(v->Write(size - 1, one).ok());
  for (Status s : {v->Write(size, one), v->Read(size, MutableByteView(one)),
                   v->Write(size + 1, none), v->WriteZeroes(size - 1, 2),
                   v->Read(UINT64_MAX, MutableByteView(one)), v->WriteZeroes(2, UINT64_MAX)}) {
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  }
  EXPECT_EQ(v->Stats().dirty_blocks, 1u);  // the zero-length calls changed nothing
}

TEST_F(VolumeTest, CreateValidatesArguments) {
  EXPECT_EQ(Volume::Create(fs_, store_, "/a", 0).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Volume::Create(fs_, store_, "/a", kMaxVolumeSize + 1).status().code(),
            Code::kInvalidArgument);
  BlockMap big(10 * kBlockSize, LineageId{}, "");
  EXPECT_EQ(
      Volume::Create(fs_, store_, "/a", kBlockSize, Volume::Base{&big, "/x.map"}).status().code(),
      Code::kInvalidArgument);
  EXPECT_EQ(
      Volume::Create(fs_, store_, "/a", 20 * kBlockSize, Volume::Base{&big, ""}).status().code(),
      Code::kInvalidArgument);
  EXPECT_FALSE(Exists(fs_, "/a"));
  auto v = MustCreate("/a", kBlockSize);
  EXPECT_EQ(Volume::Create(fs_, store_, "/a", kBlockSize).status().code(), Code::kAlreadyExists);
  auto w = MustCreate("/b", kBlockSize);
  EXPECT_NE(v->lineage(), w->lineage());  // random lineages
  const LineageId lineage = v->lineage();
  ASSERT_TRUE(v->Close().ok());
  EXPECT_EQ(MustOpen("/a")->lineage(), lineage);
}

TEST_F(VolumeTest, WriteZeroesDeallocatesWholeBlocks) {
  std::mt19937_64 rng(1);
  const uint64_t size = 4 * kBlockSize;
  auto v = MustCreate("/vol", size);
  Bytes data = RandomBytes(rng, size);
  ASSERT_TRUE(v->Write(0, data).ok());
  ASSERT_TRUE(v->Flush().ok());
  const uint64_t before = fs_.Stat("/vol/data")->allocated_bytes;
  // Blocks 1 and 2 whole, plus the unaligned tail of block 0 and head of block 3.
  ASSERT_TRUE(v->WriteZeroes(kBlockSize - 1000, 2 * kBlockSize + 3000).ok());
  std::fill_n(data.begin() + kBlockSize - 1000, 2 * kBlockSize + 3000, 0);
  EXPECT_EQ(ReadAll(*v), data);
  EXPECT_LE(fs_.Stat("/vol/data")->allocated_bytes, before - 2 * kBlockSize);
  VolumeStats stats = v->Stats();
  EXPECT_EQ(stats.present_blocks, 4u);
  EXPECT_EQ(stats.dirty_blocks, 4u);
}

// Writers in many threads, each owning interleaved 4 KiB slices of the same blocks, some of them
// not yet local: no write is lost to another's fetch or first write.
TEST_F(VolumeTest, ConcurrentWritesToSharedBlocksAreAllKept) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("KILN_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const uint64_t size = 4 * kBlockSize;
  Bytes image = volume_testing::MakeImage(rng, size);
  BlockMap base = volume_testing::MakeBase(fs_, store_, "/base.map", image);
  auto v = Volume::Create(fs_, store_, "/vol", size, Volume::Base{&base, "/base.map"});
  ASSERT_TRUE(v.ok());
  constexpr int kThreads = 4;
  constexpr uint64_t kSlice = 4096;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 r(seed + t);
      for (uint64_t s = t; s < size / kSlice; s += kThreads) {
        Bytes data = RandomBytes(r, kSlice);
        EXPECT_TRUE((*v)->Write(s * kSlice, data).ok());
        std::copy(data.begin(), data.end(), image.begin() + s * kSlice);  // disjoint slices
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ReadAll(**v), image);
}

TEST_F(VolumeTest, GrowKeepsDataAndZeroesTheNewTail) {
  std::mt19937_64 rng(2);
  const uint64_t size = kBlockSize + 777;
  auto v = MustCreate("/vol", size);
  Bytes data = RandomBytes(rng, size);
  ASSERT_TRUE(v->Write(0, data).ok());
  EXPECT_EQ(v->Grow(size - 1).code(), Code::kInvalidArgument);
  EXPECT_EQ(v->Grow(kMaxVolumeSize + 1).code(), Code::kInvalidArgument);
  ASSERT_TRUE(v->Grow(size).ok());
  ASSERT_TRUE(v->Grow(3 * kBlockSize + 5).ok());
  EXPECT_EQ(v->size(), 3 * kBlockSize + 5);
  EXPECT_EQ(v->Stats().blocks, 4u);
  data.resize(v->size(), 0);
  EXPECT_EQ(ReadAll(*v), data);
  Bytes tail = RandomBytes(rng, 10);
  ASSERT_TRUE(v->Write(v->size() - 10, tail).ok());
  std::copy(tail.begin(), tail.end(), data.end() - 10);
  ASSERT_TRUE(v->Close().ok());
  v = MustOpen("/vol");
  EXPECT_EQ(v->size(), 3 * kBlockSize + 5);
  EXPECT_EQ(ReadAll(*v), data);
}

// Elastic Volumes: an attached volume grows under live I/O. Writers and readers run across a
// series of Grow calls; a writer also writes into each new tail as soon as it sees it.
TEST_F(VolumeTest, GrowUnderConcurrentWritersKeepsEveryWrite) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("KILN_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const uint64_t size = 4 * kBlockSize + 512;
  constexpr int kGrows = 8;
  const uint64_t final_size = size + kGrows * kBlockSize;
  Bytes image = volume_testing::MakeImage(rng, size);
  BlockMap base = volume_testing::MakeBase(fs_, store_, "/base.map", image);
  auto v = Volume::Create(fs_, store_, "/vol", size, Volume::Base{&base, "/base.map"});
  ASSERT_TRUE(v.ok());
  image.resize(final_size, 0);
  constexpr int kThreads = 3;
  constexpr uint64_t kSlice = 4096;
  std::atomic<bool> grown{false};
  std::atomic<int> writes{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 r(seed + t);
      Bytes scratch(kSlice);
      // Each thread owns the slices s with s % kThreads == t; the sizes seen only grow.
      for (uint64_t s = t; s < final_size / kSlice || !grown.load(); s += kThreads) {
        if (s >= final_size / kSlice) s = t;
        if ((s + 1) * kSlice > (*v)->size()) continue;
        Bytes data = RandomBytes(r, kSlice);
        EXPECT_TRUE((*v)->Write(s * kSlice, data).ok());
        std::copy(data.begin(), data.end(), image.begin() + s * kSlice);
        EXPECT_TRUE((*v)->Read(s * kSlice, scratch).ok());
        EXPECT_EQ(scratch, data);
        ++writes;
      }
    });
  }
  for (int g = 1; g <= kGrows; ++g) {
    // Every grow lands among writes: some before it, some after.
    const int before = writes.load();
    while (writes.load() < before + 2 * kThreads) std::this_thread::yield();
    EXPECT_TRUE((*v)->Grow(size + g * kBlockSize).ok());
  }
  grown = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ((*v)->size(), final_size);
  EXPECT_EQ(ReadAll(**v), image);
  ASSERT_TRUE((*v)->Close().ok());
  v = Volume::Open(fs_, store_, "/vol");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(ReadAll(**v), image);
}

// Past 8 TiB the data continues in a second segment file.
TEST_F(VolumeTest, GrowAcrossDataSegments) {
  auto v = MustCreate("/vol", 1ULL << 30);
  Bytes a(100, 0xa1), b(100, 0xb2), out(100);
  ASSERT_TRUE(v->Write(12345, a).ok());
  ASSERT_TRUE(v->Grow(9ULL << 40).ok());
  const uint64_t far = (8ULL << 40) + 3 * kBlockSize - 50;  // inside data.1
  ASSERT_TRUE(v->Write(far, b).ok());
  ASSERT_TRUE(v->Close().ok());
  EXPECT_TRUE(Exists(fs_, "/vol/data.1"));
  v = MustOpen("/vol");
  ASSERT_TRUE(v->Read(12345, out).ok());
  EXPECT_EQ(out, a);
  ASSERT_TRUE(v->Read(far, out).ok());
  EXPECT_EQ(out, b);
}

// A 16 TiB volume: created at once, written at its last byte, sparse throughout.
void CheckHugeVolume(FileSystem& fs, ChunkStore& store, const std::string& dir) {
  auto v = Volume::Create(fs, store, dir, kMaxVolumeSize);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  const uint8_t last = 0x42;
  ASSERT_TRUE((*v)->Write(kMaxVolumeSize - 1, ByteView(&last, 1)).ok());
  Bytes head(4096, 1);
  ASSERT_TRUE((*v)->Write(0, head).ok());
  ASSERT_TRUE((*v)->Close().ok());
  auto reopened = Volume::Open(fs, store, dir);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  Bytes out(2);
  ASSERT_TRUE((*reopened)->Read(kMaxVolumeSize - 2, out).ok());
  EXPECT_EQ(out, (Bytes{0, 0x42}));
  ASSERT_TRUE((*reopened)->Read(kMaxVolumeSize / 2 - 1, out).ok());
  EXPECT_EQ(out, (Bytes{0, 0}));
  EXPECT_EQ((*reopened)->Stats().present_blocks, 2u);
  uint64_t allocated = 0;
  for (const std::string name : {"data", "data.1", "present", "dirty"}) {
    auto info = fs.Stat(JoinPath(dir, name));
    ASSERT_TRUE(info.ok()) << name;
    allocated += info->allocated_bytes;
  }
  EXPECT_LT(allocated, 64ULL << 20) << "a 16 TiB volume with two blocks written must be sparse";
}

TEST_F(VolumeTest, SixteenTiBSparseInMemory) { CheckHugeVolume(fs_, store_, "/huge"); }

TEST_F(VolumeTest, SixteenTiBSparseOnDisk) {
  std::string dir = (std::filesystem::temp_directory_path() / "kiln-volume-XXXXXX").string();
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  PosixFileSystem posix;
  CheckHugeVolume(posix, store_, JoinPath(dir, "huge"));
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST_F(VolumeTest, ClosedVolumeRefusesCalls) {
  auto v = MustCreate("/vol", kBlockSize);
  ASSERT_TRUE(v->Close().ok());
  Bytes b(1);
  EXPECT_EQ(v->Read(0, b).code(), Code::kFailedPrecondition);
  EXPECT_EQ(v->Write(0, b).code(), Code::kFailedPrecondition);
  EXPECT_EQ(v->Flush().code(), Code::kFailedPrecondition);
  EXPECT_EQ(v->Close().code(), Code::kFailedPrecondition);
  EXPECT_EQ(v->Grow(2 * kBlockSize).code(), Code::kFailedPrecondition);
}

TEST_F(VolumeTest, CloseFailureLeavesVolumeOpenAndRetryable) {
  auto v = MustCreate("/vol", kBlockSize);
  Bytes b(10, 3);
  ASSERT_TRUE(v->Write(0, b).ok());
  fs_.FailNext("/vol/dirty", IoError("injected"));
  EXPECT_EQ(v->Close().code(), Code::kIoError);
  ASSERT_TRUE(v->Write(10, b).ok());
  ASSERT_TRUE(v->Close().ok());
  v = MustOpen("/vol");
  EXPECT_FALSE(v->unclean_open());
  EXPECT_EQ(v->Stats().dirty_blocks, 1u);
}

}  // namespace
}  // namespace kiln
