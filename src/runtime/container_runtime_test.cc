// The container runtime on the real kernel, driven as the control plane will drive it: launch
// from the imported base image, user data once, console, exec, stop/start/reboot with
// instance-store semantics, attach and detach while running, root file system growth, discard
// from inside, bad input, a kilnd killed with its instances running, and a clean host after
// each. Needs root, /dev/fuse and loop devices (a failure under CI=true, a skip elsewhere).
#include "runtime/container_runtime.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "env/env_testing.h"
#include "env/subprocess.h"
#include "fuse/fuse_testing.h"
#include "image/image_import.h"
#include "runtime/runtime_testing.h"
#include "snapshot/snapshot_testing.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

constexpr char kId[] = "i-0123456789abcdef0";
constexpr char kOther[] = "i-0123456789abcdef1";

using runtime_testing::Count;

using runtime_testing::ReadAll;

// Loop devices bound to a file under `dir`.
int LoopsUnder(const std::string& dir) {
  int n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/sys/block", ec)) {
    std::ifstream in(e.path().string() + "/loop/backing_file");
    std::string backing;
    if (std::getline(in, backing) && backing.starts_with(dir + "/")) ++n;
  }
  return n;
}

// Mounts on the host under `dir`, except the runtime's own VolumeFs mount.
int MountsUnder(const std::string& dir) {
  std::ifstream in("/proc/self/mounts");
  std::string source, target, rest;
  int n = 0;
  while (in >> source >> target && std::getline(in, rest)) {
    if (target.starts_with(dir + "/") && target != dir + "/volumes") ++n;
  }
  return n;
}

bool ProcessGone(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  const size_t close = stat.rfind(')');
  return stat.empty() || (close != std::string::npos && stat.substr(close + 2, 1) == "Z");
}

ExecOptions Argv(std::vector<std::string> argv) {
  ExecOptions options;
  options.argv = std::move(argv);
  return options;
}

// Like ASSERT_TRUE(expr.ok()), with the status in the message.
#define ASSERT_OK(expr)                    \
  if (const Status s_ = (expr); s_.ok()) { \
  } else                                   \
    FAIL() << #expr << ": " << s_.ToString()

struct Sh {
  int exit_code = -1;
  std::string out;
};

// A run of this test holds an flock on its directory's .lock for its lifetime. Directories of
// earlier runs whose lock is free were left by a run that crashed or was killed: their
// instances, loop devices and mounts are reclaimed (RecoverHost) and the directory removed.
void ReclaimCrashedRuns(const std::string& own_dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(::testing::TempDir(), ec)) {
    const std::string dir = e.path().string();
    if (dir == own_dir || !e.path().filename().string().starts_with("kiln_rt_")) continue;
    const int lock = open((dir + "/.lock").c_str(), O_RDONLY | O_CLOEXEC);
    if (lock < 0) continue;
    if (flock(lock, LOCK_EX | LOCK_NB) == 0) {
      auto report = RecoverHost(dir + "/state");
      EXPECT_TRUE(report.ok()) << dir << ": " << report.status().ToString();
      std::ifstream mounts("/proc/self/mounts");
      std::vector<std::string> stale;
      std::string source, target, rest;
      while (mounts >> source >> target && std::getline(mounts, rest)) {
        if (target.starts_with(dir + "/")) stale.push_back(target);
      }
      for (auto it = stale.rbegin(); it != stale.rend(); ++it) umount2(it->c_str(), MNT_DETACH);
      fs::remove_all(dir, ec);
    }
    close(lock);
  }
}

