// VolumeFs and LoopDevice on the real kernel: volumes as files through FUSE, loop devices over
// them, ext4 made and mounted on them, discard reaching the volume, flush reaching durability.
//
// These tests need root, /dev/fuse and loop devices. Where they are missing the tests skip with
// the reason, except under CI (CI=true), where a missing prerequisite is a failure.
#include "fuse/volume_fs.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "env/env_testing.h"
#include "env/posix_file_system.h"
#include "fuse/fuse_testing.h"
#include "fuse/loop_device.h"
#include "snapshot/snapshot_store.h"
#include "store/content_chunk_store.h"

namespace kiln {
namespace {

Bytes Random(size_t n, uint64_t seed) {
  Bytes out(n);
  std::mt19937_64 rng(seed);
  for (auto& b : out) b = static_cast<uint8_t>(rng());
  return out;
}

class VolumeFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    KILN_REQUIRE_HOST_FEATURES();
    backend_ = std::move(LocalDirBackend::Open(fs_, dir_.path() + "/chunks").value());
    store_ = std::make_unique<ContentChunkStore>(*backend_);
    snaps_ = std::move(SnapshotStore::Open(fs_, *store_, dir_.path() + "/snapshots").value());
    ASSERT_TRUE(CreateDirs(fs_, dir_.path() + "/mnt").ok());
    ASSERT_TRUE(CreateDirs(fs_, dir_.path() + "/volumes").ok());
    auto mounted = VolumeFs::Mount(dir_.path() + "/mnt");
    ASSERT_TRUE(mounted.ok()) << mounted.status().ToString();
    vfs_ = std::move(mounted).value();
  }
  void TearDown() override {
    vfs_.reset();  // unmount before the volumes and the directory go
    volumes_.clear();
  }
  Volume& NewVolume(const std::string& name, uint64_t size) {
    auto v = Volume::Create(fs_, *store_, dir_.path() + "/volumes/" + name, size);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    volumes_.push_back(std::move(v).value());
    EXPECT_TRUE(vfs_->Add(name, volumes_.back().get()).ok());
    return *volumes_.back();
  }
  // Runs a shell command, returns its exit status.
  static int Run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

  env_testing::TempDir dir_{"kiln_fuse"};
  PosixFileSystem fs_;
  std::unique_ptr<LocalDirBackend> backend_;
  std::unique_ptr<ContentChunkStore> store_;
  std::unique_ptr<SnapshotStore> snaps_;
  std::vector<std::unique_ptr<Volume>> volumes_;
  std::unique_ptr<VolumeFs> vfs_;
};

TEST_F(VolumeFsTest, FileShowsTheVolumeAndWritesReachIt) {
  Volume& v = NewVolume("vol-1", 4 * kBlockSize + 4096);
  const std::string path = vfs_->PathOf("vol-1");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), 4 * kBlockSize + 4096);
  EXPECT_EQ(std::filesystem::directory_iterator(vfs_->mountpoint())->path().filename(), "vol-1");

  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  const Bytes data = Random(3 * kBlockSize + 100, 1);
  ASSERT_EQ(::pwrite(fd, data.data(), data.size(), 1000), static_cast<ssize_t>(data.size()));
  ASSERT_EQ(::fsync(fd), 0);
  Bytes through_volume(data.size());
  ASSERT_TRUE(v.Read(1000, through_volume).ok());
  EXPECT_EQ(through_volume, data);
  EXPECT_EQ(v.Stats().dirty_blocks, 4u) << "writes are tracked for the next snapshot";
  Bytes back(data.size());
  ASSERT_EQ(::pread(fd, back.data(), back.size(), 1000), static_cast<ssize_t>(back.size()));
  EXPECT_EQ(back, data);
  // Past the end: reads are short, writes fail (a volume grows only through Grow).
  Bytes tail(8192);
  EXPECT_EQ(::pread(fd, tail.data(), tail.size(), 4 * kBlockSize), 4096);
  EXPECT_EQ(::pwrite(fd, tail.data(), tail.size(), 4 * kBlockSize), -1);
  EXPECT_EQ(errno, ENOSPC);
  EXPECT_EQ(::ftruncate(fd, 100), -1) << "the size is the volume's";
  // Discard: a punched hole is zeros in the volume.
  ASSERT_EQ(::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, kBlockSize, kBlockSize), 0)
      << std::strerror(errno);
  Bytes zeros(kBlockSize);
  ASSERT_TRUE(v.Read(kBlockSize, zeros).ok());
  EXPECT_TRUE(IsAllZero(zeros));
  ::close(fd);
}

