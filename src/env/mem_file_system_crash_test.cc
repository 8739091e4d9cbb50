// MemFileSystem's crash model: what survives Crash(), crash points, kKeepSomeUnsynced.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "env/mem_file_system.h"

namespace kiln {
namespace {

std::unique_ptr<File> MustOpen(FileSystem& fs, const std::string& path, OpenMode mode) {
  Result<std::unique_ptr<File>> f = fs.Open(path, mode);
  EXPECT_TRUE(f.ok()) << path << ": " << f.status().ToString();
  return f.ok() ? std::move(f).value() : nullptr;
}

// Writes `data` at 0 and syncs the file when `sync` says so (never the directory).
void Put(FileSystem& fs, const std::string& path, const std::string& data, bool sync) {
  auto f = MustOpen(fs, path, OpenMode::kTruncate);
  ASSERT_NE(f, nullptr);
  ASSERT_TRUE(f->WriteAt(0, AsBytes(data)).ok());
  if (sync) {
    ASSERT_TRUE(f->Sync().ok());
  }
}

std::string ReadString(FileSystem& fs, const std::string& path) {
  Result<std::unique_ptr<File>> f = fs.Open(path, OpenMode::kRead);
  if (!f.ok()) return "<" + std::string(CodeName(f.status().code())) + ">";
  std::string s(*(*f)->Size(), '\0');
  Result<size_t> n =
      (*f)->ReadAt(0, MutableByteView(reinterpret_cast<uint8_t*>(s.data()), s.size()));
  if (!n.ok()) return "<" + std::string(CodeName(n.status().code())) + ">";
  return s;
}

constexpr const char* kMissing = "<NotFound>";

TEST(MemFileSystemCrashTest, UnsyncedWriteIsLostSyncedWriteIsKept) {
  MemFileSystem fs;
  Put(fs, "synced", "kept", true);
  Put(fs, "unsynced", "lost", false);
  ASSERT_TRUE(fs.SyncDir("/").ok());
  fs.Crash();
  EXPECT_EQ(ReadString(fs, "synced"), "kept");
  EXPECT_EQ(ReadString(fs, "unsynced"), "");  // the name is durable, the data is not
}

TEST(MemFileSystemCrashTest, OverwriteAfterSyncIsLost) {
  MemFileSystem fs;
  auto f = MustOpen(fs, "f", OpenMode::kCreate);
  ASSERT_TRUE(fs.SyncDir("/").ok());
  ASSERT_TRUE(f->WriteAt(0, AsBytes("AAAA")).ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->WriteAt(2, AsBytes("BBBBBB")).ok());  // same page: copy-on-write
  EXPECT_EQ(ReadString(fs, "f"), "AABBBBBB");
  fs.Crash();
  EXPECT_EQ(ReadString(fs, "f"), "AAAA");
}

TEST(MemFileSystemCrashTest, UnsyncedTruncateAndPunchHoleRevert) {
  MemFileSystem fs;
  Put(fs, "f", std::string(10000, 'x'), true);
  ASSERT_TRUE(fs.SyncDir("/").ok());
  auto f = MustOpen(fs, "f", OpenMode::kReadWrite);
  ASSERT_TRUE(f->PunchHole(0, 8192).ok());
  ASSERT_TRUE(f->Truncate(5000).ok());
  fs.Crash();
  EXPECT_EQ(ReadString(fs, "f"), std::string(10000, 'x'));
  EXPECT_EQ(fs.Stat("f")->allocated_bytes, 3u * 4096);
}

TEST(MemFileSystemCrashTest, OpenTruncateOfDurableFileReverts) {
  MemFileSystem fs;
  Put(fs, "f", "old contents", true);
  ASSERT_TRUE(fs.SyncDir("/").ok());
  Put(fs, "f", "new", false);
  fs.Crash();
  EXPECT_EQ(ReadString(fs, "f"), "old contents");
}

TEST(MemFileSystemCrashTest, CreateWithoutSyncDirIsLostEvenIfFileSynced) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.CreateDir("d").ok());
  ASSERT_TRUE(fs.SyncDir("/").ok());
  Put(fs, "d/f", "synced data", true);
  fs.Crash();
  EXPECT_EQ(ReadString(fs, "d/f"), kMissing);
  Put(fs, "d/f", "synced data", true);
  ASSERT_TRUE(fs.SyncDir("d").ok());
  fs.Crash();
  EXPECT_EQ(ReadString(fs, "d/f"), "synced data");
}

