// Changed-block tracking and point-in-time captures.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <set>
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
using volume_testing::RecordingSink;
using volume_testing::TestSeed;

class VolumeCaptureTest : public ::testing::Test {
 protected:
  std::unique_ptr<Volume> MustOpen(const std::string& dir) {
    auto v = Volume::Open(fs_, store_, dir);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? std::move(v).value() : nullptr;
  }
  // Captures every pending block, stores it and commits the new map at `path`, as the
  // snapshot layer does.
  BlockMap CaptureAll(Volume& v, const std::string& path) {
    RecordingSink sink;
    auto capture = v.BeginCapture(sink);
    EXPECT_TRUE(capture.ok()) << capture.status().ToString();
    for (uint64_t b : (*capture)->blocks()) EXPECT_TRUE((*capture)->CaptureBlock(b).ok());
    return Commit(**capture, sink, path);
  }
  BlockMap Commit(VolumeCapture& capture, const RecordingSink& sink, const std::string& path) {
    std::vector<std::pair<uint64_t, std::optional<ChunkId>>> changes;
    for (const auto& [block, data] : sink.blocks()) {
      if (IsAllZero(data)) {
        changes.emplace_back(block, std::nullopt);
      } else {
        changes.emplace_back(block, store_.Put(data)->id);
      }
    }
    BlockMap map = capture.base().WithChanges(changes);
    map.set_volume_size(capture.volume_size());
    EXPECT_TRUE(map.WriteTo(fs_, path).ok());
    Status s = capture.Commit(map, path);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return map;
  }
  std::vector<uint64_t> PendingBlocks(Volume& v) {
    RecordingSink sink;
    auto capture = v.BeginCapture(sink);
    EXPECT_TRUE(capture.ok());
    std::vector<uint64_t> blocks = (*capture)->blocks();
    (*capture)->Abort();
    return blocks;
  }

  MemFileSystem fs_;
  FakeChunkStore store_;
};

TEST_F(VolumeCaptureTest, DirtyMapHoldsExactlyTheChangedBlocks) {
  auto v = Volume::Create(fs_, store_, "/vol", 10 * kBlockSize);
  ASSERT_TRUE(v.ok());
  Bytes data(kBlockSize, 5), out(10);
  ASSERT_TRUE((*v)->Write(1 * kBlockSize + 7, ByteView(data).first(10)).ok());
  ASSERT_TRUE((*v)->Write(6 * kBlockSize - 5, ByteView(data).first(10)).ok());  // blocks 5, 6
  ASSERT_TRUE((*v)->WriteZeroes(9 * kBlockSize, kBlockSize).ok());
  ASSERT_TRUE((*v)->Read(3 * kBlockSize, out).ok());
  EXPECT_EQ((*v)->Stats().dirty_blocks, 4u);
  EXPECT_EQ(PendingBlocks(**v), (std::vector<uint64_t>{1, 5, 6, 9}));
  EXPECT_EQ((*v)->Stats().dirty_blocks, 4u);  // the abort gave them back

  RecordingSink sink;
  auto capture = (*v)->BeginCapture(sink);
  ASSERT_TRUE(capture.ok());
  EXPECT_EQ((*v)->Stats().dirty_blocks, 0u);  // the dirty map starts afresh
  for (uint64_t b : (*capture)->blocks()) ASSERT_TRUE((*capture)->CaptureBlock(b).ok());
  EXPECT_EQ((*capture)->captured(), 4u);
  auto blocks = sink.blocks();
  ASSERT_EQ(blocks.size(), 4u);
  EXPECT_EQ(blocks[1][7], 5);
  EXPECT_EQ(blocks[1][6], 0);
  EXPECT_TRUE(IsAllZero(blocks[9]));
  BlockMap map = Commit(**capture, sink, "/s1.map");
  EXPECT_EQ(map.size(), 3u);  // the zero block is not stored
  EXPECT_EQ(*(*v)->base(), map);
  EXPECT_TRUE(PendingBlocks(**v).empty());
  EXPECT_TRUE(Exists(fs_, "/vol/base-1.map"));
}

TEST_F(VolumeCaptureTest, CleanCloseKeepsTheDirtyMap) {
  auto v = Volume::Create(fs_, store_, "/vol", 10 * kBlockSize);
  Bytes data(100, 1);
  ASSERT_TRUE((*v)->Write(2 * kBlockSize, data).ok());
  ASSERT_TRUE((*v)->Write(7 * kBlockSize, data).ok());
  ASSERT_TRUE((*v)->Close().ok());
  auto reopened = MustOpen("/vol");
  EXPECT_FALSE(reopened->unclean_open());
  EXPECT_EQ(PendingBlocks(*reopened), (std::vector<uint64_t>{2, 7}));
}

