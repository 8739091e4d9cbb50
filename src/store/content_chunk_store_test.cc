#include "store/content_chunk_store.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <thread>

#include "crypto/sha256.h"
#include "env/mem_file_system.h"
#include "env/posix_file_system.h"
#include "store/chunk_frame.h"
#include "store/store_testing.h"

namespace kiln {
namespace {

using store_testing::DataKind;
using store_testing::MakeData;

class ContentChunkStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = LocalDirBackend::Open(fs_, "/chunks");
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    backend_ = std::move(*b);
    store_ = std::make_unique<ContentChunkStore>(*backend_);
  }

  // Replaces the stored frame of `id` with `bytes`.
  void Overwrite(const ChunkId& id, ByteView bytes) {
    ASSERT_TRUE(WriteFileAtomic(fs_, backend_->PathOf(id), bytes).ok());
  }
  Bytes StoredFrame(const ChunkId& id) { return *ReadFile(fs_, backend_->PathOf(id)); }

  // Get must fail with Corruption and return no data.
  void ExpectCorrupt(const ChunkId& id, const std::string& what) {
    Result<Bytes> got = store_->Get(id);
    ASSERT_FALSE(got.ok()) << what << ": damaged chunk returned as data";
    EXPECT_EQ(got.status().code(), Code::kCorruption) << what << ": " << got.status().ToString();
    EXPECT_NE(got.status().message().find(id.ToHex()), std::string::npos)
        << what << ": message should name the chunk: " << got.status().message();
  }

  MemFileSystem fs_;
  std::unique_ptr<LocalDirBackend> backend_;
  std::unique_ptr<ContentChunkStore> store_;
};

TEST_F(ContentChunkStoreTest, IdIsSha256OfPlaintext) {
  EXPECT_EQ(store_->IdFor(AsBytes("abc")).ToHex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(ContentChunkStoreTest, RoundTripsManySizesAndKinds) {
  const uint64_t seed = store_testing::TestSeed();
  SCOPED_TRACE("seed=" + std::to_string(seed));
  for (size_t size : {size_t{1}, size_t{2}, size_t{17}, size_t{4096}, size_t{4097}, size_t{65536},
                      kMaxChunkSize - 1, kMaxChunkSize}) {
    for (DataKind kind : {DataKind::kRandom, DataKind::kCompressible, DataKind::kZero}) {
      SCOPED_TRACE("size " + std::to_string(size) + " kind " + std::to_string(int(kind)));
      Bytes data = MakeData(size, kind, seed + size);
      Result<PutResult> put = store_->Put(data);
      ASSERT_TRUE(put.ok()) << put.status().ToString();
      EXPECT_EQ(put->id, store_->IdFor(data));
      Bytes frame = StoredFrame(put->id);
      EXPECT_EQ(put->stored ? put->stored_bytes : frame.size(), frame.size());
      EXPECT_LE(frame.size(), kChunkFrameHeaderSize + size) << "never bigger than raw";
      if (kind != DataKind::kRandom && size >= 4096) {
        EXPECT_LT(frame.size(), size / 2) << "compressible data should be compressed";
      }
      Result<Bytes> got = store_->Get(put->id);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_EQ(*got, data);
    }
  }
}

TEST_F(ContentChunkStoreTest, RejectsEmptyAndOversizedChunks) {
  EXPECT_EQ(store_->Put(ByteView()).status().code(), Code::kInvalidArgument);
  Bytes big(kMaxChunkSize + 1, 7);
  EXPECT_EQ(store_->Put(big).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->PutWithId(store_->IdFor(big), big).status().code(), Code::kInvalidArgument);
}

TEST_F(ContentChunkStoreTest, DeduplicatesIdenticalChunks) {
  Bytes data = MakeData(kMaxChunkSize, DataKind::kCompressible, 1);
  Result<PutResult> first = store_->Put(data);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->stored);
  EXPECT_GT(first->stored_bytes, 0u);
  Result<PutResult> second = store_->PutWithId(first->id, data);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->stored);
  EXPECT_EQ(second->stored_bytes, 0u);
  EXPECT_EQ(second->id, first->id);

  Result<StoreStats> stats = store_->Stats();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->chunks, 1u);
  EXPECT_EQ(stats->logical_bytes, kMaxChunkSize);
  EXPECT_EQ(stats->stored_bytes, first->stored_bytes);
}

