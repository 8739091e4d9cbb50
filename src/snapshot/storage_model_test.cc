// Model-based randomized test of the whole storage engine: random writes, trims, flushes,
// snapshots, restores, copies (plain and re-sealing), grows, hydrations, clean reopens, crashes
// (power loss), snapshot deletes and garbage collections, checked against a plain in-memory
// reference. Half the volumes are encrypted (each its own lineage and data key from the key
// service), so every path runs both ways, and encrypted and plain lineages share one chunk
// backend under one garbage collector.
//
// Checks: every read equals the reference; every live snapshot restores byte-identical to the
// reference copy taken at its point in time; after a crash every byte is its last flushed
// value or one of the values written since (nothing acknowledged is lost, nothing is shadowed
// by a lazy fetch), and the next snapshot captures the volume exactly despite the untrusted
// dirty map.
//
// Budget: KILN_MODEL_SEEDS seeds (default 6) of KILN_MODEL_STEPS steps (default 300); a
// failure prints KILN_SEED to replay one seed.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "env/clock.h"
#include "env/mem_file_system.h"
#include "kms/key_service.h"
#include "snapshot/kms_keyring.h"
#include "snapshot/snapshot_store.h"
#include "store/chunk_frame.h"
#include "store/content_chunk_store.h"
#include "store/store_testing.h"

namespace kiln {
namespace {

int EnvInt(const char* name, int fallback) {
  const char* v = ::getenv(name);
  return v ? std::atoi(v) : fallback;
}

// Offset of the first differing byte (or size mismatch), -1 when equal.
int64_t FirstDifference(const Bytes& a, const Bytes& b) {
  if (a.size() != b.size()) return static_cast<int64_t>(std::min(a.size(), b.size()));
  auto [ia, ib] = std::mismatch(a.begin(), a.end(), b.begin());
  return ia == a.end() ? -1 : ia - a.begin();
}

// KILN_MODEL_TRACE=1 prints every step, to read a failing seed's history.
bool Tracing() {
  static const bool on = ::getenv("KILN_MODEL_TRACE") != nullptr;
  return on;
}
#define TRACE_STEP(...)                      \
  do {                                       \
    if (Tracing()) std::printf(__VA_ARGS__); \
  } while (0)

struct PendingWrite {
  uint64_t offset;
  Bytes data;
};

struct ModelVolume {
  std::unique_ptr<Volume> volume;
  std::string dir;
  Bytes current;                      // what reads must return
  Bytes flushed;                      // what survives a crash for sure
  std::vector<PendingWrite> pending;  // writes since the last flush (each may or may not survive)
};

class StorageModel {
 public:
  explicit StorageModel(uint64_t seed) : rng_(seed) { OpenStores(); }

  void Run(int steps) {
    for (int i = 0; i < steps && !::testing::Test::HasFatalFailure(); ++i) {
      SCOPED_TRACE("step " + std::to_string(i));
      Step();
    }
    if (!::testing::Test::HasFatalFailure()) VerifyAllSnapshots();
  }

 private:
  void OpenStores() {
    backend_ = std::move(LocalDirBackend::Open(fs_, "/d/chunks").value());
    store_ = std::make_unique<ContentChunkStore>(*backend_);
    auto kms = KeyService::Open(fs_, clock_, "/d/kms");
    ASSERT_TRUE(kms.ok()) << kms.status().ToString();
    kms_ = std::move(kms).value();
    keyring_ = std::make_unique<KmsKeyring>(*kms_, *backend_);
    snaps_ = std::move(SnapshotStore::Open(fs_, *store_, "/d/snapshots", keyring_.get()).value());
    ASSERT_TRUE(CreateDirs(fs_, "/d/volumes").ok());
  }

  // A new encrypted lineage's keys (the key service makes and stores its data key).
  LineageKeys NewKeys() {
    auto keys = keyring_->NewLineage(kAccount, "alias/aws/ebs");
    EXPECT_TRUE(keys.ok()) << keys.status().ToString();
    return keys.ok() ? *keys : LineageKeys{};
  }

