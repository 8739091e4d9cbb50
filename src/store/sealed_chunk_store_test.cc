#include "store/sealed_chunk_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "crypto/sha256.h"
#include "env/mem_file_system.h"
#include "env/posix_file_system.h"
#include "store/chunk_frame.h"
#include "store/content_chunk_store.h"
#include "store/store_testing.h"

namespace kiln {
namespace {

using store_testing::DataKind;
using store_testing::MakeData;

LineageKeys KeysFor(uint8_t seed) {
  LineageId lineage;
  lineage.fill(seed);
  Key256 data_key;
  data_key.fill(static_cast<uint8_t>(seed * 7 + 1));
  Result<LineageKeys> keys = LineageKeys::Derive(lineage, data_key);
  EXPECT_TRUE(keys.ok()) << keys.status().ToString();
  return *keys;
}

class SealedChunkStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = LocalDirBackend::Open(fs_, "/chunks");
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    backend_ = std::move(*b);
    a_ = std::make_unique<SealedChunkStore>(*backend_, KeysFor(1));
    b_ = std::make_unique<SealedChunkStore>(*backend_, KeysFor(2));
  }

  void Overwrite(const ChunkId& id, ByteView bytes) {
    ASSERT_TRUE(WriteFileAtomic(fs_, backend_->PathOf(id), bytes).ok());
  }
  Bytes StoredFrame(const ChunkId& id) { return *ReadFile(fs_, backend_->PathOf(id)); }

  // Get must fail with Corruption naming the chunk, and return no data.
  static void ExpectCorrupt(ChunkStore& store, const ChunkId& id, const std::string& what) {
    Result<Bytes> got = store.Get(id);
    ASSERT_FALSE(got.ok()) << what << ": damaged chunk returned as data";
    EXPECT_EQ(got.status().code(), Code::kCorruption) << what << ": " << got.status().ToString();
    EXPECT_NE(got.status().message().find(id.ToHex()), std::string::npos)
        << what << ": message should name the chunk: " << got.status().message();
  }
  static std::string AuthFailed(const ChunkId& id) {
    return "chunk " + id.ToHex() +
           ": authentication failed (tampered, or sealed under another key)";
  }

  MemFileSystem fs_;
  std::unique_ptr<LocalDirBackend> backend_;
  std::unique_ptr<SealedChunkStore> a_, b_;
};

TEST_F(SealedChunkStoreTest, IdIsHmacUnderTheLineageIdKey) {
  const ByteView abc = AsBytes("abc");
  EXPECT_EQ(a_->IdFor(abc).bytes, HmacSha256(KeysFor(1).id_key, abc));
  EXPECT_NE(a_->IdFor(abc), b_->IdFor(abc));
  EXPECT_NE(a_->IdFor(abc).bytes, Sha256(abc)) << "ids must not be the plain content hash";
  EXPECT_EQ(a_->lineage(), KeysFor(1).lineage);
}

TEST_F(SealedChunkStoreTest, RoundTripsManySizesAndKinds) {
  const uint64_t seed = store_testing::TestSeed();
  SCOPED_TRACE("seed=" + std::to_string(seed));
  for (size_t size : {size_t{1}, size_t{2}, size_t{17}, size_t{4096}, size_t{4097}, size_t{65536},
                      kMaxChunkSize - 1, kMaxChunkSize}) {
    for (DataKind kind : {DataKind::kRandom, DataKind::kCompressible, DataKind::kZero}) {
      SCOPED_TRACE("size " + std::to_string(size) + " kind " + std::to_string(int(kind)));
      const Bytes data = MakeData(size, kind, seed + size);
      Result<PutResult> put = a_->Put(data);
      ASSERT_TRUE(put.ok()) << put.status().ToString();
      EXPECT_EQ(put->id, a_->IdFor(data));
      const Bytes frame = StoredFrame(put->id);
      if (put->stored) {
        EXPECT_EQ(put->stored_bytes, frame.size());
      }
      Result<ChunkFrameHeader> header = ParseChunkFrameHeader(frame, kChunkFlagSealed);
      ASSERT_TRUE(header.ok()) << header.status().ToString();
      EXPECT_EQ(header->flags, kChunkFlagSealed);
      EXPECT_EQ(header->plaintext_size, size);
      EXPECT_EQ(header->payload_size, frame.size() - kFrameHeaderSize);
      EXPECT_LE(frame.size(), kFrameHeaderSize + kGcmNonceSize + size + kGcmTagSize);
      if (kind != DataKind::kRandom && size >= 4096) {
        EXPECT_EQ(header->codec, ChunkCodec::kZstd);
        EXPECT_LT(frame.size(), size / 2) << "compression happens before sealing";
      }
      Result<Bytes> got = a_->Get(put->id);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_EQ(*got, data);
    }
  }
}