TEST_F(ContentChunkStoreTest, HasListDeleteAndStats) {
  std::vector<ChunkId> ids;
  uint64_t logical = 0, stored = 0;
  for (int i = 0; i < 10; ++i) {
    Bytes data = MakeData(1000 * (i + 1), i % 2 ? DataKind::kRandom : DataKind::kCompressible, i);
    Result<PutResult> put = store_->Put(data);
    ASSERT_TRUE(put.ok());
    ids.push_back(put->id);
    logical += data.size();
    stored += put->stored_bytes;
  }
  std::vector<ChunkId> listed;
  ASSERT_TRUE(store_->List([&](const ChunkId& id) { listed.push_back(id); }).ok());
  std::sort(listed.begin(), listed.end());
  std::vector<ChunkId> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(listed, sorted);
  Result<StoreStats> stats = store_->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->chunks, 10u);
  EXPECT_EQ(stats->logical_bytes, logical);
  EXPECT_EQ(stats->stored_bytes, stored);

  ASSERT_TRUE(store_->Delete(ids[3]).ok());
  EXPECT_FALSE(*store_->Has(ids[3]));
  EXPECT_TRUE(*store_->Has(ids[4]));
  EXPECT_EQ(store_->Get(ids[3]).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->Stats()->chunks, 9u);
}

TEST_F(ContentChunkStoreTest, StatsReportsACorruptHeader) {
  Result<PutResult> put = store_->Put(MakeData(5000, DataKind::kCompressible, 3));
  ASSERT_TRUE(put.ok());
  Overwrite(put->id, AsBytes("garbage that is not a frame"));
  EXPECT_EQ(store_->Stats().status().code(), Code::kCorruption);
}

TEST_F(ContentChunkStoreTest, ConcurrentPutsOfOverlappingData) {
  constexpr int kThreads = 8, kDistinct = 24;
  std::vector<Bytes> blocks;
  for (int i = 0; i < kDistinct; ++i) {
    blocks.push_back(
        MakeData(64 * 1024 + i, i % 3 ? DataKind::kCompressible : DataKind::kRandom, i));
  }
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kDistinct * 2; ++i) {
        const Bytes& data = blocks[(i * 5 + t * 3) % kDistinct];
        Result<PutResult> put = store_->Put(data);
        if (!put.ok() || put->id != store_->IdFor(data)) failures[t]++;
        Result<Bytes> got = store_->Get(store_->IdFor(data));
        if (!got.ok() || *got != data) failures[t]++;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
  Result<StoreStats> stats = store_->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->chunks, uint64_t{kDistinct});
}

// Every damage is Corruption, with one exception the id check makes harmless: a flip in a zstd
// payload's slack (padding bits, an unused table entry) that still decodes to exactly the
// original plaintext. Then the data is right (its SHA-256 matches) and Get returns it.
TEST_F(ContentChunkStoreTest, DamagedFramesAreCorruptionNeverData) {
  for (DataKind kind : {DataKind::kCompressible, DataKind::kRandom}) {
    SCOPED_TRACE("kind " + std::to_string(int(kind)));
    Bytes data = MakeData(3000, kind, 42);
    Result<PutResult> put = store_->Put(data);
    ASSERT_TRUE(put.ok());
    const ChunkId id = put->id;
    const Bytes good = StoredFrame(id);
    const bool raw = good[5] == uint8_t(ChunkCodec::kRaw);
    EXPECT_EQ(raw, kind == DataKind::kRandom);
    int flips = 0, harmless = 0;
    for (size_t pos = 0; pos < good.size(); ++pos) {  // every byte, header and payload
      for (uint8_t mask : {0x01, 0x80, 0xff}) {
        Bytes bad = good;
        bad[pos] ^= mask;
        Overwrite(id, bad);
        const std::string what = "flip byte " + std::to_string(pos);
        ++flips;
        Result<Bytes> got = store_->Get(id);
        if (got.ok() && pos >= kChunkFrameHeaderSize && !raw) {
          ASSERT_EQ(*got, data) << what << ": wrong data returned";
          ++harmless;
          continue;
        }
        ExpectCorrupt(id, what);
      }
    }
    EXPECT_LT(harmless * 20, flips) << "most flips must be detected";
    for (size_t len = 0; len < good.size(); len += (len < 40 ? 1 : 97)) {
      Overwrite(id, ByteView(good).first(len));
      ExpectCorrupt(id, "truncated to " + std::to_string(len));
    }
    Bytes longer = good;
    longer.push_back(0);
    Overwrite(id, longer);
    ExpectCorrupt(id, "one byte appended");
    Bytes magic = good;
    magic[0] = 'X';
    Overwrite(id, magic);
    ExpectCorrupt(id, "wrong magic");
    Bytes middle = good;
    middle[kChunkFrameHeaderSize + (good.size() - kChunkFrameHeaderSize) / 2] ^= 0x55;
    Overwrite(id, middle);
    ExpectCorrupt(id, "payload byte in the middle");
    Overwrite(id, MakeData(good.size(), DataKind::kRandom, 9));
    ExpectCorrupt(id, "garbage");
    Overwrite(id, good);
    ASSERT_EQ(*store_->Get(id), data);
  }
}