  // Opens a volume again, with its lineage's keys when it is encrypted.
  Result<std::unique_ptr<Volume>> OpenVolume(const std::string& dir) {
    return snaps_->OpenVolume(dir);
  }

  uint64_t Rand(uint64_t n) { return n == 0 ? 0 : rng_() % n; }

  // Data drawn from a small pool of patterns so identical blocks recur (dedup) and zeros occur.
  Bytes MakeData(size_t n) {
    switch (Rand(4)) {
      case 0:
        return Bytes(n, 0);
      case 1:
        return store_testing::MakeData(n, store_testing::DataKind::kRandom, rng_());
      default:
        return store_testing::MakeData(n, store_testing::DataKind::kCompressible, Rand(5));
    }
  }

  void Step() {
    if (vols_.empty()) return NewVolume();
    switch (Rand(20)) {
      case 0:
        return NewVolume();
      case 1:
      case 2:
      case 3:
      case 4:
      case 5:
        return Write();
      case 6:
        return Zero();
      case 7:
      case 8:
        return Flush();
      case 9:
      case 10:
        return Snapshot();
      case 11:
        return Restore();
      case 12:
        return DeleteSnapshot();
      case 13:
        return Gc();
      case 14:
        return Reopen();
      case 15:
        return Crash();
      case 16:
        return Grow();
      case 17:
        return Hydrate();
      case 18:
        return Copy();
      default:
        return ReadCheck();
    }
  }

  ModelVolume& AnyVolume() {
    auto it = vols_.begin();
    std::advance(it, Rand(vols_.size()));
    return it->second;
  }

  void NewVolume() {
    if (vols_.size() >= 4) return Write();
    // Sizes that are not multiples of the block size exercise the padded last block.
    uint64_t size = (1 + Rand(6)) * kBlockSize + Rand(3) * 4096 + Rand(2) * 777;
    std::string dir = "/d/volumes/v" + std::to_string(next_id_++);
    const bool encrypted = Rand(2) == 0;
    Result<std::unique_ptr<Volume>> v = InternalError("unset");
    if (encrypted) {
      const LineageKeys keys = NewKeys();
      ASSERT_FALSE(::testing::Test::HasFailure());
      auto store = keyring_->Store(keys.lineage);
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      v = Volume::Create(fs_, **store, dir, size, {}, &keys);
    } else {
      v = Volume::Create(fs_, *store_, dir, size);
    }
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ((*v)->encrypted(), encrypted);
    vols_[dir] = ModelVolume{std::move(v).value(), dir, Bytes(size, 0), Bytes(size, 0), {}};
    TRACE_STEP("new %s size %llu%s\n", dir.c_str(), (unsigned long long)size,
               encrypted ? " encrypted" : "");
  }

  void Write() {
    ModelVolume& m = AnyVolume();
    uint64_t len = 1 + (Rand(3) == 0 ? Rand(2 * kBlockSize) : Rand(16384));
    len = std::min<uint64_t>(len, m.current.size());
    uint64_t off = Rand(m.current.size() - len + 1);
    Bytes data = MakeData(len);
    TRACE_STEP("write %s [%llu, +%llu)\n", m.dir.c_str(), (unsigned long long)off,
               (unsigned long long)len);
    ASSERT_TRUE(m.volume->Write(off, data).ok());
    std::copy(data.begin(), data.end(), m.current.begin() + off);
    m.pending.push_back({off, std::move(data)});
  }