class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    KILN_REQUIRE_HOST_FEATURES();
    lock_fd_ = open((root() + "/.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_EQ(flock(lock_fd_, LOCK_EX), 0);
    ReclaimCrashedRuns(root());
    const std::string image = root() + "/base.ext4";
    ASSERT_TRUE(RunChecked({KILN_MAKE_BASE_IMAGE, image, "128M"}).ok());
    ImportOptions options;
    options.scratch_dir = root() + "/scratch";
    ASSERT_TRUE(ImportRawImage(st_.fs_, *st_.snaps_, *st_.plain_, image, "base", options).ok());
    state_dir_ = fs::weakly_canonical(root() + "/state").string();
  }
  void TearDown() override {
    runtime_.reset();  // before the volumes it borrows
    for (auto& [name, v] : volumes_) v->Close().IgnoreError();
    if (lock_fd_ >= 0) close(lock_fd_);
  }
  const std::string& root() const { return dir_.path(); }

  void OpenRuntime() {
    ContainerRuntimeOptions options;
    options.state_dir = state_dir_;
    options.stop_grace_ms = 5000;
    auto rt = ContainerRuntime::Open(options);
    ASSERT_TRUE(rt.ok()) << rt.status().ToString();
    runtime_ = std::move(rt).value();
  }
  // A volume restored from snapshot `snap` (the base image by default).
  Volume* FromSnapshot(const std::string& name, uint64_t size = 0,
                       const std::string& snap = "base") {
    auto v = st_.snaps_->CreateVolume(snap, root() + "/" + name, size);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    if (!v.ok()) return nullptr;
    return (volumes_[name] = std::move(v).value()).get();
  }
  Volume* Empty(const std::string& name, uint64_t size) {
    auto v = Volume::Create(st_.fs_, *st_.plain_, root() + "/" + name, size);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    if (!v.ok()) return nullptr;
    return (volumes_[name] = std::move(v).value()).get();
  }
  InstanceConfig Config(const std::string& id, Volume* root_volume, const std::string& vol_id,
                        const std::string& user_data = "") {
    InstanceConfig c;
    c.instance_id = id;
    c.volumes = {{"/dev/xvda", vol_id, root_volume}};
    c.user_data = user_data;
    return c;
  }
  // Runs a shell script inside the instance; stdout and stderr together.
  Sh Run(const std::string& id, const std::string& script) {
    auto p = runtime_->Exec(id, Argv({"sh", "-c", "exec 2>&1\n" + script}));
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    if (!p.ok()) return {};
    (*p)->CloseStdin();
    Sh sh;
    sh.out = ReadAll((*p)->stdout_fd());
    auto code = (*p)->Wait(60000);
    EXPECT_TRUE(code.ok()) << code.status().ToString();
    sh.exit_code = code.ok() ? *code : -1;
    return sh;
  }
  std::string Out(const std::string& id, const std::string& script) {
    Sh sh = Run(id, script);
    EXPECT_EQ(sh.exit_code, 0) << script << ": " << sh.out;
    while (!sh.out.empty() && sh.out.back() == '\n') sh.out.pop_back();
    return sh.out;
  }
  bool ConsoleShows(const std::string& id, const std::string& text, int times = 1) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      auto log = runtime_->ConsoleOutput(id);
      if (log.ok() && Count(*log, text) >= times) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  uint64_t SnapshotBlocks(Volume* v, const std::string& id) {
    auto job = st_.snaps_->Start(*v, id);
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    if (!job.ok()) return 0;
    auto info = (*job)->Run();
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? info->mapped_blocks : 0;
  }
  void ExpectHostClean() {
    EXPECT_EQ(LoopsUnder(state_dir_), 0) << "loop devices left";
    EXPECT_EQ(MountsUnder(state_dir_), 0) << "mounts left";
    EXPECT_FALSE(fs::exists("/sys/fs/cgroup/memory/kiln/" + std::string(kId)));
    EXPECT_FALSE(fs::exists("/sys/fs/cgroup/kiln/" + std::string(kId)));
    std::error_code ec;
    EXPECT_TRUE(fs::is_empty(state_dir_ + "/volumes", ec)) << "VolumeFs files left";
  }

  env_testing::TempDir dir_{"kiln_rt"};
  snapshot_testing::Storage st_{dir_.path()};
  std::string state_dir_;
  std::map<std::string, std::unique_ptr<Volume>> volumes_;
  std::unique_ptr<ContainerRuntime> runtime_;
  int lock_fd_ = -1;
};

constexpr char kUserData[] = R"UD(#!/bin/sh
echo "user-data: hello from $(hostname)"
echo persisted > /root/hello
sync
echo "user-data: done"
)UD";