TEST_F(ContentChunkStoreTest, WellFormedFrameOfOtherDataIsCorruption) {
  Bytes data = MakeData(10000, DataKind::kCompressible, 1);
  Result<PutResult> put = store_->Put(data);
  ASSERT_TRUE(put.ok());
  Bytes other = data;
  other[5000] ^= 1;
  Overwrite(put->id, EncodeChunkFrame(other, 1));
  Result<Bytes> got = store_->Get(put->id);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kCorruption);
  EXPECT_EQ(got.status().message(), "chunk " + put->id.ToHex() + ": content does not match its id");
}

TEST(ChunkFrameTest, EncodingChoosesTheSmallerForm) {
  Bytes random = MakeData(10000, DataKind::kRandom, 1);
  Bytes frame = EncodeChunkFrame(random, 1);
  EXPECT_EQ(frame.size(), kChunkFrameHeaderSize + random.size());
  EXPECT_EQ(frame[5], uint8_t(ChunkCodec::kRaw));
  Bytes zeros(kMaxChunkSize, 0);
  frame = EncodeChunkFrame(zeros, 1);
  EXPECT_EQ(frame[5], uint8_t(ChunkCodec::kZstd));
  EXPECT_LT(frame.size(), 200u);
  EXPECT_EQ(std::string(frame.begin(), frame.begin() + 4), "KLNC");
  EXPECT_EQ(frame[4], 1);
  EXPECT_EQ(GetU32(&frame[8]), kMaxChunkSize);
  EXPECT_EQ(GetU32(&frame[12]), frame.size() - kChunkFrameHeaderSize);
  EXPECT_EQ(*DecodeChunkFrame(frame), zeros);
  EXPECT_EQ(*FramePlaintextSize(ByteView(frame).first(16)), kMaxChunkSize);
  Bytes one{7};
  EXPECT_EQ(*DecodeChunkFrame(EncodeChunkFrame(one, 1)), one);
}