TEST(MemFileSystemCrashTest, DirectoryNotDurablyLinkedDisappearsWithContents) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.CreateDir("a").ok());
  ASSERT_TRUE(fs.CreateDir("a/b").ok());
  Put(fs, "a/b/f", "x", true);
  ASSERT_TRUE(fs.SyncDir("a/b").ok());
  ASSERT_TRUE(fs.SyncDir("a").ok());  // but not "/": a itself is not durable
  fs.Crash();
  EXPECT_EQ(fs.Stat("a").status().code(), Code::kNotFound);
  EXPECT_EQ(fs.ListDir("/")->size(), 0u);
  // Recreating the name gives a fresh, empty directory.
  ASSERT_TRUE(fs.CreateDir("a").ok());
  EXPECT_EQ(fs.ListDir("a")->size(), 0u);
}

TEST(MemFileSystemCrashTest, RenameWithoutSyncDirReverts) {
  MemFileSystem fs;
  Put(fs, "target", "old", true);
  Put(fs, "tmp", "new", true);
  ASSERT_TRUE(fs.SyncDir("/").ok());
  ASSERT_TRUE(fs.Rename("tmp", "target").ok());
  EXPECT_EQ(ReadString(fs, "target"), "new");
  fs.Crash();
  EXPECT_EQ(ReadString(fs, "target"), "old");
  EXPECT_EQ(ReadString(fs, "tmp"), "new");
  ASSERT_TRUE(fs.Rename("tmp", "target").ok());
  ASSERT_TRUE(fs.SyncDir("/").ok());
  fs.Crash();
  EXPECT_EQ(ReadString(fs, "target"), "new");
  EXPECT_EQ(ReadString(fs, "tmp"), kMissing);
}

TEST(MemFileSystemCrashTest, CrossDirectoryRenameIsDurablePerDirectory) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.CreateDir("a").ok());
  ASSERT_TRUE(fs.CreateDir("b").ok());
  ASSERT_TRUE(fs.SyncDir("/").ok());
  Put(fs, "a/f", "data", true);
  ASSERT_TRUE(fs.SyncDir("a").ok());
  ASSERT_TRUE(fs.Rename("a/f", "b/f").ok());
  ASSERT_TRUE(fs.SyncDir("b").ok());
  fs.Crash();
  // Only the new name was made durable: both names survive (POSIX allows it).
  EXPECT_EQ(ReadString(fs, "a/f"), "data");
  EXPECT_EQ(ReadString(fs, "b/f"), "data");
  ASSERT_TRUE(fs.Remove("a/f").ok());
  ASSERT_TRUE(fs.SyncDir("a").ok());
  fs.Crash();
  EXPECT_EQ(ReadString(fs, "a/f"), kMissing);
  EXPECT_EQ(ReadString(fs, "b/f"), "data");
}

TEST(MemFileSystemCrashTest, RemoveWithoutSyncDirComesBack) {
  MemFileSystem fs;
  Put(fs, "f", "x", true);
  ASSERT_TRUE(fs.SyncDir("/").ok());
  ASSERT_TRUE(fs.Remove("f").ok());
  fs.Crash();
  EXPECT_EQ(ReadString(fs, "f"), "x");
  ASSERT_TRUE(fs.Remove("f").ok());
  ASSERT_TRUE(fs.SyncDir("/").ok());
  fs.Crash();
  EXPECT_EQ(ReadString(fs, "f"), kMissing);
}

TEST(MemFileSystemCrashTest, RemovedDirectoryComesBackWithItsDurableEntries) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.CreateDir("d").ok());
  ASSERT_TRUE(fs.SyncDir("/").ok());
  Put(fs, "d/f", "x", true);
  ASSERT_TRUE(fs.SyncDir("d").ok());
  ASSERT_TRUE(fs.Remove("d/f").ok());
  ASSERT_TRUE(fs.RemoveDir("d").ok());
  fs.Crash();
  EXPECT_EQ(ReadString(fs, "d/f"), "x");
  ASSERT_TRUE(fs.Remove("d/f").ok());
  ASSERT_TRUE(fs.RemoveDir("d").ok());
  ASSERT_TRUE(fs.SyncDir("/").ok());
  fs.Crash();
  EXPECT_EQ(fs.Stat("d").status().code(), Code::kNotFound);
}