TEST_F(RuntimeTest, LaunchStopStartRebootTerminateWithUserDataOnceAndInstanceStore) {
  OpenRuntime();
  InstanceConfig config = Config(kId, FromSnapshot("root"), "vol-root", kUserData);
  config.instance_store = {{"/dev/sdb", 64 << 20}};
  ASSERT_TRUE(runtime_->Register(config).ok());
  ASSERT_OK(runtime_->Start(kId));
  ASSERT_TRUE(ConsoleShows(kId, "user-data: done"));
  EXPECT_TRUE(ConsoleShows(kId, std::string("user-data: hello from ") + kId));
  auto status = runtime_->Describe(kId);
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(status->running);
  EXPECT_TRUE(status->user_data_ran);
  EXPECT_EQ(status->devices, (std::vector<std::string>{"/dev/xvda", "/dev/sdb", "/dev/xvdb"}));
  EXPECT_EQ(Out(kId, "hostname"), kId);
  EXPECT_EQ(Out(kId, "ls /dev/xvda /dev/sdb /dev/xvdb | wc -l"), "3");
  // kilnd's descriptors (FUSE, volumes, chunk files) never reach the instance.
  EXPECT_EQ(Out(kId, "echo $(ls /proc/1/fd)"), "0 1 2") << Out(kId, "ls -l /proc/1/fd");
  EXPECT_EQ(runtime_->Start(kId).code(), Code::kFailedPrecondition) << "already running";

  // Reboot: the same boot again, instance-store data kept, user data not run again.
  Out(kId, "echo kept-on-reboot | dd of=/dev/sdb conv=fsync; echo data > /root/file; sync");
  const pid_t first_init = status->init_pid;
  ASSERT_OK(runtime_->Reboot(kId));
  EXPECT_NE(runtime_->Describe(kId)->init_pid, first_init);
  ASSERT_TRUE(ConsoleShows(kId, "minimal-linux: up", 2));
  EXPECT_EQ(Out(kId, "dd if=/dev/sdb bs=14 count=1 2>/dev/null"), "kept-on-reboot");
  EXPECT_EQ(Out(kId, "cat /root/file /root/hello"), "data\npersisted");

  // RebootWith (CreateImage): the hook runs while the guest is down, and its error comes back
  // only after the guest has booted again.
  bool hook_ran = false;
  Status hook = runtime_->RebootWith(kId, [&] {
    hook_ran = true;
    return IoError("snapshot failed");
  });
  EXPECT_TRUE(hook_ran);
  EXPECT_EQ(hook.code(), Code::kIoError);
  EXPECT_TRUE(runtime_->Describe(kId)->running) << "booted again despite the hook's error";
  ASSERT_TRUE(ConsoleShows(kId, "minimal-linux: up", 3));

  // Stop: everything let go; start: the same volumes, an empty instance store.
  ASSERT_OK(runtime_->Stop(kId));
  EXPECT_FALSE(runtime_->Describe(kId)->running);
  EXPECT_TRUE(ProcessGone(first_init));
  ExpectHostClean();
  EXPECT_EQ(runtime_->Exec(kId, Argv({"true"})).status().code(), Code::kFailedPrecondition);
  ASSERT_OK(runtime_->Start(kId));
  ASSERT_TRUE(ConsoleShows(kId, "minimal-linux: up", 4));
  EXPECT_EQ(Out(kId, "dd if=/dev/sdb bs=1M count=1 2>/dev/null | tr -d '\\000' | wc -c"), "0")
      << "instance store is empty after stop/start";
  EXPECT_EQ(Out(kId, "cat /root/file /root/hello"), "data\npersisted");
  const std::string log = runtime_->ConsoleOutput(kId).value();
  EXPECT_EQ(Count(log, "user-data: hello"), 1) << log;
  EXPECT_EQ(Count(log, "minimal-linux: booting"), 4) << "the console is kept across boots";

  const pid_t init = runtime_->Describe(kId)->init_pid;
  ASSERT_OK(runtime_->Terminate(kId));
  EXPECT_TRUE(ProcessGone(init));
  ExpectHostClean();
  EXPECT_FALSE(fs::exists(state_dir_ + "/instances/" + kId));
  EXPECT_EQ(runtime_->Describe(kId).status().code(), Code::kNotFound);
  // The root volume is the caller's: still there, with what the guest wrote.
  EXPECT_TRUE(volumes_["root"]->Flush().ok());
}

