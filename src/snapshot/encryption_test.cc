// Encryption at rest end to end: encrypted volumes, their snapshots, volumes made from those,
// copies that re-seal, on real files (PosixFileSystem) with the real key service.
//
// What users depend on: no plaintext of an encrypted volume rests anywhere under the data dir
// (checked by scanning every byte of every file, with an unencrypted control that finds it);
// tampering is Corruption, never data; a missing or wrong key fails clearly; encrypted data
// never becomes unencrypted; dedup stays inside a key.
#include <gtest/gtest.h>
#include <openssl/crypto.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "env/clock.h"
#include "env/env_testing.h"
#include "env/posix_file_system.h"
#include "kms/key_service.h"
#include "snapshot/kms_keyring.h"
#include "snapshot/snapshot_store.h"
#include "snapshot/snapshot_testing.h"
#include "store/content_chunk_store.h"

namespace kiln {
namespace {

constexpr std::string_view kMarker = "KILN-AT-REST-MARKER-9f3e1c";

// Random (incompressible) blocks with the marker at many offsets, so the marker appears
// literally wherever the plaintext rests, compressed or not.
Bytes MarkedData(uint64_t len, uint64_t seed) {
  Bytes out(len);
  std::mt19937_64 rng(seed);
  for (auto& b : out) b = static_cast<uint8_t>(rng());
  for (uint64_t off = 100; off + kMarker.size() < len; off += 64 * 1024 + 17) {
    std::copy(kMarker.begin(), kMarker.end(), out.begin() + off);
  }
  return out;
}

// The files under `root` whose bytes contain the marker.
std::vector<std::string> FilesWithMarker(const std::string& root) {
  std::vector<std::string> hits;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(kMarker) != std::string::npos) hits.push_back(entry.path().string());
  }
  return hits;
}

using snapshot_testing::kAccount;
using snapshot_testing::Storage;