TEST(MemFileSystemCrashTest, LinkIsDurableOnlyAfterSyncDir) {
  MemFileSystem fs;
  Put(fs, "a", "shared", true);
  ASSERT_TRUE(fs.SyncDir("/").ok());
  ASSERT_TRUE(fs.Link("a", "b").ok());
  fs.Crash();
  EXPECT_EQ(ReadString(fs, "b"), kMissing);
  ASSERT_TRUE(fs.Link("a", "b").ok());
  ASSERT_TRUE(fs.SyncDir("/").ok());
  fs.Crash();
  EXPECT_EQ(ReadString(fs, "b"), "shared");
  // Still one file after the crash: a synced write through one name shows through the other.
  auto f = MustOpen(fs, "b", OpenMode::kReadWrite);
  ASSERT_TRUE(f->WriteAt(0, AsBytes("SHARED")).ok());
  ASSERT_TRUE(f->Sync().ok());
  fs.Crash();
  EXPECT_EQ(ReadString(fs, "a"), "SHARED");
}

TEST(MemFileSystemCrashTest, HandlesOpenedBeforeCrashAreDead) {
  MemFileSystem fs;
  Put(fs, "f", "data", true);
  ASSERT_TRUE(fs.SyncDir("/").ok());
  auto f = MustOpen(fs, "f", OpenMode::kReadWrite);
  fs.Crash();
  uint8_t buf[4];
  EXPECT_EQ(f->ReadAt(0, buf).status().code(), Code::kIoError);
  EXPECT_EQ(f->WriteAt(0, AsBytes("x")).code(), Code::kIoError);
  EXPECT_EQ(f->PunchHole(0, 1).code(), Code::kIoError);
  EXPECT_EQ(f->Truncate(0).code(), Code::kIoError);
  EXPECT_EQ(f->Sync().code(), Code::kIoError);
  EXPECT_EQ(f->Size().status().code(), Code::kIoError);
  EXPECT_EQ(ReadString(fs, "f"), "data");  // a new handle works, the old one changed nothing
  auto g = MustOpen(fs, "f", OpenMode::kReadWrite);
  EXPECT_TRUE(g->WriteAt(0, AsBytes("DATA")).ok());
}

TEST(MemFileSystemCrashTest, MutatingOpsAreCounted) {
  MemFileSystem fs;
  int64_t last = fs.mutating_ops();
  auto counted = [&](int64_t want) {
    const int64_t now = fs.mutating_ops();
    EXPECT_EQ(now - last, want);
    last = now;
  };
  auto f = MustOpen(fs, "f", OpenMode::kCreate);
  counted(1);
  MustOpen(fs, "f", OpenMode::kRead);
  MustOpen(fs, "f", OpenMode::kReadWrite);
  counted(0);
  ASSERT_TRUE(f->WriteAt(0, AsBytes("abc")).ok());
  ASSERT_TRUE(f->PunchHole(0, 1).ok());
  ASSERT_TRUE(f->Truncate(2).ok());
  ASSERT_TRUE(f->Sync().ok());
  counted(4);
  uint8_t buf[2];
  ASSERT_TRUE(f->ReadAt(0, buf).ok());
  ASSERT_TRUE(f->Size().ok());
  ASSERT_TRUE(fs.Stat("f").ok());
  ASSERT_TRUE(fs.ListDir("/").ok());
  ASSERT_TRUE(fs.FreeBytes("/").ok());
  counted(0);
  ASSERT_TRUE(fs.CreateDir("d").ok());
  ASSERT_TRUE(fs.SyncDir("/").ok());
  ASSERT_TRUE(fs.Link("f", "d/g").ok());
  ASSERT_TRUE(fs.Rename("d/g", "d/h").ok());
  ASSERT_TRUE(fs.Remove("d/h").ok());
  ASSERT_TRUE(fs.RemoveDir("d").ok());
  ASSERT_TRUE(fs.SetPermissions("f", 0600).ok());
  counted(7);
  EXPECT_EQ(fs.Remove("missing").code(), Code::kNotFound);  // a failed call counts too
  MustOpen(fs, "f", OpenMode::kCreate);                     // as does kCreate of an existing file
  counted(2);
}

TEST(MemFileSystemCrashTest, CrashPointFailsThatOpAndEverythingAfter) {
  MemFileSystem fs;
  auto f = MustOpen(fs, "f", OpenMode::kCreate);
  ASSERT_TRUE(fs.SyncDir("/").ok());
  fs.SetCrashAfter(2);
  uint8_t buf[1];
  EXPECT_TRUE(f->WriteAt(0, AsBytes("1")).ok());
  EXPECT_TRUE(f->ReadAt(0, buf).ok());  // reads do not count
  EXPECT_TRUE(f->Sync().ok());
  EXPECT_FALSE(fs.crashed());
  Status s = f->WriteAt(1, AsBytes("2"));
  EXPECT_EQ(s.code(), Code::kIoError);
  EXPECT_EQ(s.message(), "simulated crash");
  EXPECT_TRUE(fs.crashed());
  EXPECT_EQ(f->ReadAt(0, buf).status().code(), Code::kIoError);
  EXPECT_EQ(f->Size().status().code(), Code::kIoError);
  EXPECT_EQ(fs.Stat("f").status().code(), Code::kIoError);
  EXPECT_EQ(fs.ListDir("/").status().code(), Code::kIoError);
  EXPECT_EQ(fs.Open("f", OpenMode::kRead).status().code(), Code::kIoError);
  EXPECT_EQ(fs.FreeBytes("/").status().code(), Code::kIoError);
  fs.Crash();
  EXPECT_FALSE(fs.crashed());
  EXPECT_EQ(ReadString(fs, "f"), "1");
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(fs.CreateDir("d" + std::to_string(i)).ok());
}