  void Zero() {
    ModelVolume& m = AnyVolume();
    uint64_t len = 1 + Rand(std::min<uint64_t>(3 * kBlockSize, m.current.size()));
    uint64_t off = Rand(m.current.size() - len + 1);
    if (Rand(2) == 0) {  // whole blocks: the trim path
      off = off / kBlockSize * kBlockSize;
      len = std::min<uint64_t>((1 + Rand(2)) * kBlockSize, m.current.size() - off);
    }
    TRACE_STEP("zero %s [%llu, +%llu)\n", m.dir.c_str(), (unsigned long long)off,
               (unsigned long long)len);
    ASSERT_TRUE(m.volume->WriteZeroes(off, len).ok());
    std::fill(m.current.begin() + off, m.current.begin() + off + len, 0);
    m.pending.push_back({off, Bytes(len, 0)});
  }

  void Flush() {
    ModelVolume& m = AnyVolume();
    TRACE_STEP("flush %s\n", m.dir.c_str());
    ASSERT_TRUE(m.volume->Flush().ok());
    m.flushed = m.current;
    m.pending.clear();
  }

  void Snapshot() {
    ModelVolume& m = AnyVolume();
    std::string id = "snap-" + std::to_string(next_id_++);
    auto job = snaps_->Start(*m.volume, id, {.threads = 1 + static_cast<int>(Rand(3))});
    ASSERT_TRUE(job.ok()) << job.status().ToString();
    auto info = (*job)->Run();
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    snapshots_[id] = m.current;
    TRACE_STEP("snapshot %s of %s: %llu blocks\n", id.c_str(), m.dir.c_str(),
               (unsigned long long)info->progress.blocks_total);
  }

  void Restore() {
    if (snapshots_.empty() || vols_.size() >= 5) return Snapshot();
    auto it = snapshots_.begin();
    std::advance(it, Rand(snapshots_.size()));
    uint64_t size = it->second.size() + Rand(2) * kBlockSize;
    std::string dir = "/d/volumes/v" + std::to_string(next_id_++);
    auto v = snaps_->CreateVolume(it->first, dir, size);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    Bytes content = it->second;
    content.resize(size, 0);
    TRACE_STEP("restore %s into %s size %llu\n", it->first.c_str(), dir.c_str(),
               (unsigned long long)size);
    vols_[dir] = ModelVolume{std::move(v).value(), dir, content, content, {}};
    ReadCheckOf(vols_[dir]);
  }

  // CopySnapshot: a plain copy (shares chunks; an encrypted source stays encrypted) or one
  // re-sealed under a new encrypted lineage.
  void Copy() {
    if (snapshots_.empty()) return Snapshot();
    auto it = snapshots_.begin();
    std::advance(it, Rand(snapshots_.size()));
    const std::string id = "copy-" + std::to_string(next_id_++);
    auto source = snaps_->Load(it->first);
    ASSERT_TRUE(source.ok()) << source.status().ToString();
    const bool reseal = Rand(2) == 0;
    LineageKeys keys;
    if (reseal) keys = NewKeys();
    auto copy = snaps_->Copy(it->first, id,
                             {.encrypt_to = reseal ? &keys : nullptr,
                              .threads = 1 + static_cast<int>(Rand(3)),
                              .progress = {}});
    ASSERT_TRUE(copy.ok()) << copy.status().ToString();
    EXPECT_TRUE(copy->encrypted() || (!reseal && !source->encrypted()))
        << "an encrypted snapshot never becomes unencrypted";
    EXPECT_EQ(copy->lineage() == source->lineage(), !reseal);
    TRACE_STEP("copy %s to %s%s\n", it->first.c_str(), id.c_str(), reseal ? " re-sealed" : "");
    snapshots_[id] = it->second;
  }

  void DeleteSnapshot() {
    if (snapshots_.empty()) return;
    auto it = snapshots_.begin();
    std::advance(it, Rand(snapshots_.size()));
    TRACE_STEP("delete %s\n", it->first.c_str());
    ASSERT_TRUE(snaps_->Delete(it->first).ok());
    snapshots_.erase(it);
  }