// Reboot of a guest in which a command started from outside (Exec: its parent is on the host,
// not init) holds a file open for writing: it gets SIGTERM and exits by itself, the guest's
// shutdown makes / read-only, and after the reboot the file has everything written before.
TEST_F(RuntimeTest, RebootIsCleanForAWriterOutsideInitsChildren) {
  OpenRuntime();
  ASSERT_TRUE(runtime_->Register(Config(kId, FromSnapshot("root"), "vol-root")).ok());
  ASSERT_OK(runtime_->Start(kId));
  ASSERT_TRUE(ConsoleShows(kId, "minimal-linux: up"));
  auto writer = runtime_->Exec(kId, Argv({"sh", "-c",
                                          "trap 'echo term-handled >&3; exit 7' TERM\n"
                                          "exec 3>>/root/held\necho before-reboot >&3\necho ready\n"
                                          "while :; do sleep 10 & wait $!; done\n"}));
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  char ready[6] = {};
  ASSERT_EQ(read((*writer)->stdout_fd(), ready, 5), 5);
  ASSERT_STREQ(ready, "ready");
  ASSERT_OK(runtime_->Reboot(kId));
  auto code = (*writer)->Wait(10000);
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 7) << "the writer ended through its SIGTERM handler, not SIGKILL";
  ASSERT_TRUE(ConsoleShows(kId, "minimal-linux: up", 2));
  EXPECT_EQ(Count(runtime_->ConsoleOutput(kId).value(), "minimal-linux: / read-only"), 1)
      << runtime_->ConsoleOutput(kId).value();
  EXPECT_EQ(Out(kId, "cat /root/held"), "before-reboot\nterm-handled");
  ASSERT_OK(runtime_->Terminate(kId));
  ExpectHostClean();
}

TEST_F(RuntimeTest, AVolumeMovesBetweenRunningInstancesWithItsFiles) {
  OpenRuntime();
  ASSERT_TRUE(runtime_->Register(Config(kId, FromSnapshot("root-a"), "vol-a")).ok());
  ASSERT_TRUE(runtime_->Register(Config(kOther, FromSnapshot("root-b"), "vol-b")).ok());
  ASSERT_OK(runtime_->Start(kId));
  ASSERT_OK(runtime_->Start(kOther));
  Volume* data = Empty("data", 64 << 20);
  ASSERT_TRUE(runtime_->Attach(kId, {"/dev/sdf", "vol-data", data}).ok());
  EXPECT_EQ(Out(kId, "ls /dev/sdf /dev/xvdf | wc -l"), "2") << "both spellings appear";
  Out(kId,
      "mke2fs -q /dev/xvdf && mkdir -p /mnt/d && mount /dev/sdf /mnt/d && "
      "echo moved > /mnt/d/f");
  EXPECT_EQ(runtime_->Attach(kOther, {"/dev/sdf", "vol-data", data}).code(), Code::kAlreadyExists)
      << "a volume is attached to one instance at a time";
  EXPECT_EQ(runtime_->Detach(kId, "/dev/xvdf", false).code(), Code::kFailedPrecondition)
      << "mounted in the guest";
  Out(kId, "umount /mnt/d");
  ASSERT_TRUE(runtime_->Detach(kId, "/dev/xvdf", false).ok());
  EXPECT_EQ(Out(kId, "ls /dev/sdf /dev/xvdf 2>/dev/null | wc -l"), "0") << "the nodes went";

  ASSERT_TRUE(runtime_->Attach(kOther, {"/dev/xvdg", "vol-data", data}).ok());
  EXPECT_EQ(Out(kOther, "mkdir -p /mnt/g && mount /dev/sdg /mnt/g && cat /mnt/g/f"), "moved");
  // A forced detach unmounts it inside first.
  ASSERT_TRUE(runtime_->Detach(kOther, "/dev/sdg", true).ok());
  EXPECT_EQ(Out(kOther, "grep -c /mnt/g /proc/mounts || true"), "0");
  EXPECT_EQ(runtime_->Detach(kOther, "/dev/sdg", false).code(), Code::kNotFound);
  EXPECT_EQ(runtime_->Detach(kOther, "/dev/xvda", false).code(), Code::kFailedPrecondition)
      << "the root of a running instance stays";
  ASSERT_OK(runtime_->Terminate(kId));
  ASSERT_OK(runtime_->Terminate(kOther));
  ExpectHostClean();
}