Bytes ReadAll(Volume& v) {
  Bytes out(v.size());
  Status s = v.Read(0, out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

// Write, flush, snapshot, restore (lazy read of a block, then hydration), copy, close: the
// whole life of data in the storage engine, then a byte scan of everything under the root.
void RunAtRestScenario(const std::string& root, bool encrypted) {
  Storage st(root);
  const uint64_t kSize = 6 * kBlockSize;
  const Bytes data = MarkedData(4 * kBlockSize + 1000, 7);
  auto v = st.NewVolume("v1", kSize, encrypted);
  ASSERT_TRUE(v->Write(kBlockSize / 2, data).ok());
  ASSERT_TRUE(v->Flush().ok());
  st.Snapshot(*v, "snap-1");
  auto restored = st.snaps_->CreateVolume("snap-1", st.VolumeDir("v2"));
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ((*restored)->encrypted(), encrypted);
  Bytes first(4096);
  ASSERT_TRUE((*restored)->Read(kBlockSize + 4096, first).ok());  // a lazy fetch
  EXPECT_TRUE(std::equal(first.begin(), first.end(), data.begin() + kBlockSize / 2 + 4096));
  ASSERT_TRUE((*restored)->Hydrate(0, [](uint64_t, uint64_t) { return true; }).ok());
  EXPECT_EQ(ReadAll(**restored), ReadAll(*v));
  ASSERT_TRUE(st.snaps_->Copy("snap-1", "snap-copy").ok());
  ASSERT_TRUE((*restored)->Close().ok());
  ASSERT_TRUE(v->Close().ok());
}

TEST(EncryptionAtRestTest, NoPlaintextUnderTheDataDirOfAnEncryptedVolume) {
  env_testing::TempDir dir;
  RunAtRestScenario(dir.path(), /*encrypted=*/true);
  if (HasFatalFailure()) return;
  EXPECT_EQ(FilesWithMarker(dir.path()), std::vector<std::string>{});
}

TEST(EncryptionAtRestTest, TheScanFindsPlaintextOfTheUnencryptedControl) {
  env_testing::TempDir dir;
  RunAtRestScenario(dir.path(), /*encrypted=*/false);
  if (HasFatalFailure()) return;
  const std::vector<std::string> hits = FilesWithMarker(dir.path());
  auto any_under = [&](const std::string& sub) {
    return std::any_of(hits.begin(), hits.end(), [&](const std::string& p) {
      return p.find(dir.path() + "/" + sub + "/") == 0;
    });
  };
  EXPECT_TRUE(any_under("volumes")) << "the control's volume data holds the marker";
  EXPECT_TRUE(any_under("chunks")) << "the control's chunks hold the marker";
}

class EncryptionTest : public ::testing::Test {
 protected:
  env_testing::TempDir dir_;
  Storage st_{dir_.path()};
};

TEST_F(EncryptionTest, FlippedByteInASealedChunkIsCorruptionNeverData) {
  auto v = st_.NewVolume("v", 2 * kBlockSize, true);
  ASSERT_TRUE(v->Write(0, MarkedData(2 * kBlockSize, 1)).ok());
  st_.Snapshot(*v, "s");
  const ChunkId victim = *st_.ChunksOf("s").begin();
  const std::string path = st_.backend_->PathOf(victim);
  for (uint64_t offset : {uint64_t{0}, uint64_t{20}, std::filesystem::file_size(path) - 1}) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    char c = 0;
    f.read(&c, 1);
    c ^= 0x40;
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(&c, 1);
    f.close();
    auto restored = st_.snaps_->CreateVolume("s", st_.VolumeDir("r" + std::to_string(offset)));
    ASSERT_TRUE(restored.ok());
    Bytes out(2 * kBlockSize);
    Status s = (*restored)->Read(0, out);
    EXPECT_EQ(s.code(), Code::kCorruption) << "offset " << offset << ": " << s.ToString();
    EXPECT_NE(s.message().find(victim.ToHex()), std::string::npos) << s.ToString();
    // Undo for the next offset.
    std::fstream g(path, std::ios::in | std::ios::out | std::ios::binary);
    g.seekp(static_cast<std::streamoff>(offset));
    c ^= 0x40;
    g.write(&c, 1);
  }
}

TEST_F(EncryptionTest, FlippedByteInAnEncryptedSectorIsCorruptionNeverData) {
  auto v = st_.NewVolume("v", 2 * kBlockSize, true);
  ASSERT_TRUE(v->Write(0, MarkedData(2 * kBlockSize, 2)).ok());
  ASSERT_TRUE(v->Close().ok());
  {
    std::fstream f(st_.VolumeDir("v") + "/data", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(kBlockSize + 5 * 4096 + 17);
    f.write("\x01", 1);
  }
  auto reopened = st_.snaps_->OpenVolume(st_.VolumeDir("v"));
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  Bytes out(4096);
  EXPECT_TRUE((*reopened)->Read(0, out).ok()) << "other sectors still read";
  Status s = (*reopened)->Read(kBlockSize + 5 * 4096, out);
  EXPECT_EQ(s.code(), Code::kCorruption) << s.ToString();
  // A snapshot must not capture the damaged block as data either.
  auto job = st_.snaps_->Start(**reopened, "s");
  ASSERT_TRUE(job.ok());
  EXPECT_EQ((*job)->Run().status().code(), Code::kCorruption);
}

TEST_F(EncryptionTest, MissingOrWrongKeysFailClearly) {
  auto v = st_.NewVolume("v", kBlockSize, true);
  ASSERT_TRUE(v->Write(0, MarkedData(kBlockSize, 3)).ok());
  st_.Snapshot(*v, "s");
  const LineageId lineage = v->lineage();
  ASSERT_TRUE(v->Close().ok());

  // No keys at all.
  ContentChunkStore& plain = *st_.plain_;
  Status no_keys = Volume::Open(st_.fs_, plain, st_.VolumeDir("v")).status();
  EXPECT_EQ(no_keys.code(), Code::kFailedPrecondition) << no_keys.ToString();
  EXPECT_NE(no_keys.message().find("encrypted"), std::string::npos);
  auto bare = SnapshotStore::Open(st_.fs_, plain, dir_.path() + "/snapshots").value();
  EXPECT_EQ(bare->CreateVolume("s", st_.VolumeDir("x")).status().code(), Code::kFailedPrecondition);
  auto map = st_.snaps_->Load("s").value();
  EXPECT_EQ(Volume::Create(st_.fs_, plain, st_.VolumeDir("y"), kBlockSize,
                           {&map, st_.snaps_->MapPath("s")})
                .status()
                .code(),
            Code::kFailedPrecondition)
      << "an encrypted snapshot never restores unencrypted";

  // The right lineage with another data key: the key check in volume.meta tells at once.
  Key256 other;
  other.fill(0x5a);
  const LineageKeys wrong = LineageKeys::Derive(lineage, other).value();
  Status wrong_key = Volume::Open(st_.fs_, plain, st_.VolumeDir("v"), &wrong).status();
  EXPECT_EQ(wrong_key.code(), Code::kFailedPrecondition) << wrong_key.ToString();
  EXPECT_NE(wrong_key.message().find("wrong data key"), std::string::npos);

  // The master key gone (the key file lost): the lineage's key cannot be unwrapped.
  st_.Close();
  std::filesystem::remove(dir_.path() + "/kms/master-keys");
  st_.Open();
  Status lost = st_.snaps_->OpenVolume(st_.VolumeDir("v")).status();
  EXPECT_EQ(lost.code(), Code::kNotFound) << lost.ToString();
  EXPECT_NE(lost.message().find("master key"), std::string::npos) << lost.ToString();
  EXPECT_FALSE(st_.snaps_->CreateVolume("s", st_.VolumeDir("z")).ok());
}

TEST_F(EncryptionTest, DamagedWrappedDataKeyIsCorruption) {
  auto v = st_.NewVolume("v", kBlockSize, true);
  const std::string key_file = dir_.path() + "/kms/lineages/" + HexEncode(v->lineage()) + ".key";
  ASSERT_TRUE(v->Close().ok());
  st_.Close();
  ASSERT_TRUE(std::filesystem::exists(key_file));
  {
    std::fstream f(key_file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(std::filesystem::file_size(key_file) / 2));
    f.write("\xff", 1);
  }
  st_.Open();
  EXPECT_EQ(st_.snaps_->OpenVolume(st_.VolumeDir("v")).status().code(), Code::kCorruption);
}

TEST_F(EncryptionTest, CopyReSealsUnencryptedUnderANewKeyAndNeverDecrypts) {
  const Bytes data = MarkedData(3 * kBlockSize, 4);
  auto plain = st_.NewVolume("p", 3 * kBlockSize, false);
  ASSERT_TRUE(plain->Write(0, data).ok());
  st_.Snapshot(*plain, "plain");

  LineageKeys keys = st_.keyring_->NewLineage(kAccount, "alias/aws/ebs").value();
  auto copy = st_.snaps_->Copy("plain", "sealed", {.encrypt_to = &keys});
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_TRUE(copy->encrypted());
  EXPECT_EQ(copy->lineage(), keys.lineage);
  std::set<ChunkId> shared;
  const std::set<ChunkId> a = st_.ChunksOf("plain"), b = st_.ChunksOf("sealed");
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(),
                        std::inserter(shared, shared.begin()));
  EXPECT_TRUE(shared.empty()) << "re-sealed chunks have keyed ids";
  EXPECT_EQ(b.size(), a.size());

  // The source can go; the copy is independent.
  ASSERT_TRUE(plain->Close().ok());
  plain.reset();
  ASSERT_TRUE(st_.snaps_->Delete("plain").ok());
  ASSERT_TRUE(std::filesystem::remove_all(st_.VolumeDir("p")) > 0);
  auto gc = st_.snaps_->CollectGarbage();
  ASSERT_TRUE(gc.ok()) << gc.status().ToString();
  EXPECT_EQ(gc->deleted_chunks, a.size());
  auto restored = st_.snaps_->CreateVolume("sealed", st_.VolumeDir("r"));
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_TRUE((*restored)->encrypted());
  EXPECT_EQ(ReadAll(**restored), data);

  // A plain copy of an encrypted snapshot stays encrypted, same lineage, same chunks.
  auto again = st_.snaps_->Copy("sealed", "sealed-2");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->encrypted());
  EXPECT_EQ(st_.ChunksOf("sealed-2"), b);
  // And re-sealing an encrypted one moves it to another key.
  LineageKeys keys2 = st_.keyring_->NewLineage(kAccount, "alias/aws/ebs").value();
  auto moved = st_.snaps_->Copy("sealed", "sealed-3", {.encrypt_to = &keys2});
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  auto r3 = st_.snaps_->CreateVolume("sealed-3", st_.VolumeDir("r3"));
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(ReadAll(**r3), data);
  // Bad copies.
  EXPECT_EQ(st_.snaps_->Copy("sealed", "sealed-2").status().code(), Code::kAlreadyExists);
  EXPECT_EQ(st_.snaps_->Copy("nope", "x").status().code(), Code::kNotFound);
  EXPECT_EQ(st_.snaps_->Copy("sealed", "x", {.encrypt_to = &keys}).status().code(),
            Code::kInvalidArgument)
      << "re-sealing into the source's own lineage";
  OPENSSL_cleanse(&keys, sizeof(keys));
  OPENSSL_cleanse(&keys2, sizeof(keys2));
}

