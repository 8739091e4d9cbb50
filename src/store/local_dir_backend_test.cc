#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <thread>

#include "env/mem_file_system.h"
#include "env/posix_file_system.h"
#include "store/chunk_backend.h"
#include "store/store_testing.h"

namespace kiln {
namespace {

ChunkId IdOf(int n) {
  ChunkId id;
  std::mt19937_64 rng(n);
  for (auto& b : id.bytes) b = static_cast<uint8_t>(rng());
  return id;
}

Bytes FrameOf(int n, size_t size = 100) {
  return store_testing::MakeData(size, store_testing::DataKind::kRandom, n);
}

std::unique_ptr<LocalDirBackend> OpenOk(FileSystem& fs, const std::string& root) {
  auto backend = LocalDirBackend::Open(fs, root);
  EXPECT_TRUE(backend.ok()) << backend.status().ToString();
  return backend.ok() ? std::move(*backend) : nullptr;
}

std::map<ChunkId, uint64_t> ListAll(ChunkBackend& b) {
  std::map<ChunkId, uint64_t> out;
  Status s = b.List([&](const ChunkId& id, uint64_t size) { out[id] = size; });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

TEST(LocalDirBackendTest, OpenCreatesShardsDurably) {
  MemFileSystem fs;
  ASSERT_NE(OpenOk(fs, "/store/chunks"), nullptr);
  fs.Crash();  // everything Open created must have been synced
  auto names = fs.ListDir("/store/chunks");
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_EQ(names->size(), 256u);
  EXPECT_TRUE(Exists(fs, "/store/chunks/00"));
  EXPECT_TRUE(Exists(fs, "/store/chunks/ff"));
  EXPECT_TRUE(Exists(fs, "/store/chunks/a7"));
}

TEST(LocalDirBackendTest, PutGetHasDelete) {
  MemFileSystem fs;
  auto b = OpenOk(fs, "/s");
  const ChunkId id = IdOf(1);
  EXPECT_EQ(b->PathOf(id), "/s/" + id.ToHex().substr(0, 2) + "/" + id.ToHex());

  Result<bool> has = b->Has(id);
  ASSERT_TRUE(has.ok());
  EXPECT_FALSE(*has);
  Result<Bytes> missing = b->Get(id);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);

  ASSERT_TRUE(b->Put(id, FrameOf(1)).ok());
  EXPECT_TRUE(*b->Has(id));
  Result<Bytes> got = b->Get(id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, FrameOf(1));
  const Bytes frame = FrameOf(1);
  Result<Bytes> prefix = b->GetPrefix(id, 16);
  ASSERT_TRUE(prefix.ok());
  EXPECT_EQ(*prefix, Bytes(frame.begin(), frame.begin() + 16));
  EXPECT_EQ(*b->GetPrefix(id, 1000), frame) << "a prefix longer than the frame is the frame";

  ASSERT_TRUE(b->Delete(id).ok());
  EXPECT_FALSE(*b->Has(id));
  EXPECT_TRUE(b->Delete(id).ok()) << "delete of a missing chunk is OK";
  EXPECT_EQ(b->Get(id).status().code(), Code::kNotFound);
}

TEST(LocalDirBackendTest, PutIsDurableWhenItReturns) {
  MemFileSystem fs;
  auto b = OpenOk(fs, "/s");
  ASSERT_TRUE(b->Put(IdOf(1), FrameOf(1)).ok());
  fs.Crash();
  b = OpenOk(fs, "/s");
  Result<Bytes> got = b->Get(IdOf(1));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, FrameOf(1));
}

TEST(LocalDirBackendTest, PutOfPresentIdWritesNothing) {
  MemFileSystem fs;
  auto b = OpenOk(fs, "/s");
  ASSERT_TRUE(b->Put(IdOf(1), FrameOf(1)).ok());
  const int64_t before = fs.mutating_ops();
  ASSERT_TRUE(b->Put(IdOf(1), FrameOf(1)).ok());
  EXPECT_EQ(fs.mutating_ops(), before);
}

TEST(LocalDirBackendTest, ListReportsChunksAndIgnoresOtherNames) {
  MemFileSystem fs;
  auto b = OpenOk(fs, "/s");
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(b->Put(IdOf(i), FrameOf(i, 10 + i)).ok());
  const std::string hex = IdOf(0).ToHex();
  const std::string shard = "/s/" + hex.substr(0, 2) + "/";
  std::string upper = hex;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  std::string wrong_shard = hex;
  wrong_shard[0] = wrong_shard[0] == '0' ? '1' : '0';
  for (const std::string& junk : {upper, wrong_shard, hex.substr(0, 63), hex + "0",
                                  std::string("README"), hex + ".tmp-1-2"}) {
    auto f = fs.Open(shard + junk, OpenMode::kCreate);
    ASSERT_TRUE(f.ok()) << junk;
  }
  ASSERT_TRUE(fs.Open("/s/stray-file", OpenMode::kCreate).ok());
  std::map<ChunkId, uint64_t> listed = ListAll(*b);
  ASSERT_EQ(listed.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(listed[IdOf(i)], 10u + i);
}

TEST(LocalDirBackendTest, OpenRemovesLeftoverTempFiles) {
  MemFileSystem fs;
  auto b = OpenOk(fs, "/s");
  ASSERT_TRUE(b->Put(IdOf(1), FrameOf(1)).ok());
  const std::string path = b->PathOf(IdOf(2));
  ASSERT_TRUE(fs.Open(path + ".tmp-77-0", OpenMode::kCreate).ok());
  ASSERT_TRUE(fs.Open("/s/00/whatever.tmp-5", OpenMode::kCreate).ok());
  b = OpenOk(fs, "/s");
  EXPECT_FALSE(Exists(fs, path + ".tmp-77-0"));
  EXPECT_FALSE(Exists(fs, "/s/00/whatever.tmp-5"));
  EXPECT_TRUE(*b->Has(IdOf(1)));
}

TEST(LocalDirBackendTest, FailedPutLeavesNothingBehind) {
  MemFileSystem fs;
  auto b = OpenOk(fs, "/s");
  fs.FailNext(".tmp-", IoError("disk full"), 1);  // the WriteAt or Open of the temp file
  Status s = b->Put(IdOf(1), FrameOf(1));
  EXPECT_EQ(s.code(), Code::kIoError) << s.ToString();
  EXPECT_FALSE(*b->Has(IdOf(1)));
  auto names = fs.ListDir("/s/" + IdOf(1).ToHex().substr(0, 2));
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty());
}

// Many threads put overlapping sets of ids: every Put succeeds and exactly one copy is left.
void ConcurrentPuts(FileSystem& fs, const std::string& root) {
  auto b = OpenOk(fs, root);
  constexpr int kThreads = 8, kIds = 64;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < kIds; ++i) {
          const int n = (i * 7 + t * 13 + round) % kIds;  // every thread visits every id
          if (!b->Put(IdOf(n), FrameOf(n, 1000 + n)).ok()) failures[t]++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
  std::map<ChunkId, uint64_t> listed = ListAll(*b);
  EXPECT_EQ(listed.size(), size_t{kIds});
  for (int n = 0; n < kIds; ++n) {
    Result<Bytes> got = b->Get(IdOf(n));
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, FrameOf(n, 1000 + n));
  }
  for (int s = 0; s < 256; ++s) {
    static constexpr char kDigits[] = "0123456789abcdef";
    auto names = fs.ListDir(JoinPath(root, std::string{kDigits[s >> 4], kDigits[s & 15]}));
    ASSERT_TRUE(names.ok());
    for (const auto& name : *names) EXPECT_EQ(name.find(".tmp-"), std::string::npos) << name;
  }
}

