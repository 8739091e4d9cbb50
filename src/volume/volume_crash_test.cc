// Crash tests: a scenario (create from a snapshot, writes, trims, lazy reads, flushes, a grow,
// close) is cut by a power loss at each of its file system operations in turn, on the real
// chunk store and MemFileSystem. After reopening:
//   - every write acknowledged by a completed Flush (or Close) reads back;
//   - a block reads as its acknowledged content with some of the unacknowledged writes that
//     touch it applied, in order (a disk may keep any of the writes it was never asked to
//     flush); in particular a block never written reads as the snapshot: no lazy fetch or lost
//     present bit ever shadows it;
//   - the next capture takes every block that differs from the base (nothing is missed);
//   - a crash before Create finished leaves no volume (NotFound), never a damaged one.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <set>

#include "env/mem_file_system.h"
#include "store/content_chunk_store.h"
#include "volume/volume.h"
#include "volume/volume_testing.h"

namespace kiln {
namespace {

using volume_testing::MakeBase;
using volume_testing::MakeImage;
using volume_testing::RandomBytes;
using volume_testing::ReadAll;
using volume_testing::RecordingSink;
using volume_testing::TestSeed;

enum class OpKind { kWrite, kZero, kRead, kFlush, kGrow, kClose };

struct Op {
  OpKind kind = OpKind::kRead;
  uint64_t offset = 0;
  uint64_t len = 0;  // kGrow: the new size
  Bytes data = {};
};

constexpr uint64_t kBaseSize = 4 * kBlockSize + 1000;
constexpr uint64_t kSize = kBaseSize + kBlockSize;
constexpr uint64_t kGrownSize = kSize + kBlockSize + 123;

// One world per run: a file system holding the chunk store and the snapshot.
struct World {
  MemFileSystem fs;
  std::unique_ptr<LocalDirBackend> backend;
  std::unique_ptr<ContentChunkStore> store;
  BlockMap base;