// Dropped without Close (kill -9): the next capture takes every present block, including
// lazily fetched ones, until a capture commits.
TEST_F(VolumeCaptureTest, UncleanOpenRescansEveryPresentBlock) {
  std::mt19937_64 rng(11);
  Bytes image = RandomBytes(rng, 4 * kBlockSize);
  BlockMap base = MakeBase(fs_, store_, "/base.map", image);
  auto v = Volume::Create(fs_, store_, "/vol", 8 * kBlockSize, Volume::Base{&base, "/base.map"});
  ASSERT_TRUE(v.ok());
  Bytes data(100, 1), out(10);
  ASSERT_TRUE((*v)->Write(6 * kBlockSize, data).ok());
  ASSERT_TRUE((*v)->Read(1 * kBlockSize, out).ok());  // fetched, present, not dirty
  ASSERT_TRUE((*v)->Flush().ok());
  v->reset();  // no Close

  auto reopened = MustOpen("/vol");
  EXPECT_TRUE(reopened->unclean_open());
  EXPECT_EQ(reopened->Stats().dirty_blocks, 2u);
  EXPECT_EQ(PendingBlocks(*reopened), (std::vector<uint64_t>{1, 6}));
  // A clean Close before any snapshot keeps the rescan: the dirty map it saves holds them.
  ASSERT_TRUE(reopened->Close().ok());
  reopened = MustOpen("/vol");
  EXPECT_FALSE(reopened->unclean_open());
  EXPECT_EQ(PendingBlocks(*reopened), (std::vector<uint64_t>{1, 6}));
  // Still a rescan after the aborted capture; not after a committed one. The volume outgrew
  // its base: the capture's base (and so the new map) has the volume's size.
  EXPECT_EQ(CaptureAll(*reopened, "/s1.map").volume_size(), 8 * kBlockSize);
  ASSERT_TRUE(reopened->Write(3 * kBlockSize, data).ok());
  EXPECT_EQ(PendingBlocks(*reopened), (std::vector<uint64_t>{3}));
  ASSERT_TRUE(reopened->Close().ok());
  auto again = MustOpen("/vol");
  EXPECT_FALSE(again->unclean_open());
  EXPECT_EQ(PendingBlocks(*again), (std::vector<uint64_t>{3}));
}

TEST_F(VolumeCaptureTest, AbortAndDestructionMakeEveryPendingBlockDirtyAgain) {
  auto v = Volume::Create(fs_, store_, "/vol", 4 * kBlockSize);
  Bytes data(10, 1);
  for (uint64_t b : {0, 2, 3}) ASSERT_TRUE((*v)->Write(b * kBlockSize, data).ok());
  {
    RecordingSink sink;
    auto capture = (*v)->BeginCapture(sink);
    ASSERT_TRUE((*capture)->CaptureBlock(2).ok());
    ASSERT_TRUE((*v)->Write(1 * kBlockSize, data).ok());  // new since the point in time
    (*capture)->Abort();
    (*capture)->Abort();  // idempotent
    EXPECT_EQ((*capture)->CaptureBlock(0).code(), Code::kFailedPrecondition);
  }
  EXPECT_EQ(PendingBlocks(**v), (std::vector<uint64_t>{0, 1, 2, 3}));
  {
    RecordingSink sink;
    auto capture = (*v)->BeginCapture(sink);
    ASSERT_TRUE((*capture)->CaptureBlock(0).ok());
  }  // destroyed without Commit: aborted
  EXPECT_EQ(PendingBlocks(**v), (std::vector<uint64_t>{0, 1, 2, 3}));
}

TEST_F(VolumeCaptureTest, RefusalsWhileACaptureIsActive) {
  auto v = Volume::Create(fs_, store_, "/vol", 4 * kBlockSize);
  Bytes data(10, 1);
  ASSERT_TRUE((*v)->Write(kBlockSize, data).ok());
  RecordingSink sink;
  auto capture = (*v)->BeginCapture(sink);
  ASSERT_TRUE(capture.ok());
  EXPECT_EQ((*v)->BeginCapture(sink).status().code(), Code::kFailedPrecondition);
  EXPECT_EQ((*v)->Grow(8 * kBlockSize).code(), Code::kFailedPrecondition);
  EXPECT_EQ((*v)->Close().code(), Code::kFailedPrecondition);
  EXPECT_EQ((*capture)->CaptureBlock(0).code(), Code::kInvalidArgument);
  BlockMap map = (*capture)->base();
  ASSERT_TRUE(map.WriteTo(fs_, "/m.map").ok());
  EXPECT_EQ((*capture)->Commit(map, "/m.map").code(), Code::kFailedPrecondition);  // not captured
  ASSERT_TRUE((*capture)->CaptureBlock(1).ok());
  ASSERT_TRUE((*capture)->CaptureBlock(1).ok());  // already claimed: no second delivery
  BlockMap foreign(4 * kBlockSize, LineageId{9}, "");
  ASSERT_TRUE(foreign.WriteTo(fs_, "/f.map").ok());
  EXPECT_EQ((*capture)->Commit(foreign, "/f.map").code(), Code::kInvalidArgument);
  Commit(**capture, sink, "/s.map");
  EXPECT_EQ((*capture)->CaptureBlock(1).code(), Code::kFailedPrecondition);
  EXPECT_TRUE((*v)->Grow(8 * kBlockSize).ok());
  EXPECT_TRUE((*v)->Close().ok());
}