  void Gc() {
    GcRoots roots;
    for (auto& [dir, m] : vols_) roots.maps.push_back(m.volume->base());
    auto gc = snaps_->CollectGarbage(roots);
    TRACE_STEP("gc: deleted %llu\n", gc.ok() ? (unsigned long long)gc->deleted_chunks : 0ULL);
    ASSERT_TRUE(gc.ok()) << gc.status().ToString();
  }

  void Reopen() {
    ModelVolume& m = AnyVolume();
    TRACE_STEP("reopen %s\n", m.dir.c_str());
    ASSERT_TRUE(m.volume->Close().ok());
    m.volume.reset();
    auto v = OpenVolume(m.dir);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_FALSE((*v)->unclean_open());
    m.volume = std::move(v).value();
    m.flushed = m.current;
    m.pending.clear();
    ReadCheckOf(m);
  }

  void Grow() {
    ModelVolume& m = AnyVolume();
    uint64_t size = m.current.size() + 1 + Rand(2 * kBlockSize);
    TRACE_STEP("grow %s to %llu\n", m.dir.c_str(), (unsigned long long)size);
    ASSERT_TRUE(m.volume->Grow(size).ok());
    m.current.resize(size, 0);
    m.flushed.resize(size, 0);  // the grown tail is zero whatever survives
  }

  void Hydrate() {
    ModelVolume& m = AnyVolume();
    uint64_t last = 0;
    TRACE_STEP("hydrate %s\n", m.dir.c_str());
    ASSERT_TRUE(m.volume
                    ->Hydrate(0,
                              [&](uint64_t done, uint64_t total) {
                                EXPECT_GE(done, last);
                                EXPECT_LE(done, total);
                                last = done;
                                return true;
                              })
                    .ok());
    EXPECT_EQ(m.volume->Stats().base_blocks_missing, 0u);
    ReadCheckOf(m);
  }

  void ReadCheck() { ReadCheckOf(AnyVolume()); }

  void ReadCheckOf(ModelVolume& m) {
    uint64_t len = 1 + Rand(m.current.size());
    uint64_t off = Rand(m.current.size() - len + 1);
    if (Rand(4) == 0) off = 0, len = m.current.size();
    Bytes got(len);
    ASSERT_TRUE(m.volume->Read(off, got).ok());
    ASSERT_TRUE(std::equal(got.begin(), got.end(), m.current.begin() + off))
        << m.dir << " differs in [" << off << ", " << off + len << ")";
  }

  // Power loss: volumes are dropped without Close, then unsynced state is lost (all of it, or
  // some of it as a kernel's writeback would have kept).
  void Crash() {
    TRACE_STEP("crash\n");
    for (auto& [dir, m] : vols_) m.volume.reset();
    snaps_.reset();
    keyring_.reset();
    kms_.reset();
    store_.reset();
    backend_.reset();
    fs_.Crash(Rand(2) ? CrashMode::kDropUnsynced : CrashMode::kKeepSomeUnsynced, rng_());
    OpenStores();
    for (auto& [dir, m] : vols_) {
      auto v = OpenVolume(dir);
      ASSERT_TRUE(v.ok()) << dir << ": " << v.status().ToString();
      EXPECT_TRUE((*v)->unclean_open());
      m.volume = std::move(v).value();
      ASSERT_EQ(m.volume->size(), m.current.size()) << dir;
      Bytes got(m.current.size());
      ASSERT_TRUE(m.volume->Read(0, got).ok());
      CheckSurvivor(m, got);
      m.current = got;
      m.flushed = got;
      m.pending.clear();
    }
  }

  // Each byte is the flushed value or a value some unflushed write put there.
  void CheckSurvivor(const ModelVolume& m, const Bytes& got) {
    for (uint64_t i = 0; i < got.size(); ++i) {
      if (got[i] == m.flushed[i]) continue;
      bool written = false;
      for (const auto& w : m.pending) {
        if (i >= w.offset && i < w.offset + w.data.size() && w.data[i - w.offset] == got[i]) {
          written = true;
          break;
        }
      }
      ASSERT_TRUE(written) << m.dir << " byte " << i << " is " << int(got[i]) << ", flushed "
                           << int(m.flushed[i]) << ", and no unflushed write wrote it";
    }
  }

