// The container runtime on the real kernel: an instance booted from the imported base image on
// a volume (VolumeFs + loop device), its user data run once, its console, its devices and
// hostname, stop and start with its files kept, and a clean host afterwards. Needs root,
// /dev/fuse and loop devices (a failure under CI=true, a skip elsewhere).
#include "runtime/container.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "env/env_testing.h"
#include "env/posix_file_system.h"
#include "env/subprocess.h"
#include "fuse/fuse_testing.h"
#include "fuse/loop_device.h"
#include "fuse/volume_fs.h"
#include "image/image_import.h"
#include "runtime/runtime_testing.h"
#include "snapshot/snapshot_testing.h"
#include "store/content_chunk_store.h"

namespace kiln {
namespace {

constexpr char kUserData[] = R"UD(#!/bin/sh
echo "user-data: hello from $(hostname)"
echo persisted > /root/hello
ls /dev/xvda /dev/sdf /dev/xvdf && echo "user-data: devices ok"
)UD";

using runtime_testing::Count;

// Polls the console until `text` appears `times` times (or the deadline passes).
bool ConsoleShows(const Container& c, const std::string& text, int times = 1) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (Count(ReadConsoleLog(c.console_path()).value(), text) >= times) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// Mounts `device` at `mnt` on the host, reads the first word of `file` in it, unmounts.
std::string FirstWordOnDevice(const std::string& device, const std::string& mnt,
                              const std::string& file, unsigned long flags, const char* options) {
  std::filesystem::create_directories(mnt);
  if (::mount(device.c_str(), mnt.c_str(), "ext4", flags, options) != 0) {
    ADD_FAILURE() << "mount " << device << ": " << std::strerror(errno);
    return "";
  }
  std::ifstream in(mnt + file);
  std::string word;
  in >> word;
  in.close();
  EXPECT_EQ(::umount(mnt.c_str()), 0) << std::strerror(errno);
  return word;
}

// Mounts `device` read-only without replaying its journal (what a clean shutdown left is all
// there is), and returns `file`'s whole text ("" if missing).
std::string FileOnDevice(const std::string& device, const std::string& mnt,
                         const std::string& file) {
  std::filesystem::create_directories(mnt);
  if (::mount(device.c_str(), mnt.c_str(), "ext4", MS_RDONLY, "noload") != 0) {
    ADD_FAILURE() << "mount " << device << ": " << std::strerror(errno);
    return "";
  }
  std::ifstream in(mnt + file);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  EXPECT_EQ(::umount(mnt.c_str()), 0) << std::strerror(errno);
  return text;
}

bool HostHasMountsUnder(const std::string& dir) {
  std::ifstream mounts("/proc/self/mounts");
  std::string line;
  while (std::getline(mounts, line)) {
    if (line.find(" " + dir) != std::string::npos) return true;
  }
  return false;
}

class ContainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    KILN_REQUIRE_HOST_FEATURES();
    const std::string image = root() + "/base.ext4";
    ASSERT_TRUE(RunChecked({KILN_MAKE_BASE_IMAGE, image, "128M"}).ok());
    ImportOptions options;
    options.scratch_dir = root() + "/scratch";
    ASSERT_TRUE(ImportRawImage(fs_, *snaps_, *store_, image, "base", options).ok());
    std::filesystem::create_directories(root() + "/fuse");
    auto vfs = VolumeFs::Mount(root() + "/fuse");
    ASSERT_TRUE(vfs.ok()) << vfs.status().ToString();
    vfs_ = std::move(vfs).value();
    root_vol_ = std::move(snaps_->CreateVolume("base", root() + "/vol-root").value());
    data_vol_ = std::move(Volume::Create(fs_, *store_, root() + "/vol-data", 8 << 20).value());
    ASSERT_TRUE(vfs_->Add("root", root_vol_.get()).ok());
    ASSERT_TRUE(vfs_->Add("data", data_vol_.get()).ok());
    root_loop_ = std::move(LoopDevice::Attach(vfs_->PathOf("root")).value());
    data_loop_ = std::move(LoopDevice::Attach(vfs_->PathOf("data")).value());
  }
  void TearDown() override {
    root_loop_.reset();
    data_loop_.reset();
    vfs_.reset();
  }
  const std::string& root() const { return dir_.path(); }
  ContainerSpec Spec() {
    ContainerSpec spec;
    spec.instance_id = "i-0123456789abcdef0";
    spec.state_dir = root() + "/instance";
    spec.root_device = root_loop_->path();
    const unsigned rm = root_loop_->device_major(), rn = root_loop_->device_minor();
    const unsigned dm = data_loop_->device_major(), dn = data_loop_->device_minor();
    spec.devices = {{"/dev/xvda", rm, rn}, {"/dev/sdf", dm, dn}, {"/dev/xvdf", dm, dn}};
    spec.user_data = kUserData;
    return spec;
  }
  Container::StopEnd StopAfterUserDataWriter(ContainerSpec spec);

  env_testing::TempDir dir_{"kiln_runtime"};
  snapshot_testing::Storage st_{dir_.path()};
  PosixFileSystem& fs_ = st_.fs_;
  ContentChunkStore* store_ = st_.plain_.get();
  SnapshotStore* snaps_ = st_.snaps_.get();
  std::unique_ptr<Volume> root_vol_, data_vol_;
  std::unique_ptr<VolumeFs> vfs_;
  std::unique_ptr<LoopDevice> root_loop_, data_loop_;
};