// A write to a block the capture has not taken yet hands the old content over first.
TEST_F(VolumeCaptureTest, WriteToAPendingBlockCapturesItFirst) {
  std::mt19937_64 rng(5);
  Bytes image = RandomBytes(rng, 2 * kBlockSize);
  BlockMap base = MakeBase(fs_, store_, "/base.map", image);
  auto v = Volume::Create(fs_, store_, "/vol", 2 * kBlockSize, Volume::Base{&base, "/base.map"});
  Bytes first(100, 1), second(100, 2);
  ASSERT_TRUE((*v)->Write(kBlockSize + 10, first).ok());
  Bytes at_capture = image;
  std::copy(first.begin(), first.end(), at_capture.begin() + kBlockSize + 10);
  RecordingSink sink;
  auto capture = (*v)->BeginCapture(sink);
  ASSERT_EQ((*capture)->blocks(), (std::vector<uint64_t>{1}));
  ASSERT_TRUE((*v)->Write(kBlockSize + 50, second).ok());
  ASSERT_EQ(sink.blocks().size(), 1u);  // delivered before the write returned
  EXPECT_EQ((*capture)->captured(), 1u);
  EXPECT_TRUE(
      std::equal(at_capture.begin() + kBlockSize, at_capture.end(), sink.blocks().at(1).begin()));
  ASSERT_TRUE((*capture)->CaptureBlock(1).ok());
  BlockMap map = Commit(**capture, sink, "/s1.map");
  EXPECT_EQ(PendingBlocks(**v), (std::vector<uint64_t>{1}));  // the new write stays dirty

  // The snapshot restores to the volume as it was at the capture, even once deleted.
  auto restored =
      Volume::Create(fs_, store_, "/restored", 2 * kBlockSize, Volume::Base{&map, "/s1.map"});
  ASSERT_TRUE(restored.ok());
  ASSERT_TRUE(fs_.Remove("/s1.map").ok());
  EXPECT_EQ(ReadAll(**restored), at_capture);
  ASSERT_TRUE((*v)->Close().ok());
  ASSERT_TRUE(fs_.Remove("/base.map").ok());
  EXPECT_FALSE(Exists(fs_, "/vol/base-0.map"));  // the old base link went with the commit
  auto reopened = MustOpen("/vol");
  std::copy(second.begin(), second.end(), at_capture.begin() + kBlockSize + 50);
  EXPECT_EQ(ReadAll(*reopened), at_capture);
}

// --- Writers racing captures ---

struct SliceWrite {
  Bytes content;
  int start_phase;  // phase seen before the call: 0 before BeginCapture, 2 after it returned
  int end_phase;    // phase seen after the call returned
};

class PointInTimeTest : public VolumeCaptureTest {
 protected:
  static constexpr uint64_t kSlice = 4096;
  static constexpr uint64_t kBlocks = 8;
  static constexpr uint64_t kSlices = kBlocks * kBlockSize / kSlice;
  static constexpr int kWriters = 4;

  Bytes BlockOf(const BlockMap& map, uint64_t block) {
    auto chunk = map.Find(block);
    if (!chunk) return Bytes(kBlockSize, 0);
    return *store_.Get(*chunk);
  }
  // The slice content after history index i (-1: the content the round started from).
  const Bytes& ContentAt(uint64_t s, int64_t i) {
    return i < 0 ? round_start_[s] : history_[s][i].content;
  }
  void CheckSnapshot(const Bytes& snapshot);

  std::vector<std::vector<SliceWrite>> history_{kSlices};  // slice s: owned by writer s % kWriters
  std::vector<Bytes> round_start_{kSlices};
};