TEST(LocalDirBackendTest, ConcurrentPutsMemFs) {
  MemFileSystem fs;
  ConcurrentPuts(fs, "/s");
}

TEST(LocalDirBackendTest, ConcurrentPutsPosix) {
  store_testing::TempDir dir;
  PosixFileSystem fs;
  ConcurrentPuts(fs, JoinPath(dir.path(), "chunks"));
}

// A crash at any point of Open leaves a root that the next Open completes.
TEST(LocalDirBackendTest, CrashDuringOpen) {
  int64_t ops;
  {
    MemFileSystem fs;
    ASSERT_NE(OpenOk(fs, "/a/b"), nullptr);
    ops = fs.mutating_ops();
  }
  for (int64_t k = 0; k <= ops; ++k) {
    SCOPED_TRACE("crash point " + std::to_string(k));
    MemFileSystem fs;
    fs.SetCrashAfter(k);
    LocalDirBackend::Open(fs, "/a/b").status().IgnoreError();
    fs.Crash();
    auto b = OpenOk(fs, "/a/b");
    ASSERT_NE(b, nullptr);
    ASSERT_TRUE(b->Put(IdOf(k), FrameOf(k)).ok());
    EXPECT_EQ(*b->Get(IdOf(k)), FrameOf(k));
  }
}

}  // namespace
}  // namespace kiln