TEST_F(ContainerTest, BootsRunsUserDataOnceKeepsFilesAndLeavesTheHostClean) {
  ContainerSpec spec = Spec();
  spec.run_user_data = true;
  auto c = Container::Start(spec);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(ConsoleShows(**c, "minimal-linux: up"));
  EXPECT_TRUE(ConsoleShows(**c, "user-data: hello from i-0123456789abcdef0"));
  EXPECT_TRUE(ConsoleShows(**c, "user-data: devices ok"));
  EXPECT_FALSE(HostHasMountsUnder(spec.state_dir)) << "mounts stay inside the instance";
  const pid_t pid = (*c)->pid();
  ASSERT_TRUE((*c)->Stop(10000).ok());
  EXPECT_FALSE((*c)->running());
  EXPECT_NE(::kill(pid, 0), 0) << "init is gone";
  c->reset();

  // Second boot (start after stop): the user data does not run again.
  spec.run_user_data = false;
  auto again = Container::Start(spec);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(ConsoleShows(**again, "minimal-linux: up", 2));
  ASSERT_TRUE((*again)->Stop(10000).ok());
  const std::string log = ReadConsoleLog((*again)->console_path()).value();
  EXPECT_EQ(Count(log, "user-data: hello"), 1) << log;
  EXPECT_EQ(Count(log, "minimal-linux: booting"), 2) << "the console is kept across boots";
  again->reset();

  // What the user data wrote is on the root volume.
  EXPECT_EQ(
      FirstWordOnDevice(root_loop_->path(), root() + "/check", "/root/hello", MS_RDONLY, "noload"),
      "persisted");
}

// The seed's NoReboot image: freeze, snapshot the running instance's root volume, thaw; a
// volume restored from that snapshot has what the guest wrote (never synced by the guest).
TEST_F(ContainerTest, FreezeSnapshotThawCapturesUnsyncedFiles) {
  ContainerSpec spec = Spec();
  spec.run_user_data = true;
  spec.user_data = "#!/bin/sh\necho frozen-data > /root/unsynced\necho 'user-data: written'\n";
  auto c = Container::Start(spec);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(ConsoleShows(**c, "user-data: written"));
  ASSERT_TRUE((*c)->Freeze(30000).ok());
  EXPECT_TRUE((*c)->frozen());
  EXPECT_EQ((*c)->Freeze().code(), Code::kFailedPrecondition) << "already frozen";
  auto job = snaps_->Start(*root_vol_, "no-reboot");
  ASSERT_TRUE(job.ok());
  auto info = (*job)->Run();
  ASSERT_TRUE((*c)->Thaw().ok());
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_FALSE((*c)->frozen());
  EXPECT_TRUE((*c)->running()) << "NoReboot: the instance kept running";

  auto restored = snaps_->CreateVolume("no-reboot", root() + "/vol-restored");
  ASSERT_TRUE(restored.ok());
  ASSERT_TRUE(vfs_->Add("restored", restored->get()).ok());
  {
    auto loop = LoopDevice::Attach(vfs_->PathOf("restored"));
    ASSERT_TRUE(loop.ok());
    EXPECT_EQ(FirstWordOnDevice((*loop)->path(), root() + "/restored", "/root/unsynced", 0, ""),
              "frozen-data");
  }
  ASSERT_TRUE((*c)->Stop(10000).ok());
}