  explicit World(const Bytes& image) {
    EXPECT_TRUE(CreateDirs(fs, "/snaps").ok());
    EXPECT_TRUE(CreateDirs(fs, "/vols").ok());
    backend = std::move(LocalDirBackend::Open(fs, "/store")).value();
    store = std::make_unique<ContentChunkStore>(*backend);
    base = MakeBase(fs, *store, "/snaps/base.map", image);
  }
};

// Random I/O within `size`: writes (partial, whole-block, block-crossing), trims and reads.
void AddIo(std::mt19937_64& rng, uint64_t size, int n, std::vector<Op>& ops) {
  for (int i = 0; i < n; ++i) {
    Op op;
    const int kind = static_cast<int>(rng() % 5);
    op.kind = kind < 3 ? OpKind::kWrite : kind == 3 ? OpKind::kZero : OpKind::kRead;
    if (rng() % 3 == 0) {  // a whole block
      op.offset = (rng() % BlockCount(size)) * kBlockSize;
      op.len = std::min(kBlockSize, size - op.offset);
    } else {
      op.offset = rng() % size;
      op.len = 1 + rng() % std::min<uint64_t>(size - op.offset, kBlockSize + kBlockSize / 2);
    }
    if (op.kind == OpKind::kWrite) op.data = RandomBytes(rng, op.len);
    ops.push_back(std::move(op));
  }
}

std::vector<Op> MakeScenario(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Op> ops;
  AddIo(rng, kSize, 4, ops);
  ops.push_back(Op{.kind = OpKind::kFlush});
  AddIo(rng, kSize, 3, ops);
  ops.push_back(Op{.kind = OpKind::kGrow, .len = kGrownSize});
  AddIo(rng, kGrownSize, 3, ops);
  ops.push_back(Op{.kind = OpKind::kFlush});
  AddIo(rng, kGrownSize, 3, ops);
  ops.push_back(Op{.kind = OpKind::kClose});
  return ops;
}

Status Apply(Volume& v, const Op& op) {
  switch (op.kind) {
    case OpKind::kWrite:
      return v.Write(op.offset, op.data);
    case OpKind::kZero:
      return v.WriteZeroes(op.offset, op.len);
    case OpKind::kRead: {
      Bytes out(op.len);
      return v.Read(op.offset, out);
    }
    case OpKind::kFlush:
      return v.Flush();
    case OpKind::kGrow:
      return v.Grow(op.len);
    case OpKind::kClose:
      return v.Close();
  }
  return InternalError("unknown op");
}

// Runs Create and the ops; returns how many ops completed (-1: Create failed).
int RunScenario(World& w, const std::vector<Op>& ops) {
  auto v =
      Volume::Create(w.fs, *w.store, "/vols/v", kSize, Volume::Base{&w.base, "/snaps/base.map"});
  if (!v.ok()) return -1;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (!Apply(**v, ops[i]).ok()) return static_cast<int>(i);
  }
  return static_cast<int>(ops.size());
}

void ApplyToImage(const Op& op, Bytes& image) {
  if (op.kind == OpKind::kWrite)
    std::copy(op.data.begin(), op.data.end(), image.begin() + op.offset);
  if (op.kind == OpKind::kZero) std::fill_n(image.begin() + op.offset, op.len, 0);
}

// Applies the part of `op` that falls in `piece`, the bytes of the volume from `begin` on.
void ApplyToBlock(const Op& op, uint64_t begin, Bytes& piece) {
  const uint64_t from = std::max(op.offset, begin);
  const uint64_t to = std::min(op.offset + op.len, begin + piece.size());
  if (from >= to) return;
  if (op.kind == OpKind::kWrite) {
    std::copy_n(op.data.begin() + (from - op.offset), to - from, piece.begin() + (from - begin));
  } else if (op.kind == OpKind::kZero) {
    std::fill_n(piece.begin() + (from - begin), to - from, 0);
  }
}

bool Touches(const Op& op, uint64_t block) {
  return (op.kind == OpKind::kWrite || op.kind == OpKind::kZero) &&
         op.offset < (block + 1) * kBlockSize && op.offset + op.len > block * kBlockSize;
}

class VolumeCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_ = TestSeed();
    std::mt19937_64 rng(seed_);
    image_ = MakeImage(rng, kBaseSize);
    ops_ = MakeScenario(seed_ + 1);
  }
  // Checks the reopened world after the ops before `completed` finished and op `completed`
  // (if any) failed at the crash.
  void CheckAfterCrash(World& w, int completed);
  void CheckBlocks(Volume& v, int completed);
  void RunAllCrashPoints(CrashMode mode, int seeds_per_point);

  uint64_t seed_ = 0;
  Bytes image_;
  std::vector<Op> ops_;
  std::chrono::steady_clock::time_point deadline_ =
      std::chrono::steady_clock::now() + std::chrono::seconds(60);
};

void VolumeCrashTest::CheckBlocks(Volume& v, int completed) {
  // Acknowledged: every write before the last completed Flush or Close.
  int acked = 0;
  for (int i = 0; i < completed; ++i) {
    if (ops_[i].kind == OpKind::kFlush || ops_[i].kind == OpKind::kClose) acked = i;
  }
  Bytes acked_image = image_;
  acked_image.resize(kGrownSize, 0);
  for (int i = 0; i < acked; ++i) ApplyToImage(ops_[i], acked_image);
  const int last = std::min<int>(completed, static_cast<int>(ops_.size()) - 1);
  const Bytes now = ReadAll(v);
  for (uint64_t b = 0; b < BlockCount(v.size()); ++b) {
    std::vector<const Op*> unacked;
    for (int i = acked; i <= last; ++i) {
      if (Touches(ops_[i], b)) unacked.push_back(&ops_[i]);
    }
    ASSERT_LT(unacked.size(), 12u);
    const uint64_t begin = b * kBlockSize, end = std::min(v.size(), begin + kBlockSize);
    bool found = false;
    for (uint64_t subset = 0; subset < (1ULL << unacked.size()) && !found; ++subset) {
      Bytes candidate(acked_image.begin() + begin, acked_image.begin() + end);
      for (size_t j = 0; j < unacked.size(); ++j) {
        if (subset & (1ULL << j)) ApplyToBlock(*unacked[j], begin, candidate);
      }
      found = std::equal(now.begin() + begin, now.begin() + end, candidate.begin());
    }
    ASSERT_TRUE(found) << "block " << b << " holds neither its acknowledged content nor that "
                       << "with some of its " << unacked.size() << " unacknowledged writes";
  }
}