TEST(MemFileSystemCrashTest, PermissionsAreDurableOnReturn) {
  MemFileSystem fs;
  auto f = MustOpen(fs, "f", OpenMode::kCreate);
  ASSERT_TRUE(fs.CreateDir("d").ok());
  ASSERT_TRUE(fs.SyncDir("/").ok());
  ASSERT_TRUE(fs.SetPermissions("f", 0600).ok());
  ASSERT_TRUE(fs.SetPermissions("d", 0700).ok());
  fs.SetCrashAfter(0);
  EXPECT_EQ(fs.SetPermissions("f", 0666).code(), Code::kIoError);  // the crash point
  fs.Crash();
  EXPECT_EQ(fs.Stat("f")->mode, 0600u);
  EXPECT_EQ(fs.Stat("d")->mode, 0700u);
}

TEST(MemFileSystemCrashTest, NegativeCrashAfterDisarms) {
  MemFileSystem fs;
  fs.SetCrashAfter(0);
  fs.SetCrashAfter(-1);
  EXPECT_TRUE(fs.CreateDir("d").ok());
  EXPECT_FALSE(fs.crashed());
}

// An append-only log acknowledged record by record (write, sync): replayed with a crash at
// every point, no acknowledged record may be lost, in either crash mode.
class LogReplay : public testing::TestWithParam<CrashMode> {};

// Appends records until one fails; returns how many were acknowledged.
int AppendRecords(MemFileSystem& fs) {
  Result<std::unique_ptr<File>> f = fs.Open("log", OpenMode::kCreate);
  if (!f.ok() || !fs.SyncDir("/").ok()) return 0;
  for (int i = 0; i < 5; ++i) {
    const std::string rec = "record-" + std::to_string(i) + ";";
    if (!(*f)->WriteAt(i * rec.size(), AsBytes(rec)).ok() || !(*f)->Sync().ok()) return i;
  }
  return 5;
}