TEST_F(ContainerTest, TheFreezeWatchdogThawsOnItsOwn) {
  auto c = Container::Start(Spec());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(ConsoleShows(**c, "minimal-linux: up"));
  ASSERT_TRUE((*c)->Freeze(200).ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((*c)->frozen() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_FALSE((*c)->frozen()) << "the watchdog thawed";
  ASSERT_TRUE((*c)->Stop(10000).ok()) << "and the instance can shut down";
}

// An instance type's memory limit is enforced: a process over it is killed, and the limit is
// readable from the host's cgroup files (v1 on this project's CI hosts, v2 elsewhere).
TEST_F(ContainerTest, MemoryLimitKillsAProcessOverIt) {
  ContainerSpec spec = Spec();
  spec.limits = {.memory_bytes = 64ULL << 20, .vcpus = 1};
  spec.run_user_data = true;
  spec.user_data =
      "#!/bin/sh\ndd if=/dev/zero of=/dev/null bs=256M count=1\n"
      "echo \"user-data: dd exit $?\"\n";
  auto c = Container::Start(spec);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_NE((*c)->cgroup(), nullptr);
  EXPECT_TRUE((*c)->cgroup()->skipped().empty()) << "this host has memory and cpu controllers";
  const std::string mem_dir = (*c)->cgroup()->dirs().front();
  const std::string limit_file =
      mem_dir + ((*c)->cgroup()->v2() ? "/memory.max" : "/memory.limit_in_bytes");
  std::ifstream limit(limit_file);
  uint64_t bytes = 0;
  limit >> bytes;
  EXPECT_EQ(bytes, 64ULL << 20) << limit_file;
  EXPECT_TRUE(ConsoleShows(**c, "user-data: dd exit 137"))
      << ReadConsoleLog((*c)->console_path()).value();
  EXPECT_TRUE((*c)->running()) << "only the process over the limit died";
  ASSERT_TRUE((*c)->Stop(10000).ok());
  EXPECT_FALSE(std::filesystem::exists(mem_dir)) << "the cgroup goes with the instance";
}

// A process holding a file open for writing (what a database or a log writer does) gets
// SIGTERM and writes its last line; the base image's shutdown (rcK) then remounts / read-only,
// and Stop ends the guest as soon as that is done, long before the grace period ends.
// Everything written before the stop, and on SIGTERM, is on the volume, readable without a
// journal replay. Returns how the stop ended.
Container::StopEnd ContainerTest::StopAfterUserDataWriter(ContainerSpec spec) {
  spec.run_user_data = true;
  spec.user_data = R"UD(#!/bin/sh
mke2fs -q /dev/sdf && mkdir -p /data && mount /dev/sdf /data
(
  trap 'echo term-handled >&3; echo term-handled >&4; exit 0' TERM
  exec 3>>/root/held 4>>/data/held
  echo before-stop >&3
  echo before-stop >&4
  echo "user-data: writer ready"
  while :; do sleep 10 & wait $!; done
) &
)UD";
  // Started as kilnd starts it: from a thread with SIGTERM and SIGINT blocked (kilnd takes
  // them on one thread). The guest's init must not inherit that, or it never sees the stop.
  sigset_t blocked, old;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGTERM);
  sigaddset(&blocked, SIGINT);
  pthread_sigmask(SIG_BLOCK, &blocked, &old);
  auto c = Container::Start(spec);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  if (!c.ok()) return Container::StopEnd::kNone;
  EXPECT_TRUE(ConsoleShows(**c, "user-data: writer ready"));
  EXPECT_EQ((*c)->stop_end(), Container::StopEnd::kNone);
  // A grace period far longer than a clean stop (well under a second): only a clean end can
  // finish it early, which stop_end tells.
  EXPECT_TRUE((*c)->Stop(60000).ok());
  const Container::StopEnd end = (*c)->stop_end();
  EXPECT_FALSE((*c)->running());
  const std::string log = ReadConsoleLog((*c)->console_path()).value();
  EXPECT_EQ(Count(log, "minimal-linux: / read-only"), 1) << log;
  c->reset();
  EXPECT_EQ(FileOnDevice(root_loop_->path(), root() + "/check", "/root/held"),
            "before-stop\nterm-handled\n");
  EXPECT_EQ(FileOnDevice(data_loop_->path(), root() + "/check", "/held"),
            "before-stop\nterm-handled\n")
      << "a volume the guest mounted is unmounted cleanly too";
  return end;
}