TEST_F(SealedChunkStoreTest, RejectsEmptyAndOversizedChunks) {
  EXPECT_EQ(a_->Put(ByteView()).status().code(), Code::kInvalidArgument);
  const Bytes big(kMaxChunkSize + 1, 7);
  EXPECT_EQ(a_->Put(big).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(a_->PutWithId(a_->IdFor(big), big).status().code(), Code::kInvalidArgument);
}

TEST_F(SealedChunkStoreTest, DeduplicatesWithinALineage) {
  const Bytes data = MakeData(kMaxChunkSize, DataKind::kCompressible, 1);
  Result<PutResult> first = a_->Put(data);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->stored);
  Result<PutResult> second = a_->PutWithId(first->id, data);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->stored);
  EXPECT_EQ(second->stored_bytes, 0u);
  // Another store object of the same lineage (a volume made from a snapshot) dedups too.
  SealedChunkStore same_lineage(*backend_, KeysFor(1));
  Result<PutResult> third = same_lineage.Put(data);
  ASSERT_TRUE(third.ok());
  EXPECT_FALSE(third->stored);
  EXPECT_EQ(third->id, first->id);
  Result<StoreStats> stats = a_->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->chunks, 1u);
  EXPECT_EQ(stats->logical_bytes, kMaxChunkSize);
  EXPECT_EQ(stats->stored_bytes, first->stored_bytes);
}

TEST_F(SealedChunkStoreTest, SamePlaintextInTwoLineagesIsTwoUnrelatedChunks) {
  const Bytes data = MakeData(100000, DataKind::kCompressible, 2);
  Result<PutResult> in_a = a_->Put(data);
  Result<PutResult> in_b = b_->Put(data);
  ASSERT_TRUE(in_a.ok() && in_b.ok());
  EXPECT_NE(in_a->id, in_b->id);
  EXPECT_TRUE(in_a->stored);
  EXPECT_TRUE(in_b->stored) << "no dedup across keys";
  EXPECT_NE(StoredFrame(in_a->id), StoredFrame(in_b->id));
  EXPECT_EQ(a_->Stats()->chunks, 2u);
  EXPECT_EQ(*a_->Get(in_a->id), data);
  EXPECT_EQ(*b_->Get(in_b->id), data);
  // Neither can read the other's chunk: the frame is there, its key is not.
  ExpectCorrupt(*a_, in_b->id, "A reads B's chunk");
  ExpectCorrupt(*b_, in_a->id, "B reads A's chunk");
  EXPECT_EQ(a_->Get(in_b->id).status().message(), AuthFailed(in_b->id));
  // And a chunk that is nowhere is NotFound.
  EXPECT_EQ(a_->Get(a_->IdFor(AsBytes("never stored"))).status().code(), Code::kNotFound);
}

// The lineage id is bound as associated data on its own: even under identical keys, a frame
// sealed for one lineage does not open for another.
TEST_F(SealedChunkStoreTest, AssociatedDataBindsTheLineage) {
  LineageKeys twin = KeysFor(1);
  twin.lineage[0] ^= 1;
  SealedChunkStore other(*backend_, twin);
  Result<PutResult> put = a_->Put(MakeData(5000, DataKind::kRandom, 3));
  ASSERT_TRUE(put.ok());
  ExpectCorrupt(other, put->id, "same keys, other lineage");
  EXPECT_EQ(other.Get(put->id).status().message(), AuthFailed(put->id));
}