TEST_F(RuntimeTest, TheRootFileSystemGrowsToALargerVolume) {
  OpenRuntime();
  ASSERT_TRUE(runtime_->Register(Config(kId, FromSnapshot("root", 512 << 20), "vol-root")).ok());
  ASSERT_OK(runtime_->Start(kId));
  // df's total in KiB: the 128 MiB file system now spans (almost all of) the 512 MiB volume.
  const std::string total = Out(kId, "df -k / | tail -1 | awk '{print $2}'");
  EXPECT_GT(std::stoull(total), 450u * 1024) << total;
  ASSERT_OK(runtime_->Stop(kId));
  ASSERT_OK(runtime_->Start(kId)) << "and boots again at its new size";
  EXPECT_EQ(Out(kId, "df -k / | tail -1 | awk '{print $2}'"), total);
  ASSERT_OK(runtime_->Terminate(kId));
}

// fstrim and blkdiscard inside the instance reach the volume as zero blocks, which cost
// nothing in a snapshot (the seed's advice to zero free space before imaging).
TEST_F(RuntimeTest, DiscardInsideTheInstanceFreesVolumeBlocks) {
  OpenRuntime();
  Volume* root_volume = FromSnapshot("root");
  Volume* data = Empty("data", 64 << 20);
  InstanceConfig config = Config(kId, root_volume, "vol-root");
  config.volumes.push_back({"/dev/sdf", "vol-data", data});
  ASSERT_TRUE(runtime_->Register(config).ok());
  ASSERT_OK(runtime_->Start(kId));
  Out(kId, "dd if=/dev/urandom of=/dev/sdf bs=1M count=16 conv=fsync 2>/dev/null");
  EXPECT_GE(SnapshotBlocks(data, "data-written"), 32u) << "16 MiB of 512 KiB blocks";
  Out(kId, "blkdiscard /dev/xvdf");
  EXPECT_EQ(SnapshotBlocks(data, "data-discarded"), 0u);

  Out(kId, "dd if=/dev/urandom of=/root/big bs=1M count=24 2>/dev/null; sync");
  const uint64_t with_file = SnapshotBlocks(root_volume, "root-with-file");
  Out(kId, "rm /root/big; sync; fstrim /");
  const uint64_t trimmed = SnapshotBlocks(root_volume, "root-trimmed");
  EXPECT_LE(trimmed + 40, with_file) << "24 MiB freed: " << with_file << " -> " << trimmed;
  ASSERT_OK(runtime_->Terminate(kId));
}