TEST_F(EncryptionTest, DedupWithinALineageNeverAcrossKeys) {
  const Bytes data = MarkedData(2 * kBlockSize, 5);
  auto e1 = st_.NewVolume("e1", 2 * kBlockSize, true);
  auto e2 = st_.NewVolume("e2", 2 * kBlockSize, true);
  auto p = st_.NewVolume("p", 2 * kBlockSize, false);
  for (Volume* v : {e1.get(), e2.get(), p.get()}) ASSERT_TRUE(v->Write(0, data).ok());
  st_.Snapshot(*e1, "e1-a");
  st_.Snapshot(*e2, "e2-a");
  st_.Snapshot(*p, "p-a");
  const auto c1 = st_.ChunksOf("e1-a"), c2 = st_.ChunksOf("e2-a"), cp = st_.ChunksOf("p-a");
  for (const ChunkId& id : c1) {
    EXPECT_FALSE(c2.contains(id));
    EXPECT_FALSE(cp.contains(id));
  }
  // A volume restored from e1's snapshot writes the same data again: its snapshot stores
  // nothing new (same lineage, same keys).
  auto r = st_.snaps_->CreateVolume("e1-a", st_.VolumeDir("r"));
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE((*r)->Write(0, data).ok());
  auto job = st_.snaps_->Start(**r, "r-a");
  ASSERT_TRUE(job.ok());
  auto info = (*job)->Run();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->progress.chunks_stored, 0u);
  EXPECT_EQ(st_.ChunksOf("r-a"), c1);
}