// Re-frames `payload` with a fresh, valid header.
Bytes Frame(ChunkCodec codec, uint8_t flags, uint32_t plaintext_size, ByteView payload) {
  Bytes f(kChunkFrameHeaderSize);
  WriteChunkFrameHeader({codec, flags, plaintext_size, uint32_t(payload.size())}, f.data());
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

TEST(ChunkFrameTest, DecodeRejectsInconsistentFrames) {
  Bytes data = MakeData(20000, DataKind::kCompressible, 5);
  Bytes z(ZSTD_compressBound(data.size()));
  z.resize(ZSTD_compress(z.data(), z.size(), data.data(), data.size(), 1));
  auto expect_corrupt = [](const Bytes& frame, const std::string& what) {
    Result<Bytes> r = DecodeChunkFrame(frame);
    EXPECT_EQ(r.status().code(), Code::kCorruption) << what;
  };
  ASSERT_TRUE(DecodeChunkFrame(Frame(ChunkCodec::kZstd, 0, 20000, z)).ok());
  expect_corrupt(Frame(ChunkCodec::kZstd, 0, 19999, z), "declared size too small");
  expect_corrupt(Frame(ChunkCodec::kZstd, 0, 20001, z), "declared size too big");
  expect_corrupt(Frame(ChunkCodec::kZstd, 0, 0, z), "plaintext size 0");
  expect_corrupt(Frame(ChunkCodec::kZstd, 0, kMaxChunkSize + 1, z), "plaintext too big");
  expect_corrupt(Frame(ChunkCodec::kZstd, kChunkFlagSealed, 20000, z), "sealed");
  expect_corrupt(Frame(ChunkCodec::kZstd, 0x80, 20000, z), "unknown flag");
  expect_corrupt(Frame(ChunkCodec(2), 0, 20000, z), "unknown codec");
  expect_corrupt(Frame(ChunkCodec::kRaw, 0, 20000, z), "raw with wrong size");
  Bytes with_trailing = z;
  with_trailing.push_back(0);
  expect_corrupt(Frame(ChunkCodec::kZstd, 0, 20000, with_trailing), "bytes after the zstd frame");
  // A zstd frame that does not declare its content size.
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
  Bytes unsized(ZSTD_compressBound(data.size()));
  unsized.resize(ZSTD_compress2(cctx, unsized.data(), unsized.size(), data.data(), data.size()));
  ZSTD_freeCCtx(cctx);
  expect_corrupt(Frame(ChunkCodec::kZstd, 0, 20000, unsized), "no content size");
  // Header says more payload than there is (and less).
  Bytes f = Frame(ChunkCodec::kZstd, 0, 20000, z);
  PutU32(&f[12], uint32_t(z.size() + 1));
  expect_corrupt(f, "payload size too big");
  PutU32(&f[12], uint32_t(z.size() - 1));
  expect_corrupt(f, "payload size too small");
  PutU32(&f[12], 0xffffffff);
  expect_corrupt(f, "payload size huge");
}

// --- Crash tests: a power loss at any point of a Put never leaves a damaged chunk. ---

struct CrashCase {
  CrashMode mode;
  uint64_t seed;
};

// Opens a store on `fs`, arms the crash point `k` (or none if k < 0), puts `data`, crashes,
// reopens and checks: the chunk is absent or exactly `data`; it is present if the Put returned
// OK; no temp file survives Open. Returns the number of mutating operations the Put made.
// Data of a chunk that lands in the same shard directory as `data`.
Bytes NeighbourOf(const Bytes& data) {
  const uint8_t shard = Sha256(data)[0];
  for (int i = 0;; ++i) {
    std::string s = "earlier chunk " + std::to_string(i);
    if (Sha256(AsBytes(s))[0] == shard) return Bytes(s.begin(), s.end());
  }
}

int64_t PutCrashAndCheck(const Bytes& data, int64_t k, CrashCase c) {
  MemFileSystem fs;
  auto backend = LocalDirBackend::Open(fs, "/c");
  EXPECT_TRUE(backend.ok()) << backend.status().ToString();
  if (!backend.ok()) return 0;
  ContentChunkStore store(**backend);
  // An earlier chunk in the same shard must survive the crash untouched.
  const Bytes earlier = NeighbourOf(data);
  EXPECT_TRUE(store.Put(earlier).ok());
  const int64_t before = fs.mutating_ops();
  fs.SetCrashAfter(k);
  Result<PutResult> put = store.Put(data);
  const int64_t ops = fs.mutating_ops() - before;
  fs.Crash(c.mode, c.seed);

  auto reopened = LocalDirBackend::Open(fs, "/c");
  EXPECT_TRUE(reopened.ok()) << "crash point " << k << ": " << reopened.status().ToString();
  if (!reopened.ok()) return ops;
  ContentChunkStore after(**reopened);
  const ChunkId id = after.IdFor(data);
  Result<Bytes> got = after.Get(id);
  if (got.ok()) {
    EXPECT_EQ(*got, data) << "crash point " << k;
  } else {
    EXPECT_EQ(got.status().code(), Code::kNotFound)
        << "crash point " << k << ": " << got.status().ToString();
    EXPECT_FALSE(put.ok()) << "crash point " << k << ": an acknowledged Put was lost";
  }
  Result<Bytes> earlier_got = after.Get(after.IdFor(earlier));
  EXPECT_TRUE(earlier_got.ok() && *earlier_got == earlier) << "crash point " << k;
  auto names = fs.ListDir(DirName((*reopened)->PathOf(id)));
  EXPECT_TRUE(names.ok());
  if (names.ok()) {
    for (const auto& name : *names) {
      EXPECT_EQ(name.find(".tmp-"), std::string::npos) << "crash point " << k << ": " << name;
    }
  }
  // The store works after the crash.
  EXPECT_TRUE(after.Put(data).ok());
  EXPECT_EQ(*after.Get(id), data);
  return ops;
}

void CrashAtEveryPoint(const Bytes& data, CrashCase c) {
  const int64_t ops = PutCrashAndCheck(data, -1, c);
  ASSERT_GE(ops, 4) << "create, write, sync, rename, sync dir";
  for (int64_t k = 0; k <= ops; ++k) PutCrashAndCheck(data, k, c);
}

TEST(ContentChunkStoreCrashTest, DropUnsyncedAtEveryCrashPoint) {
  for (DataKind kind : {DataKind::kCompressible, DataKind::kRandom}) {
    CrashAtEveryPoint(MakeData(kMaxChunkSize, kind, 1), {CrashMode::kDropUnsynced, 0});
    CrashAtEveryPoint(MakeData(100, kind, 2), {CrashMode::kDropUnsynced, 0});
  }
}

TEST(ContentChunkStoreCrashTest, KeepSomeUnsyncedAtEveryCrashPoint) {
  const uint64_t seed = store_testing::TestSeed();
  SCOPED_TRACE("seed=" + std::to_string(seed));
  for (uint64_t i = 0; i < 8; ++i) {
    SCOPED_TRACE("crash seed " + std::to_string(seed + i));
    CrashAtEveryPoint(MakeData(200000, DataKind::kCompressible, seed + i),
                      {CrashMode::kKeepSomeUnsynced, seed + i});
  }
}

}  // namespace
}  // namespace kiln