TEST_F(RuntimeTest, BadInputIsAClearErrorAndLeavesNothing) {
  OpenRuntime();
  // A root volume without a file system, and one whose ext4 is damaged past its superblock.
  ASSERT_TRUE(runtime_->Register(Config(kId, Empty("blank", 64 << 20), "vol-blank")).ok());
  Status s = runtime_->Start(kId);
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("ext4"), std::string::npos) << s.ToString();
  EXPECT_FALSE(runtime_->Describe(kId)->running);
  ExpectHostClean();
  Volume* damaged = FromSnapshot("damaged");
  // Past the superblock (bytes 1024..2047): the group descriptors, with either block size.
  const std::string garbage(64 << 10, '\xff');
  ASSERT_TRUE(damaged->Write(2048, AsBytes(garbage)).ok());
  ASSERT_TRUE(runtime_->Register(Config(kOther, damaged, "vol-damaged")).ok());
  s = runtime_->Start(kOther);
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  ExpectHostClean();
  EXPECT_FALSE(runtime_->Describe(kOther)->user_data_ran);

  Volume* good = FromSnapshot("good");
  Volume* extra = Empty("extra", 8 << 20);
  const std::string id = "i-0123456789abcdef2";
  auto with = [&](std::vector<EbsAttachment> more) {
    InstanceConfig c = Config(id, good, "vol-good");
    for (auto& m : more) c.volumes.push_back(m);
    return runtime_->Register(c).code();
  };
  EXPECT_EQ(with({{"/dev/sda", "vol-x", extra}}), Code::kInvalidArgument);
  EXPECT_EQ(with({{"/dev/hdb", "vol-x", extra}}), Code::kInvalidArgument);
  EXPECT_EQ(with({{"/dev/sdf/../..", "vol-x", extra}}), Code::kInvalidArgument);
  EXPECT_EQ(with({{"/dev/sdf", "vol-x", extra}, {"/dev/xvdf", "vol-y", extra}}),
            Code::kAlreadyExists);
  EXPECT_EQ(with({{"/dev/sdf", "vol-good", good}}), Code::kAlreadyExists);
  EXPECT_EQ(with({{"/dev/sdf", "vol-blank", extra}}), Code::kAlreadyExists)
      << "attached to another instance";
  InstanceConfig no_root = Config(id, good, "vol-good");
  no_root.volumes[0].device = "/dev/sdf";
  EXPECT_EQ(runtime_->Register(no_root).code(), Code::kInvalidArgument);
  InstanceConfig bad_id = Config("Bad Id", good, "vol-good");
  EXPECT_EQ(runtime_->Register(bad_id).code(), Code::kInvalidArgument);
  EXPECT_EQ(runtime_->Start("i-00000000000000000").code(), Code::kNotFound);
  EXPECT_EQ(runtime_->Attach(kId, {"/dev/xvda", "vol-x", extra}).code(), Code::kInvalidArgument);
  EXPECT_EQ(runtime_->Attach(kId, {"/dev/sdf", "vol-damaged", extra}).code(), Code::kAlreadyExists);
  EXPECT_EQ(runtime_->Freeze(kId, 1000).code(), Code::kFailedPrecondition) << "not running";
  ExpectHostClean();
}

// The first-boot record is outside the volumes: an image made from the instance after its
// first boot gives a new instance that runs its own user data.
TEST_F(RuntimeTest, AnInstanceFromASnapshotAfterFirstBootRunsItsOwnUserData) {
  OpenRuntime();
  Volume* a_root = FromSnapshot("root-a");
  ASSERT_TRUE(runtime_
                  ->Register(Config(kId, a_root, "vol-a",
                                    "#!/bin/sh\necho from-a > /root/a\necho user-data: A\n"))
                  .ok());
  ASSERT_OK(runtime_->Start(kId));
  ASSERT_TRUE(ConsoleShows(kId, "user-data: A"));
  ASSERT_OK(runtime_->Stop(kId));
  SnapshotBlocks(a_root, "image-of-a");
  ASSERT_TRUE(runtime_
                  ->Register(Config(kOther, FromSnapshot("root-b", 0, "image-of-a"), "vol-b",
                                    "#!/bin/sh\necho user-data: B\n"))
                  .ok());
  ASSERT_OK(runtime_->Start(kOther));
  ASSERT_TRUE(ConsoleShows(kOther, "user-data: B"));
  EXPECT_EQ(Out(kOther, "cat /root/a"), "from-a") << "the image carries A's files";
  EXPECT_EQ(Count(runtime_->ConsoleOutput(kOther).value(), "user-data: A"), 0);
  ASSERT_OK(runtime_->Terminate(kOther));
  ASSERT_OK(runtime_->Terminate(kId));
}