TEST_F(SealedChunkStoreTest, SealedAndUnsealedFramesNeverCrossOver) {
  ContentChunkStore plain(*backend_);
  const Bytes data = MakeData(20000, DataKind::kCompressible, 4);
  Result<PutResult> sealed = a_->Put(data);
  Result<PutResult> unsealed = plain.Put(data);
  ASSERT_TRUE(sealed.ok() && unsealed.ok());
  EXPECT_NE(sealed->id, unsealed->id);
  // ContentChunkStore rejects a sealed frame; SealedChunkStore an unsealed one.
  ExpectCorrupt(plain, sealed->id, "content store reads a sealed frame");
  EXPECT_EQ(DecodeChunkFrame(StoredFrame(sealed->id)).status().code(), Code::kCorruption);
  ExpectCorrupt(*a_, unsealed->id, "sealed store reads an unsealed frame");
  EXPECT_EQ(a_->Get(unsealed->id).status().message(),
            "chunk " + unsealed->id.ToHex() + ": frame is not sealed");
  // An unsealed frame of the right plaintext planted under a sealed id is still refused.
  Overwrite(sealed->id, EncodeChunkFrame(data, 1));
  ExpectCorrupt(*a_, sealed->id, "unsealed frame under a sealed id");
  // Stats counts the whole backend: both lineages' and the unencrypted chunks.
  ASSERT_TRUE(b_->Put(data).ok());
  Result<StoreStats> stats = b_->Stats();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->chunks, 3u);
  EXPECT_EQ(stats->logical_bytes, 3 * data.size());
}

TEST_F(SealedChunkStoreTest, HasListDelete) {
  std::vector<ChunkId> ids;
  for (int i = 0; i < 6; ++i) {
    Result<PutResult> put = a_->Put(MakeData(1000 + i, DataKind::kCompressible, i));
    ASSERT_TRUE(put.ok());
    ids.push_back(put->id);
  }
  std::vector<ChunkId> listed;
  ASSERT_TRUE(a_->List([&](const ChunkId& id) { listed.push_back(id); }).ok());
  std::sort(listed.begin(), listed.end());
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(listed, ids);
  ASSERT_TRUE(a_->Delete(ids[2]).ok());
  EXPECT_FALSE(*a_->Has(ids[2]));
  EXPECT_TRUE(*a_->Has(ids[3]));
  EXPECT_EQ(a_->Get(ids[2]).status().code(), Code::kNotFound);
  EXPECT_TRUE(a_->Delete(ids[2]).ok()) << "deleting an absent chunk is OK";
}

// Every single-byte change of a stored frame (header, nonce, ciphertext, tag) is Corruption.
// Unlike the unsealed store there is no harmless flip: GCM authenticates every payload bit, and
// a header change either fails validation or decodes to bytes whose keyed id is wrong.
TEST_F(SealedChunkStoreTest, EveryByteFlipIsCorruptionNeverData) {
  for (DataKind kind : {DataKind::kCompressible, DataKind::kRandom}) {
    SCOPED_TRACE("kind " + std::to_string(int(kind)));
    const Bytes data = MakeData(3000, kind, 42);
    Result<PutResult> put = a_->Put(data);
    ASSERT_TRUE(put.ok());
    const ChunkId id = put->id;
    const Bytes good = StoredFrame(id);
    EXPECT_EQ(good[5] == uint8_t(ChunkCodec::kRaw), kind == DataKind::kRandom);
    for (size_t pos = 0; pos < good.size(); ++pos) {
      for (uint8_t mask : {0x01, 0x80, 0xff}) {
        Bytes bad = good;
        bad[pos] ^= mask;
        Overwrite(id, bad);
        ExpectCorrupt(*a_, id,
                      "flip byte " + std::to_string(pos) + " mask " + std::to_string(mask));
        if (pos >= kFrameHeaderSize && mask == 0x01) {
          EXPECT_EQ(a_->Get(id).status().message(), AuthFailed(id)) << "flip byte " << pos;
        }
      }
    }
    for (size_t len = 0; len < good.size(); len += (len < 64 ? 1 : 97)) {
      Overwrite(id, ByteView(good).first(len));
      ExpectCorrupt(*a_, id, "truncated to " + std::to_string(len));
    }
    // Truncated with a header that agrees: the GCM tag is what catches it.
    Bytes shorter(good.begin(), good.end() - 1);
    PutU32(&shorter[12], GetU32(&shorter[12]) - 1);
    Overwrite(id, shorter);
    ExpectCorrupt(*a_, id, "consistently truncated");
    Bytes longer = good;
    longer.push_back(0);
    Overwrite(id, longer);
    ExpectCorrupt(*a_, id, "one byte appended");
    Overwrite(id, good);
    ASSERT_EQ(*a_->Get(id), data);
  }
}