void VolumeCrashTest::CheckAfterCrash(World& w, int completed) {
  auto v = Volume::Open(w.fs, *w.store, "/vols/v");
  if (completed < 0) {
    // Create did not finish: no volume, or (crash at its very end) a whole, empty one.
    if (!v.ok()) {
      ASSERT_EQ(v.status().code(), Code::kNotFound) << v.status().ToString();
      return;
    }
    Bytes expected = image_;
    expected.resize(kSize, 0);
    ASSERT_EQ(ReadAll(**v), expected);
    return;
  }
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  const bool closed = completed == static_cast<int>(ops_.size());
  EXPECT_EQ((*v)->unclean_open(), !closed);
  int grow = 0;
  while (ops_[grow].kind != OpKind::kGrow) ++grow;
  if (completed > grow) {
    ASSERT_EQ((*v)->size(), kGrownSize);
  } else if (completed < grow) {
    ASSERT_EQ((*v)->size(), kSize);
  }
  CheckBlocks(**v, completed);
  if (HasFatalFailure()) return;

  // The next capture misses no block that differs from the base.
  const Bytes now = ReadAll(**v);
  Bytes base_image = image_;
  base_image.resize(kGrownSize, 0);
  RecordingSink sink;
  auto capture = (*v)->BeginCapture(sink);
  ASSERT_TRUE(capture.ok());
  const std::set<uint64_t> pending((*capture)->blocks().begin(), (*capture)->blocks().end());
  for (uint64_t b = 0; b < BlockCount((*v)->size()); ++b) {
    const uint64_t begin = b * kBlockSize, end = std::min((*v)->size(), begin + kBlockSize);
    if (!std::equal(now.begin() + begin, now.begin() + end, base_image.begin() + begin)) {
      EXPECT_TRUE(pending.contains(b)) << "changed block " << b << " is not in the capture";
    }
  }
  (*capture)->Abort();
  // And the volume goes on working.
  Bytes data(300, 0x77);
  ASSERT_TRUE((*v)->Write(kBlockSize - 100, data).ok());
  ASSERT_TRUE((*v)->Close().ok());
  auto again = Volume::Open(w.fs, *w.store, "/vols/v");
  ASSERT_TRUE(again.ok());
  Bytes out(300);
  ASSERT_TRUE((*again)->Read(kBlockSize - 100, out).ok());
  EXPECT_EQ(out, data);
}

void VolumeCrashTest::RunAllCrashPoints(CrashMode mode, int seeds_per_point) {
  SCOPED_TRACE("KILN_SEED=" + std::to_string(seed_));
  int64_t total = 0;
  {
    World w(image_);
    const int64_t before = w.fs.mutating_ops();
    ASSERT_EQ(RunScenario(w, ops_), static_cast<int>(ops_.size()));
    total = w.fs.mutating_ops() - before;
  }
  int runs = 0;
  for (int64_t k = 0; k < total; ++k) {
    for (int s = 0; s < seeds_per_point; ++s) {
      if (std::chrono::steady_clock::now() > deadline_) {
        std::printf("crash test budget spent after %d runs (seed %llu)\n", runs,
                    static_cast<unsigned long long>(seed_));
        return;
      }
      SCOPED_TRACE("crash point " + std::to_string(k) + " of " + std::to_string(total) +
                   ", crash seed " + std::to_string(s));
      World w(image_);
      w.fs.SetCrashAfter(k);
      const int completed = RunScenario(w, ops_);
      w.fs.Crash(mode, seed_ * 1000 + k * 10 + s);
      CheckAfterCrash(w, completed);
      if (HasFatalFailure()) return;
      ++runs;
    }
  }
  std::printf("%d crash runs over %lld crash points (seed %llu)\n", runs,
              static_cast<long long>(total), static_cast<unsigned long long>(seed_));
}

TEST_F(VolumeCrashTest, EveryCrashPointDroppingUnsyncedData) {
  RunAllCrashPoints(CrashMode::kDropUnsynced, 1);
}

TEST_F(VolumeCrashTest, EveryCrashPointKeepingSomeUnsyncedData) {
  RunAllCrashPoints(CrashMode::kKeepSomeUnsynced, 2);
}

}  // namespace
}  // namespace kiln