TEST_F(VolumeFsTest, AddAndRemoveRules) {
  Volume& v = NewVolume("a", kBlockSize);
  EXPECT_EQ(vfs_->Add("a", &v).code(), Code::kAlreadyExists);
  for (const char* bad : {"", ".", "..", "a/b", "sp ace"}) {
    EXPECT_EQ(vfs_->Add(bad, &v).code(), Code::kInvalidArgument) << bad;
  }
  const int fd = ::open(vfs_->PathOf("a").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(vfs_->Remove("a").code(), Code::kFailedPrecondition) << "open files stay";
  ::close(fd);
  // Release reaches the server asynchronously after close; poll with a deadline.
  Status removed;
  for (int i = 0; i < 200; ++i) {
    removed = vfs_->Remove("a");
    if (removed.ok()) break;
    ::usleep(10 * 1000);
  }
  EXPECT_TRUE(removed.ok()) << removed.ToString();
  EXPECT_FALSE(std::filesystem::exists(vfs_->PathOf("a")));
  EXPECT_EQ(vfs_->Remove("a").code(), Code::kNotFound);
}

TEST_F(VolumeFsTest, Ext4OnALoopDeviceOverTheVolume) {
  Volume& v = NewVolume("root", 64ULL << 20);
  auto loop = LoopDevice::Attach(vfs_->PathOf("root"));
  ASSERT_TRUE(loop.ok()) << loop.status().ToString();
  EXPECT_EQ((*loop)->device_major(), 7u);
  RecordProperty("loop_direct_io", (*loop)->direct_io() ? "yes" : "no");
  std::printf("loop device %s over the FUSE file, direct I/O: %s\n", (*loop)->path().c_str(),
              (*loop)->direct_io() ? "yes" : "no");
  ASSERT_EQ(Run("mke2fs -q -F -t ext4 " + (*loop)->path()), 0);
  const std::string mnt = dir_.path() + "/ext4";
  std::filesystem::create_directory(mnt);
  ASSERT_EQ(::mount((*loop)->path().c_str(), mnt.c_str(), "ext4", 0, ""), 0)
      << std::strerror(errno);
  const Bytes data = Random(3 << 20, 2);
  {
    std::ofstream out(mnt + "/file.bin", std::ios::binary);
    out.write(reinterpret_cast<const char*>(data.data()),
              static_cast<std::streamsize>(data.size()));
  }
  ::sync();
  // fstrim sends discards for the free space: they become zero blocks in the volume.
  const uint64_t before_trim = v.Stats().present_blocks;
  ASSERT_EQ(Run("fstrim " + mnt), 0);
  const uint64_t after_trim = v.Stats().present_blocks;
  EXPECT_LE(after_trim, before_trim);
  ASSERT_EQ(::umount(mnt.c_str()), 0) << std::strerror(errno);
  ASSERT_TRUE((*loop)->Detach().ok());

  // Snapshot the volume and restore it: the file is there, read through a new loop device
  // (lazily fetched from the snapshot).
  auto job = snaps_->Start(v, "s1");
  ASSERT_TRUE(job.ok());
  ASSERT_TRUE((*job)->Run().ok());
  auto restored = snaps_->CreateVolume("s1", dir_.path() + "/volumes/restored");
  ASSERT_TRUE(restored.ok());
  ASSERT_TRUE(vfs_->Add("restored", restored->get()).ok());
  auto loop2 = LoopDevice::Attach(vfs_->PathOf("restored"), {.read_only = true});
  ASSERT_TRUE(loop2.ok()) << loop2.status().ToString();
  ASSERT_EQ(::mount((*loop2)->path().c_str(), mnt.c_str(), "ext4", MS_RDONLY, "noload"), 0)
      << std::strerror(errno);
  std::ifstream in(mnt + "/file.bin", std::ios::binary);
  const std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(got.size(), data.size());
  EXPECT_TRUE(got.size() == data.size() && std::memcmp(got.data(), data.data(), data.size()) == 0);
  in.close();
  ASSERT_EQ(::umount(mnt.c_str()), 0);
  ASSERT_TRUE((*loop2)->Detach().ok());
  volumes_.push_back(std::move(restored).value());
}

TEST_F(VolumeFsTest, BlkdiscardOnTheLoopDeviceZeroesTheVolume) {
  Volume& v = NewVolume("d", 8 * kBlockSize);
  ASSERT_TRUE(v.Write(0, Random(8 * kBlockSize, 3)).ok());
  auto loop = LoopDevice::Attach(vfs_->PathOf("d"));
  ASSERT_TRUE(loop.ok()) << loop.status().ToString();
  const int fd = ::open((*loop)->path().c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  uint64_t range[2] = {2 * kBlockSize, 4 * kBlockSize};
  ASSERT_EQ(::ioctl(fd, BLKDISCARD, range), 0) << std::strerror(errno);
  ::close(fd);
  Bytes got(4 * kBlockSize);
  ASSERT_TRUE(v.Read(2 * kBlockSize, got).ok());
  EXPECT_TRUE(IsAllZero(got)) << "discard reached the volume";
  // The discarded blocks cost nothing in the next snapshot.
  auto job = snaps_->Start(v, "after-discard");
  ASSERT_TRUE(job.ok());
  ASSERT_TRUE((*job)->Run().ok());
  const BlockMap map = snaps_->Load("after-discard").value();
  for (uint64_t b = 2; b < 6; ++b) EXPECT_FALSE(map.Find(b).has_value()) << "block " << b;
  EXPECT_EQ(map.size(), 4u);
}

TEST_F(VolumeFsTest, DescriptorsAreCloseOnExec) {
  // No descriptor kilnd holds (the FUSE channel, loop devices) may leak into an instance.
  NewVolume("c", kBlockSize);
  auto loop = LoopDevice::Attach(vfs_->PathOf("c"));
  ASSERT_TRUE(loop.ok());
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    const int fd = std::stoi(entry.path().filename());
    std::error_code ec;
    const std::string target = std::filesystem::read_symlink(entry.path(), ec).string();
    if (target != "/dev/fuse" && target.find("/dev/loop") != 0) continue;
    EXPECT_TRUE(::fcntl(fd, F_GETFD) & FD_CLOEXEC) << target << " (fd " << fd << ")";
  }
}

// Elastic Volumes: a volume grows under a mounted file system that is being written; the
// FUSE file and then the loop device take the new size at once, nothing written is lost, and
// the new space holds data.
TEST_F(VolumeFsTest, AGrownVolumeGrowsItsFileAndLoopDeviceWhileMountedAndWritten) {
  constexpr uint64_t kOld = 32ULL << 20, kNew = 64ULL << 20;
  Volume& v = NewVolume("g", kOld);
  const std::string path = vfs_->PathOf("g");
  auto loop = LoopDevice::Attach(path);
  ASSERT_TRUE(loop.ok()) << loop.status().ToString();
  ASSERT_EQ(Run("mke2fs -q -F -t ext4 " + (*loop)->path()), 0);
  const std::string mnt = dir_.path() + "/grow";
  std::filesystem::create_directory(mnt);
  ASSERT_EQ(::mount((*loop)->path().c_str(), mnt.c_str(), "ext4", 0, ""), 0)
      << std::strerror(errno);
  const int dev = ::open((*loop)->path().c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(dev, 0) << std::strerror(errno);
  auto device_size = [dev] {
    uint64_t bytes = 0;
    return ::ioctl(dev, BLKGETSIZE64, &bytes) == 0 ? bytes : 0;
  };
  ASSERT_EQ(device_size(), kOld);

  // A writer appends and fsyncs through the file system for the whole time.
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    const int fd = ::open((mnt + "/log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return;
    const Bytes chunk = Random(64 << 10, 7);
    while (!stop.load() &&
           ::write(fd, chunk.data(), chunk.size()) == static_cast<ssize_t>(chunk.size()) &&
           ::fsync(fd) == 0) {
      ++written;
    }
    ::close(fd);
  });
  while (written.load() < 3) std::this_thread::yield();
  ASSERT_TRUE(v.Grow(kNew).ok());
  ASSERT_TRUE(vfs_->Resized("g").ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), kNew);
  ASSERT_TRUE((*loop)->RefreshCapacity().ok());
  EXPECT_EQ(device_size(), kNew) << "the block device follows at once";
  const int before = written.load();
  while (written.load() < before + 3) std::this_thread::yield();
  stop = true;
  writer.join();

  // The new space past the old end (where the file system is not) takes data.
  const Bytes tail = Random(1 << 20, 8);
  ASSERT_EQ(::pwrite(dev, tail.data(), tail.size(), kNew - tail.size()),
            static_cast<ssize_t>(tail.size()))
      << std::strerror(errno);
  ASSERT_EQ(::fsync(dev), 0);
  ::close(dev);
  Bytes back(tail.size());
  ASSERT_TRUE(v.Read(kNew - tail.size(), back).ok());
  EXPECT_EQ(back, tail);
  // What the writer wrote is all there, across the grow.
  std::ifstream in(mnt + "/log", std::ios::binary | std::ios::ate);
  EXPECT_EQ(static_cast<int64_t>(in.tellg()), int64_t{written.load()} * (64 << 10));
  in.close();
  ASSERT_EQ(::umount(mnt.c_str()), 0) << std::strerror(errno);
  EXPECT_EQ(Run("e2fsck -f -n " + (*loop)->path()), 0) << "the file system is consistent";
  ASSERT_TRUE((*loop)->Detach().ok());
  EXPECT_EQ((*loop)->RefreshCapacity().code(), Code::kFailedPrecondition);
  EXPECT_EQ(vfs_->Resized("absent").code(), Code::kNotFound);
}

TEST(LoopDeviceTest, MissingFileIsNotFound) {
  KILN_REQUIRE_HOST_FEATURES();
  EXPECT_EQ(LoopDevice::Attach("/nonexistent/kiln-file").status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace kiln