TEST_F(RuntimeTest, AGuestThatPowersOffIsStoppedAndAClosingRuntimeStopsTheRest) {
  OpenRuntime();
  ASSERT_TRUE(runtime_->Register(Config(kId, FromSnapshot("root"), "vol-root")).ok());
  ASSERT_OK(runtime_->Start(kId));
  ASSERT_TRUE(ConsoleShows(kId, "minimal-linux: up"));
  auto p = runtime_->Exec(kId, Argv({"poweroff"}));
  ASSERT_TRUE(p.ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (runtime_->Describe(kId)->running && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_FALSE(runtime_->Describe(kId)->running);
  ExpectHostClean();
  ASSERT_OK(runtime_->Start(kId)) << "and starts again";
  const pid_t init = runtime_->Describe(kId)->init_pid;
  // kilnd's clean shutdown stops its running instances and leaves nothing.
  runtime_.reset();
  EXPECT_TRUE(ProcessGone(init));
  ExpectHostClean();
}

// kill -9 of kilnd with a running, frozen instance: the next runtime on the same state
// directory thaws and kills it, and leaves no mount, loop device, cgroup or process; the
// instance then starts again from its volume, its user data not run again.
TEST_F(RuntimeTest, AKilledKilndLeavesNothingAndItsInstancesStartAgain) {
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  // Forked before this process has any thread: the child is a whole kilnd of its own.
  const pid_t kilnd = fork();
  ASSERT_GE(kilnd, 0);
  if (kilnd == 0) {
    close(ready[0]);
    ContainerRuntimeOptions options;
    options.state_dir = state_dir_;
    auto rt = ContainerRuntime::Open(options);
    auto vol = st_.snaps_->CreateVolume("base", root() + "/root");
    char verdict = 'f';
    if (rt.ok() && vol.ok() &&
        (*rt)
            ->Register(Config(kId, vol->get(), "vol-root",
                              "#!/bin/sh\necho before > /root/before\nsync\necho user-data: ok\n"))
            .ok() &&
        (*rt)->Start(kId).ok()) {
      runtime_ = std::move(rt).value();
      if (ConsoleShows(kId, "user-data: ok") && runtime_->Freeze(kId, 600000).ok()) verdict = 'r';
    }
    (void)!write(ready[1], &verdict, 1);
    pause();
    _exit(0);
  }
  close(ready[1]);
  pollfd pfd{ready[0], POLLIN, 0};
  ASSERT_EQ(poll(&pfd, 1, 120000), 1) << "the child kilnd did not report";
  char verdict = 0;
  ASSERT_EQ(read(ready[0], &verdict, 1), 1);
  close(ready[0]);
  ASSERT_EQ(kill(kilnd, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(kilnd, &status, 0), kilnd);
  ASSERT_EQ(verdict, 'r') << "the child kilnd could not launch and freeze its instance";

  pid_t orphan = 0;
  std::ifstream(state_dir_ + "/instances/" + kId + "/init.pid") >> orphan;
  ASSERT_GT(orphan, 0);
  EXPECT_FALSE(ProcessGone(orphan)) << "the instance outlived its kilnd";

  OpenRuntime();
  EXPECT_EQ(runtime_->recovery().killed_instances, std::vector<std::string>{kId});
  EXPECT_GE(runtime_->recovery().thawed_file_systems, 1);
  EXPECT_TRUE(ProcessGone(orphan));
  ExpectHostClean();

  auto vol = st_.snaps_->OpenVolume(root() + "/root");
  ASSERT_TRUE(vol.ok()) << vol.status().ToString();
  Volume* v = (volumes_["root"] = std::move(vol).value()).get();
  ASSERT_TRUE(runtime_
                  ->Register(Config(kId, v, "vol-root",
                                    "#!/bin/sh\necho before > /root/before\necho user-data: ok\n"))
                  .ok());
  ASSERT_OK(runtime_->Start(kId));
  ASSERT_TRUE(ConsoleShows(kId, "minimal-linux: up", 2));
  EXPECT_EQ(Out(kId, "cat /root/before"), "before");
  EXPECT_EQ(Count(runtime_->ConsoleOutput(kId).value(), "user-data: ok"), 1)
      << "user data does not run again";
  ASSERT_OK(runtime_->Terminate(kId));
  ExpectHostClean();
}

}  // namespace
}  // namespace kiln