TEST_F(EncryptionTest, EncryptedVolumeSurvivesReopenAndGrow) {
  auto v = st_.NewVolume("v", kBlockSize + 100, true);
  const Bytes data = MarkedData(kBlockSize + 100, 6);
  ASSERT_TRUE(v->Write(0, data).ok());
  ASSERT_TRUE(v->Grow(3 * kBlockSize).ok());
  ASSERT_TRUE(v->Write(2 * kBlockSize, ByteView(data).first(kBlockSize)).ok());
  ASSERT_TRUE(v->Close().ok());
  auto r = st_.snaps_->OpenVolume(st_.VolumeDir("v"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE((*r)->encrypted());
  Bytes got(data.size());
  ASSERT_TRUE((*r)->Read(0, got).ok());
  EXPECT_EQ(got, data);
  ASSERT_TRUE((*r)->Read(2 * kBlockSize, MutableByteView(got).first(kBlockSize)).ok());
  EXPECT_TRUE(std::equal(got.begin(), got.begin() + kBlockSize, data.begin()));
  // After the reopen, a write ending inside a sector keeps the rest of that sector.
  const Bytes patch = MarkedData(4990, 8);
  ASSERT_TRUE((*r)->Write(10, patch).ok());
  Bytes after(8192);
  ASSERT_TRUE((*r)->Read(0, after).ok());
  EXPECT_TRUE(std::equal(after.begin(), after.begin() + 10, data.begin()));
  EXPECT_TRUE(std::equal(after.begin() + 10, after.begin() + 5000, patch.begin()));
  EXPECT_TRUE(std::equal(after.begin() + 5000, after.end(), data.begin() + 5000))
      << "the tail of a partly written sector was lost";
  EXPECT_EQ(Volume::Open(st_.fs_, *st_.plain_, st_.VolumeDir("v"),
                         &*LineageKeys::Derive(LineageId{}, Key256{}))
                .status()
                .code(),
            Code::kInvalidArgument)
      << "keys of another lineage";
}

}  // namespace
}  // namespace kiln