// Each slice's content in the snapshot is the one of a write that may be at the point in time:
// no earlier than the last write that returned before BeginCapture was called, no later than
// the last write called before it returned.
void PointInTimeTest::CheckSnapshot(const Bytes& snapshot) {
  for (uint64_t s = 0; s < kSlices; ++s) {
    int64_t lo = -1, hi = -1;
    for (int64_t i = 0; i < static_cast<int64_t>(history_[s].size()); ++i) {
      if (history_[s][i].end_phase == 0) lo = i;
      if (history_[s][i].start_phase <= 1) hi = i;
    }
    bool found = false;
    for (int64_t i = lo; i <= hi && !found; ++i) {
      const Bytes& c = ContentAt(s, i);
      found = std::equal(c.begin(), c.end(), snapshot.begin() + s * kSlice);
    }
    if (found) continue;
    // Which of the slice's versions the snapshot holds, if any, with each write's phases.
    std::string matches, phases;
    for (int64_t i = -1; i < static_cast<int64_t>(history_[s].size()); ++i) {
      const Bytes& c = ContentAt(s, i);
      if (std::equal(c.begin(), c.end(), snapshot.begin() + s * kSlice)) {
        matches += " " + std::to_string(i);
      }
      if (i >= 0) {
        phases += " " + std::to_string(history_[s][i].start_phase) +
                  std::to_string(history_[s][i].end_phase);
      }
    }
    FAIL() << "slice " << s << " (block " << s * kSlice / kBlockSize
           << ") is not the volume at the capture: candidates " << lo << ".." << hi
           << ", snapshot holds version(s)" << matches << " (-1: the round's start); phases"
           << phases;
  }
}

TEST_F(PointInTimeTest, SnapshotsAreTheVolumeAtTheCallWhileWritersRun) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("KILN_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const uint64_t size = kBlocks * kBlockSize;
  Bytes image = MakeImage(rng, size);
  BlockMap base = MakeBase(fs_, store_, "/base.map", image);
  auto created = Volume::Create(fs_, store_, "/vol", size, Volume::Base{&base, "/base.map"});
  ASSERT_TRUE(created.ok());
  Volume& v = **created;
  for (uint64_t s = 0; s < kSlices; ++s) {
    round_start_[s].assign(image.begin() + s * kSlice, image.begin() + (s + 1) * kSlice);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (int round = 0; round < 4; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::atomic<int> phase{0};
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> writes{0};
    std::vector<std::thread> writers;
    for (int t = 0; t < kWriters; ++t) {
      writers.emplace_back([&, t] {
        std::mt19937_64 r(seed * 31 + round * 7 + t);
        while (!stop.load()) {
          const uint64_t s = (r() % (kSlices / kWriters)) * kWriters + t;
          SliceWrite w;
          w.content = r() % 8 == 0 ? Bytes(kSlice, 0) : RandomBytes(r, kSlice);
          w.start_phase = phase.load();
          Status st = IsAllZero(w.content) ? v.WriteZeroes(s * kSlice, kSlice)
                                           : v.Write(s * kSlice, w.content);
          w.end_phase = phase.load();
          ASSERT_TRUE(st.ok()) << st.ToString();
          history_[s].push_back(std::move(w));
          writes.fetch_add(1);
        }
      });
    }
    auto wait_for = [&](uint64_t n) {
      while (writes.load() < n) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "writers stalled";
        std::this_thread::yield();
      }
    };
    wait_for(200);
    RecordingSink sink;
    phase = 1;
    auto capture = v.BeginCapture(sink);
    phase = 2;
    ASSERT_TRUE(capture.ok());
    std::vector<uint64_t> order = (*capture)->blocks();
    std::shuffle(order.begin(), order.end(), rng);
    std::atomic<size_t> next{0};
    std::vector<std::thread> workers;
    for (int w = 0; w < 3; ++w) {
      workers.emplace_back([&] {
        for (size_t i = next++; i < order.size(); i = next++) {
          EXPECT_TRUE((*capture)->CaptureBlock(order[i]).ok());
        }
      });
    }
    for (auto& w : workers) w.join();
    const uint64_t at_commit = writes.load();
    BlockMap map = Commit(**capture, sink, "/snap-" + std::to_string(round) + ".map");
    wait_for(at_commit + 200);
    stop = true;
    for (auto& w : writers) w.join();

    Bytes snapshot(size);
    for (uint64_t b = 0; b < kBlocks; ++b) {
      Bytes block = BlockOf(map, b);
      std::copy(block.begin(), block.end(), snapshot.begin() + b * kBlockSize);
    }
    // Every delivery was in before the map was built (CaptureBlock waits for writers').
    for (const auto& [block, data] : sink.blocks()) {
      EXPECT_EQ(data, BlockOf(map, block)) << "block " << block << " is not in the snapshot";
    }
    CheckSnapshot(snapshot);
    if (HasFatalFailure()) return;
    // Every acknowledged write is in the volume: each slice holds its last write.
    for (uint64_t s = 0; s < kSlices; ++s) {
      if (!history_[s].empty()) round_start_[s] = history_[s].back().content;
      history_[s].clear();
    }
    Bytes expected(size);
    for (uint64_t s = 0; s < kSlices; ++s) {
      std::copy(round_start_[s].begin(), round_start_[s].end(), expected.begin() + s * kSlice);
    }
    ASSERT_EQ(ReadAll(v), expected);
  }
}

}  // namespace
}  // namespace kiln