  // An encrypted snapshot's chunks are sealed frames in the shared backend; a plain one's are
  // not.
  void CheckChunksSealedAsTheMapSays(const std::string& id) {
    auto map = snaps_->Load(id);
    ASSERT_TRUE(map.ok()) << map.status().ToString();
    for (const auto& e : map->entries()) {
      auto frame = backend_->Get(e.chunk);
      ASSERT_TRUE(frame.ok()) << id << ": " << frame.status().ToString();
      auto header = ParseChunkFrameHeader(*frame, kChunkFlagSealed);
      ASSERT_TRUE(header.ok()) << header.status().ToString();
      EXPECT_EQ((header->flags & kChunkFlagSealed) != 0, map->encrypted())
          << "snapshot " << id << " block " << e.block;
    }
  }

  void VerifyAllSnapshots() {
    for (const auto& [id, content] : snapshots_) {
      std::string dir = "/d/volumes/check-" + std::to_string(next_id_++);
      auto v = snaps_->CreateVolume(id, dir);
      ASSERT_TRUE(v.ok()) << id << ": " << v.status().ToString();
      Bytes got((*v)->size());
      ASSERT_TRUE((*v)->Read(0, got).ok()) << id;
      ASSERT_EQ(FirstDifference(got, content), -1)
          << "snapshot " << id << " does not restore to its point in time";
      CheckChunksSealedAsTheMapSays(id);
    }
    // And every volume snapshotted now (after crashes, with untrusted dirty maps) captures
    // exactly what it reads.
    for (auto& [dir, m] : vols_) {
      std::string id = "final-" + std::to_string(next_id_++);
      auto job = snaps_->Start(*m.volume, id, {});
      ASSERT_TRUE(job.ok());
      ASSERT_TRUE((*job)->Run().ok());
      auto r = snaps_->CreateVolume(id, "/d/volumes/check-" + std::to_string(next_id_++));
      ASSERT_TRUE(r.ok());
      Bytes got((*r)->size());
      ASSERT_TRUE((*r)->Read(0, got).ok());
      ASSERT_EQ(FirstDifference(got, m.current), -1) << "final snapshot of " << dir;
    }
  }

  static constexpr char kAccount[] = "123456789012";

  MemFileSystem fs_;
  ManualClock clock_;
  std::unique_ptr<LocalDirBackend> backend_;
  std::unique_ptr<ContentChunkStore> store_;
  std::unique_ptr<KeyService> kms_;
  std::unique_ptr<KmsKeyring> keyring_;
  std::unique_ptr<SnapshotStore> snaps_;
  std::map<std::string, ModelVolume> vols_;
  std::map<std::string, Bytes> snapshots_;  // id -> content at its point in time
  std::mt19937_64 rng_;
  int next_id_ = 0;
};

TEST(StorageModelTest, RandomOperationsMatchTheReference) {
  // Under ASan+UBSan a seed costs ~15x: the sanitized build runs 2 random seeds (each run new
  // ones), the normal build 6; KILN_MODEL_SEEDS overrides both.
#ifdef KILN_SANITIZED
  constexpr int kDefaultSeeds = 2;
#else
  constexpr int kDefaultSeeds = 6;
#endif
  const int seeds = EnvInt("KILN_MODEL_SEEDS", kDefaultSeeds);
  const int steps = EnvInt("KILN_MODEL_STEPS", 300);
  const char* fixed = ::getenv("KILN_SEED");
  for (int i = 0; i < (fixed ? 1 : seeds); ++i) {
    const uint64_t seed = fixed ? std::strtoull(fixed, nullptr, 10) : std::random_device{}();
    SCOPED_TRACE("replay with KILN_SEED=" + std::to_string(seed));
    StorageModel model(seed);
    model.Run(steps);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace kiln