// The base image's init (tini running /etc/init.d/rc) ends by itself when rcK is done.
TEST_F(ContainerTest, StopEndsACleanGuestWhenItsInitExits) {
  EXPECT_EQ(StopAfterUserDataWriter(Spec()), Container::StopEnd::kExited);
}

// An init that stays after the guest's shutdown (busybox init sleeps a second, twice, before
// it exits) is ended as soon as the guest is at rest: no process but init, disks read-only.
TEST_F(ContainerTest, StopEndsACleanGuestAsSoonAsItIsAtRest) {
  const std::string mnt = root() + "/write-init";
  std::filesystem::create_directories(mnt);
  ASSERT_EQ(::mount(root_loop_->path().c_str(), mnt.c_str(), "ext4", 0, nullptr), 0)
      << std::strerror(errno);
  {
    std::ofstream init(mnt + "/sbin/busybox-init");
    init << "#!/bin/sh\nexec /bin/busybox init\n";
    std::ofstream inittab(mnt + "/etc/inittab");
    inittab << "::sysinit:/etc/init.d/rcS\n::respawn:/bin/sleep 2147483647\n"
               "::shutdown:/etc/init.d/rcK\n";
  }
  std::filesystem::permissions(mnt + "/sbin/busybox-init", std::filesystem::perms(0755));
  ASSERT_EQ(::umount(mnt.c_str()), 0) << std::strerror(errno);
  ContainerSpec spec = Spec();
  spec.init = "/sbin/busybox-init";
  EXPECT_EQ(StopAfterUserDataWriter(spec), Container::StopEnd::kAtRest);
}

// An init that ignores SIGTERM (and so never gets the guest to rest) is killed when the grace
// period ends; the instance's devices are let go as after any stop.
TEST_F(ContainerTest, AnInitIgnoringSigtermIsKilledAfterTheGracePeriod) {
  const std::string mnt = root() + "/write-init";
  std::filesystem::create_directories(mnt);
  ASSERT_EQ(::mount(root_loop_->path().c_str(), mnt.c_str(), "ext4", 0, nullptr), 0)
      << std::strerror(errno);
  {
    std::ofstream init(mnt + "/sbin/stubborn-init");
    init << "#!/bin/sh\ntrap 'echo stubborn: ignoring TERM' TERM\necho stubborn: up\n"
            "while :; do sleep 1 & wait $!; done\n";
  }
  std::filesystem::permissions(mnt + "/sbin/stubborn-init", std::filesystem::perms(0755));
  ASSERT_EQ(::umount(mnt.c_str()), 0) << std::strerror(errno);

  ContainerSpec spec = Spec();
  spec.init = "/sbin/stubborn-init";
  auto c = Container::Start(spec);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(ConsoleShows(**c, "stubborn: up"));
  const pid_t pid = (*c)->pid();
  ASSERT_TRUE((*c)->Stop(1000).ok());
  EXPECT_EQ((*c)->stop_end(), Container::StopEnd::kGraceExpired);
  EXPECT_FALSE((*c)->running());
  EXPECT_NE(::kill(pid, 0), 0) << "init is gone";
  ASSERT_TRUE((*c)->Stop(1000).ok()) << "idempotent";
  EXPECT_EQ((*c)->stop_end(), Container::StopEnd::kGraceExpired);
  c->reset();
  EXPECT_FALSE(HostHasMountsUnder(spec.state_dir));
  EXPECT_EQ(FileOnDevice(root_loop_->path(), root() + "/check", "/etc/hostname"), "minimal-linux\n")
      << "the root file system is intact";
}

TEST_F(ContainerTest, BadRootOrDeviceNamesAreClearErrorsAndLeaveNothing) {
  ContainerSpec spec = Spec();
  spec.root_device = data_loop_->path();  // an empty volume: no file system
  auto c = Container::Start(spec);
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument) << c.status().ToString();
  EXPECT_NE(c.status().message().find("ext4"), std::string::npos) << c.status().ToString();
  EXPECT_FALSE(HostHasMountsUnder(spec.state_dir));
  spec = Spec();
  spec.devices.push_back({"/dev/../etc/passwd", 1, 3});
  EXPECT_EQ(Container::Start(spec).status().code(), Code::kInvalidArgument);
  spec = Spec();
  spec.instance_id = "Bad Id";
  EXPECT_EQ(Container::Start(spec).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace kiln