TEST_F(SealedChunkStoreTest, FrameMovedToAnotherIdIsCorruption) {
  Result<PutResult> x = a_->Put(MakeData(8000, DataKind::kCompressible, 5));
  Result<PutResult> y = a_->Put(MakeData(8000, DataKind::kCompressible, 6));
  ASSERT_TRUE(x.ok() && y.ok());
  Overwrite(y->id, StoredFrame(x->id));
  ExpectCorrupt(*a_, y->id, "x's frame at y");
  EXPECT_EQ(a_->Get(y->id).status().message(), AuthFailed(y->id));
  const ChunkId fresh = a_->IdFor(AsBytes("a chunk that was never put"));
  Overwrite(fresh, StoredFrame(x->id));
  ExpectCorrupt(*a_, fresh, "x's frame at an unused id");
  EXPECT_TRUE(a_->Get(x->id).ok()) << "the original stays readable";
}

TEST_F(SealedChunkStoreTest, ConcurrentPutsAndGetsInTwoLineages) {
  constexpr int kThreads = 6, kDistinct = 12;
  std::vector<Bytes> blocks;
  for (int i = 0; i < kDistinct; ++i) {
    blocks.push_back(
        MakeData(64 * 1024 + i, i % 3 ? DataKind::kCompressible : DataKind::kRandom, i));
  }
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      SealedChunkStore& store = t % 2 ? *a_ : *b_;
      for (int i = 0; i < kDistinct * 2; ++i) {
        const Bytes& data = blocks[(i * 5 + t * 3) % kDistinct];
        Result<PutResult> put = store.Put(data);
        if (!put.ok() || put->id != store.IdFor(data)) failures[t]++;
        Result<Bytes> got = store.Get(store.IdFor(data));
        if (!got.ok() || *got != data) failures[t]++;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
  EXPECT_EQ(a_->Stats()->chunks, uint64_t{2 * kDistinct});
}

TEST(SealedChunkFrameTest, OpenChecksHeaderAndId) {
  const LineageKeys keys = KeysFor(9);
  const Bytes data = MakeData(5000, DataKind::kCompressible, 7);
  const ChunkId id{HmacSha256(keys.id_key, data)};
  Result<Bytes> frame = SealChunkFrame(keys, id, data, 1);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(*OpenSealedChunkFrame(keys, id, *frame), data);
  // Sealed under a wrong id (a caller bug PutWithId would catch in debug): opens under that id,
  // but the plaintext's keyed hash is not the id, so it is still refused.
  const ChunkId wrong = ChunkId{Sha256(data)};
  Result<Bytes> mislabelled = SealChunkFrame(keys, wrong, data, 1);
  ASSERT_TRUE(mislabelled.ok());
  Result<Bytes> opened = OpenSealedChunkFrame(keys, wrong, *mislabelled);
  EXPECT_EQ(opened.status().code(), Code::kCorruption);
  EXPECT_EQ(opened.status().message(),
            "chunk " + wrong.ToHex() + ": content does not match its id");
  // A header that lies about the codec or size (the header is not under the GCM tag).
  for (int field : {5, 8, 9, 10}) {
    Bytes bad = *frame;
    if (field == 5) bad[5] = uint8_t(ChunkCodec::kRaw);
    if (field != 5) bad[field] ^= 0x01;
    EXPECT_EQ(OpenSealedChunkFrame(keys, id, bad).status().code(), Code::kCorruption) << field;
  }
}

// --- At rest: a recognizable marker in the plaintext never reaches the disk. ---

// True if `needle` occurs in any file under `dir` (the raw bytes on disk).
bool AnyFileContains(const std::string& dir, std::string_view needle) {
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(needle) != std::string::npos) return true;
  }
  return false;
}

// Chunks that carry `marker`: incompressible data with the marker at several offsets (stored
// raw by an unsealed store), text made of it (compressed), and the marker alone.
std::vector<Bytes> MarkedChunks(std::string_view marker) {
  std::vector<Bytes> chunks;
  Bytes random = MakeData(kMaxChunkSize, DataKind::kRandom, 11);
  for (size_t off : {size_t{0}, size_t{4096}, size_t{300000}, kMaxChunkSize - marker.size()}) {
    std::copy(marker.begin(), marker.end(), random.begin() + off);
  }
  chunks.push_back(random);
  Bytes text;
  for (int i = 0; text.size() + marker.size() + 8 < 200000; ++i) {
    const std::string line = std::string(marker) + " line " + std::to_string(i) + "\n";
    text.insert(text.end(), line.begin(), line.end());
  }
  chunks.push_back(text);
  chunks.emplace_back(marker.begin(), marker.end());
  return chunks;
}