TEST_P(LogReplay, EveryCrashPointKeepsAcknowledgedRecords) {
  int64_t points;
  {
    MemFileSystem fs;
    const int64_t before = fs.mutating_ops();
    ASSERT_EQ(AppendRecords(fs), 5);
    points = fs.mutating_ops() - before;
  }
  EXPECT_EQ(points, 12);  // open, sync dir, 5 x (write, sync)
  for (int64_t k = 0; k <= points; ++k) {
    SCOPED_TRACE("crash after " + std::to_string(k));
    MemFileSystem fs;
    fs.SetCrashAfter(k);
    const int acked = AppendRecords(fs);
    EXPECT_EQ(fs.crashed(), k < points);
    fs.Crash(GetParam(), static_cast<uint64_t>(k));
    const std::string log = ReadString(fs, "log");
    std::string want;
    for (int i = 0; i < acked; ++i) want += "record-" + std::to_string(i) + ";";
    EXPECT_EQ(log.substr(0, want.size()), want);
    if (GetParam() == CrashMode::kDropUnsynced && k >= 2) {
      EXPECT_EQ(log, want);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(BothModes, LogReplay,
                         testing::Values(CrashMode::kDropUnsynced, CrashMode::kKeepSomeUnsynced));

// 64 unsynced writes to distinct pages after a synced base; returns which survived a crash.
std::vector<bool> SurvivorsOfKeepSome(uint64_t seed) {
  MemFileSystem fs;
  auto f = MustOpen(fs, "f", OpenMode::kCreate);
  EXPECT_TRUE(fs.SyncDir("/").ok());
  EXPECT_TRUE(f->WriteAt(0, AsBytes("base")).ok());
  EXPECT_TRUE(f->Sync().ok());
  for (int i = 0; i < 64; ++i) {
    EXPECT_TRUE(f->WriteAt(4096 * (i + 1), Bytes(100, static_cast<uint8_t>(i + 1))).ok());
  }
  fs.Crash(CrashMode::kKeepSomeUnsynced, seed);
  auto g = MustOpen(fs, "f", OpenMode::kRead);
  Bytes base(4);
  EXPECT_EQ(*g->ReadAt(0, base), 4u);
  EXPECT_EQ(AsString(base), "base");  // synced data always survives
  std::vector<bool> kept;
  uint64_t want_size = 4;
  for (int i = 0; i < 64; ++i) {
    Bytes buf(100);
    Result<size_t> n = g->ReadAt(4096 * (i + 1), buf);
    const bool survived = n.ok() && *n == 100 && buf == Bytes(100, static_cast<uint8_t>(i + 1));
    // Each write survives whole or not at all.
    if (!survived && n.ok()) {
      EXPECT_TRUE(IsAllZero(ByteView(buf).first(*n))) << i;
    }
    if (survived) want_size = 4096 * (i + 1) + 100;
    kept.push_back(survived);
  }
  EXPECT_EQ(*g->Size(), want_size);
  return kept;
}

TEST(MemFileSystemCrashTest, KeepSomeUnsyncedKeepsASubset) {
  const std::vector<bool> kept = SurvivorsOfKeepSome(7);
  const auto n = std::count(kept.begin(), kept.end(), true);
  EXPECT_GT(n, 0);
  EXPECT_LT(n, 64);
}

TEST(MemFileSystemCrashTest, KeepSomeUnsyncedIsDeterministicPerSeed) {
  EXPECT_EQ(SurvivorsOfKeepSome(42), SurvivorsOfKeepSome(42));
  std::set<std::vector<bool>> outcomes;
  for (uint64_t seed = 0; seed < 5; ++seed) outcomes.insert(SurvivorsOfKeepSome(seed));
  EXPECT_GT(outcomes.size(), 1u);
}

TEST(MemFileSystemCrashTest, KeepSomeUnsyncedStillRevertsDirectories) {
  for (uint64_t seed = 0; seed < 8; ++seed) {
    MemFileSystem fs;
    Put(fs, "target", "old", true);
    ASSERT_TRUE(fs.SyncDir("/").ok());
    Put(fs, "tmp", "new", true);
    ASSERT_TRUE(fs.Rename("tmp", "target").ok());
    ASSERT_TRUE(fs.CreateDir("d").ok());
    fs.Crash(CrashMode::kKeepSomeUnsynced, seed);
    EXPECT_EQ(ReadString(fs, "target"), "old");
    EXPECT_EQ(ReadString(fs, "tmp"), kMissing);
    EXPECT_EQ(fs.Stat("d").status().code(), Code::kNotFound);
  }
}

TEST(MemFileSystemCrashTest, KeepSomeUnsyncedAfterCrashIsDurable) {
  // Whatever a kKeepSomeUnsynced crash kept is on disk: a second crash keeps it.
  MemFileSystem fs;
  auto f = MustOpen(fs, "f", OpenMode::kCreate);
  ASSERT_TRUE(fs.SyncDir("/").ok());
  for (int i = 0; i < 32; ++i) ASSERT_TRUE(f->WriteAt(i * 4096, Bytes(10, 1)).ok());
  fs.Crash(CrashMode::kKeepSomeUnsynced, 3);
  const std::string first = ReadString(fs, "f");
  fs.Crash();
  EXPECT_EQ(ReadString(fs, "f"), first);
}

TEST(MemFileSystemCrashTest, CrashWithoutCrashPointIsAPowerLossAtAnyTime) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.CreateDir("d").ok());
  fs.Crash();
  fs.Crash();
  EXPECT_EQ(fs.ListDir("/")->size(), 0u);
  EXPECT_FALSE(fs.crashed());
}

TEST(MemFileSystemCrashTest, SparseFileSurvivesCrashCheaply) {
  MemFileSystem fs;
  auto f = MustOpen(fs, "big", OpenMode::kCreate);
  ASSERT_TRUE(fs.SyncDir("/").ok());
  const uint64_t tib = uint64_t{1} << 40;
  ASSERT_TRUE(f->WriteAt(tib, AsBytes("durable")).ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->WriteAt(2 * tib, AsBytes("lost")).ok());
  fs.Crash(CrashMode::kDropUnsynced);
  auto g = MustOpen(fs, "big", OpenMode::kRead);
  EXPECT_EQ(*g->Size(), tib + 7);
  EXPECT_EQ(fs.Stat("big")->allocated_bytes, 4096u);
  Bytes buf(7);
  ASSERT_EQ(*g->ReadAt(tib, buf), 7u);
  EXPECT_EQ(AsString(buf), "durable");
}

}  // namespace
}  // namespace kiln