TEST(SealedChunkStoreAtRestTest, MarkerNeverAppearsInStoredFiles) {
  constexpr std::string_view kMarker = "KILN-AT-REST-MARKER-7f3a9c1e";
  store_testing::TempDir tmp;
  PosixFileSystem fs;
  const std::string sealed_root = JoinPath(tmp.path(), "sealed");
  const std::string plain_root = JoinPath(tmp.path(), "plain");
  auto sealed_backend = LocalDirBackend::Open(fs, sealed_root);
  auto plain_backend = LocalDirBackend::Open(fs, plain_root);
  ASSERT_TRUE(sealed_backend.ok() && plain_backend.ok());
  SealedChunkStore sealed(**sealed_backend, KeysFor(3));
  ContentChunkStore plain(**plain_backend);
  for (const Bytes& chunk : MarkedChunks(kMarker)) {
    Result<PutResult> put = sealed.Put(chunk);
    ASSERT_TRUE(put.ok()) << put.status().ToString();
    ASSERT_TRUE(plain.Put(chunk).ok());
    EXPECT_EQ(*sealed.Get(put->id), chunk);
  }
  EXPECT_FALSE(AnyFileContains(sealed_root, kMarker)) << "plaintext found at rest";
  // The control proves the scan finds the marker where it is stored in the clear.
  EXPECT_TRUE(AnyFileContains(plain_root, kMarker));
}

// --- Crash tests: a power loss at any point of a sealed Put leaves the chunk absent or exact. ---

// Data of a chunk whose keyed id lands in the same shard directory as `data`'s.
Bytes NeighbourOf(const SealedChunkStore& store, const Bytes& data) {
  const uint8_t shard = store.IdFor(data).bytes[0];
  for (int i = 0;; ++i) {
    const std::string s = "earlier chunk " + std::to_string(i);
    if (store.IdFor(AsBytes(s)).bytes[0] == shard) return Bytes(s.begin(), s.end());
  }
}

// Puts `data` with the crash point `k` armed (none if k < 0), crashes, reopens and checks. Returns
// the number of mutating operations the Put made.
int64_t SealedPutCrashAndCheck(const Bytes& data, int64_t k, CrashMode mode, uint64_t seed) {
  const LineageKeys keys = KeysFor(4);
  MemFileSystem fs;
  auto backend = LocalDirBackend::Open(fs, "/c");
  EXPECT_TRUE(backend.ok());
  if (!backend.ok()) return 0;
  SealedChunkStore store(**backend, keys);
  const Bytes earlier = NeighbourOf(store, data);
  EXPECT_TRUE(store.Put(earlier).ok());
  const int64_t before = fs.mutating_ops();
  fs.SetCrashAfter(k);
  Result<PutResult> put = store.Put(data);
  const int64_t ops = fs.mutating_ops() - before;
  fs.Crash(mode, seed);

  auto reopened = LocalDirBackend::Open(fs, "/c");
  EXPECT_TRUE(reopened.ok()) << "crash point " << k;
  if (!reopened.ok()) return ops;
  SealedChunkStore after(**reopened, keys);
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
  EXPECT_TRUE(after.Put(data).ok());
  EXPECT_EQ(*after.Get(id), data) << "crash point " << k;
  return ops;
}

TEST(SealedChunkStoreCrashTest, AbsentOrExactAtEveryCrashPoint) {
  const uint64_t seed = store_testing::TestSeed();
  SCOPED_TRACE("seed=" + std::to_string(seed));
  for (DataKind kind : {DataKind::kCompressible, DataKind::kRandom}) {
    for (size_t size : {size_t{100}, kMaxChunkSize}) {
      const Bytes data = MakeData(size, kind, seed + size);
      const int64_t ops = SealedPutCrashAndCheck(data, -1, CrashMode::kDropUnsynced, 0);
      ASSERT_GE(ops, 4) << "create, write, sync, rename, sync dir";
      for (int64_t k = 0; k <= ops; ++k) {
        SealedPutCrashAndCheck(data, k, CrashMode::kDropUnsynced, 0);
        SealedPutCrashAndCheck(data, k, CrashMode::kKeepSomeUnsynced, seed + k);
      }
    }
  }
}

}  // namespace
}  // namespace kiln
