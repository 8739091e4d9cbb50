// Exec on the real kernel: commands run inside an instance booted from the base image (its
// hostname, pid namespace, root and cgroups), with their streams, exit codes, signals, a
// terminal, and nothing of the host's left behind. Needs root, /dev/fuse and loop devices (a
// failure under CI=true, a skip elsewhere).
#include "runtime/exec.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "env/env_testing.h"
#include "env/posix_file_system.h"
#include "env/subprocess.h"
#include "fuse/fuse_testing.h"
#include "fuse/loop_device.h"
#include "fuse/volume_fs.h"
#include "image/image_import.h"
#include "runtime/container.h"
#include "snapshot/snapshot_testing.h"
#include "store/content_chunk_store.h"

namespace kiln {
namespace {

constexpr char kInstanceId[] = "i-0123456789abcdef0";
// Exec's "still running at the deadline" (exec.h's DeadlineExceeded; Code has no such code).
constexpr Code kDeadlineCode = Code::kDeadlineExceeded;

// Reads `fd` until `needle` shows up, the end of the stream, or 20 s pass; returns all read.
std::string ReadUntil(int fd, const std::string& needle) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::string text;
  while (needle.empty() || text.find(needle) == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p = {fd, POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[4096];
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;  // the end (EIO on a terminal whose slave closed)
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

std::string ReadAll(int fd) { return ReadUntil(fd, ""); }

// The host pid of the instance process whose command line is `cmdline` (NULs as spaces), or 0.
pid_t FindInCgroup(const std::string& cgroup_dir, const std::string& cmdline) {
  std::ifstream procs(cgroup_dir + "/cgroup.procs");
  for (pid_t pid; procs >> pid;) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::replace(text.begin(), text.end(), '\0', ' ');
    if (text == cmdline + " ") return pid;
  }
  return 0;
}

class ExecTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!fuse_testing::MissingHostFeature().empty()) return;
    image_dir_ = new env_testing::TempDir("kiln_exec_image");
    const auto made = RunChecked({KILN_MAKE_BASE_IMAGE, image(), "128M"});
    ASSERT_TRUE(made.ok()) << made.status().ToString();
  }
  static void TearDownTestSuite() {
    delete image_dir_;
    image_dir_ = nullptr;
  }
  static std::string image() { return image_dir_->path() + "/base.ext4"; }

  // Boots an instance from the base image on a volume (VolumeFs + loop device).
  void SetUp() override {
    KILN_REQUIRE_HOST_FEATURES();
    ImportOptions options;
    options.scratch_dir = root() + "/scratch";
    ASSERT_TRUE(ImportRawImage(fs_, *snaps_, *store_, image(), "base", options).ok());
    std::filesystem::create_directories(root() + "/fuse");
    auto vfs = VolumeFs::Mount(root() + "/fuse");
    ASSERT_TRUE(vfs.ok()) << vfs.status().ToString();
    vfs_ = std::move(vfs).value();
    root_vol_ = std::move(snaps_->CreateVolume("base", root() + "/vol-root").value());
    ASSERT_TRUE(vfs_->Add("root", root_vol_.get()).ok());
    root_loop_ = std::move(LoopDevice::Attach(vfs_->PathOf("root")).value());
    ContainerSpec spec;
    spec.instance_id = kInstanceId;
    spec.state_dir = root() + "/instance";
    spec.root_device = root_loop_->path();
    spec.devices = {{"/dev/xvda", root_loop_->device_major(), root_loop_->device_minor()}};
    spec.limits = {.memory_bytes = 256ULL << 20, .vcpus = 1};
    auto c = Container::Start(spec);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    container_ = std::move(c).value();
    target_ = container_->exec_target();
  }
  void TearDown() override {
    if (container_) {
      EXPECT_TRUE(container_->Stop(0).ok());
    }
    container_.reset();
    root_loop_.reset();
    vfs_.reset();
  }
  const std::string& root() const { return dir_.path(); }

  // Runs `argv` in the instance to completion; its stdout.
  std::string Run(std::vector<std::string> argv, const std::string& input = "") {
    auto out = ExecCapture(target_, argv, input, 20000);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    if (!out.ok()) return "";
    EXPECT_EQ(out->exit_code, 0) << out->err;
    return out->out;
  }
  std::unique_ptr<ExecProcess> Start(ExecOptions options) {
    auto proc = Exec(target_, options);
    EXPECT_TRUE(proc.ok()) << proc.status().ToString();
    return proc.ok() ? std::move(proc).value() : nullptr;
  }

  static env_testing::TempDir* image_dir_;
  env_testing::TempDir dir_{"kiln_exec"};
  snapshot_testing::Storage st_{dir_.path()};
  PosixFileSystem& fs_ = st_.fs_;
  ContentChunkStore* store_ = st_.plain_.get();
  SnapshotStore* snaps_ = st_.snaps_.get();
  std::unique_ptr<Volume> root_vol_;
  std::unique_ptr<VolumeFs> vfs_;
  std::unique_ptr<LoopDevice> root_loop_;
  std::unique_ptr<Container> container_;
  ExecTarget target_;
};

env_testing::TempDir* ExecTest::image_dir_ = nullptr;

TEST_F(ExecTest, RunsInTheInstancesNamespacesRootAndCgroups) {
  EXPECT_EQ(Run({"hostname"}), std::string(kInstanceId) + "\n");
  EXPECT_EQ(Run({"cat", "/etc/hostname"}), "minimal-linux\n") << "the guest's root";
  const std::string init = Run({"cat", "/proc/1/cmdline"});
  EXPECT_TRUE(init.starts_with("/sbin/tini")) << "the image's init, in its pid namespace: " << init;
  ASSERT_FALSE(target_.cgroup_dirs.empty()) << "this host has cgroups";
  EXPECT_NE(Run({"cat", "/proc/self/cgroup"}).find(std::string("/kiln/") + kInstanceId),
            std::string::npos);
  // From the host: a running command is in every one of the instance's cgroups.
  ExecOptions options;
  options.argv = {"sleep", "1000"};
  auto sleeper = Start(options);
  ASSERT_NE(sleeper, nullptr);
  for (const std::string& dir : target_.cgroup_dirs) {
    EXPECT_NE(FindInCgroup(dir, "sleep 1000"), 0) << dir;
  }
  EXPECT_NE(Run({"ps"}).find("sleep 1000"), std::string::npos) << "the instance's ps shows it";
}

TEST_F(ExecTest, StdinReachesTheCommandAndStdoutAndStderrAreSeparate) {
  auto out = ExecCapture(target_, {"sh", "-c", "cat; echo to-stderr >&2"}, "hello\nworld\n");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->out, "hello\nworld\n");
  EXPECT_EQ(out->err, "to-stderr\n");
  EXPECT_EQ(out->exit_code, 0);

  // Streaming: a line in, its echo out, then end of input ends `cat`.
  ExecOptions options;
  options.argv = {"cat"};
  auto cat = Start(options);
  ASSERT_NE(cat, nullptr);
  EXPECT_FALSE(cat->tty());
  ASSERT_EQ(write(cat->stdin_fd(), "ping\n", 5), 5);
  EXPECT_EQ(ReadUntil(cat->stdout_fd(), "ping\n"), "ping\n");
  cat->CloseStdin();
  EXPECT_EQ(cat->stdin_fd(), -1);
  EXPECT_EQ(ReadAll(cat->stdout_fd()), "");
  EXPECT_EQ(cat->Wait(10000).value(), 0);

  // Megabytes both ways do not deadlock; the output is kept to its first MiB.
  const std::string big(3 << 20, 'x');
  auto echoed = ExecCapture(target_, {"cat"}, big);
  ASSERT_TRUE(echoed.ok()) << echoed.status().ToString();
  EXPECT_EQ(echoed->out.size(), 1u << 20);
  EXPECT_EQ(echoed->exit_code, 0);
  EXPECT_EQ(Run({"wc", "-c"}, big), std::to_string(big.size()) + "\n");
}

// A later session's helper is forked while this one's pipes are open in kilnd; it must not
// keep them (the input's end would never reach `cat`).
TEST_F(ExecTest, AnotherSessionDoesNotHoldThisOnesStreams) {
  ExecOptions options;
  options.argv = {"cat"};
  auto cat = Start(options);
  ASSERT_NE(cat, nullptr);
  options.argv = {"sleep", "1000"};
  auto sleeper = Start(options);
  ASSERT_NE(sleeper, nullptr);
  cat->CloseStdin();
  EXPECT_EQ(ReadAll(cat->stdout_fd()), "");
  EXPECT_EQ(cat->Wait(10000).value(), 0);
}

TEST_F(ExecTest, ExitCodesAndSignalsPropagate) {
  EXPECT_EQ(ExecCapture(target_, {"sh", "-c", "exit 7"}).value().exit_code, 7);
  EXPECT_EQ(ExecCapture(target_, {"sh", "-c", "kill -TERM $$"}).value().exit_code, 128 + SIGTERM);
  ExecOptions options;
  options.argv = {"sleep", "1000"};
  auto sleeper = Start(options);
  ASSERT_NE(sleeper, nullptr);
  EXPECT_EQ(sleeper->Wait(0).status().code(), kDeadlineCode) << "still running";
  EXPECT_EQ(sleeper->Signal(0).code(), Code::kInvalidArgument);
  ASSERT_TRUE(sleeper->Signal(SIGKILL).ok());
  EXPECT_EQ(sleeper->Wait(10000).value(), 128 + SIGKILL);
  EXPECT_EQ(sleeper->Wait().value(), 128 + SIGKILL) << "and it stays so";
  EXPECT_EQ(sleeper->Signal(SIGTERM).code(), Code::kFailedPrecondition) << "it has ended";
}

TEST_F(ExecTest, EnvironmentAndWorkingDirectory) {
  ExecOptions options;
  options.argv = {"sh", "-c", "echo $FOO $HOME $TERM; pwd; echo $PATH"};
  options.env = {"FOO=bar", "HOME=/tmp"};
  options.cwd = "/tmp";
  auto sh = Start(options);
  ASSERT_NE(sh, nullptr);
  EXPECT_EQ(ReadAll(sh->stdout_fd()),
            "bar /tmp dumb\n/tmp\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n");
  EXPECT_EQ(sh->Wait(10000).value(), 0);
}

TEST_F(ExecTest, BadRequestsAreClearErrors) {
  EXPECT_EQ(ExecCapture(target_, {"no-such-program"}).status().code(), Code::kNotFound);
  EXPECT_EQ(ExecCapture(target_, {"/bin/no-such-program"}).status().code(), Code::kNotFound);
  EXPECT_EQ(ExecCapture(target_, {"/etc/hostname"}).status().code(), Code::kInvalidArgument)
      << "not executable";
  EXPECT_EQ(ExecCapture(target_, {}).status().code(), Code::kInvalidArgument);
  ExecOptions options;
  options.argv = {"true"};
  options.cwd = "/no/such/dir";
  EXPECT_EQ(Exec(target_, options).status().code(), Code::kInvalidArgument);
  options.cwd = "/";
  options.env = {"NOEQUALS"};
  EXPECT_EQ(Exec(target_, options).status().code(), Code::kInvalidArgument);
  options.env.clear();
  EXPECT_EQ(Exec(ExecTarget{}, options).status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(Exec(ExecTarget{getpid(), {}}, options).status().code(), Code::kFailedPrecondition)
      << "the host is not an instance";
  auto proc = Start(options);
  ASSERT_NE(proc, nullptr);
  EXPECT_EQ(proc->Resize(10, 10).code(), Code::kFailedPrecondition) << "no terminal";
  EXPECT_EQ(proc->Wait(10000).value(), 0);

  ASSERT_TRUE(container_->Stop(0).ok());
  EXPECT_EQ(Exec(target_, options).status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(Exec(container_->exec_target(), options).status().code(), Code::kFailedPrecondition);
}

TEST_F(ExecTest, TerminalSession) {
  ExecOptions options;
  options.argv = {"sh"};
  options.tty = true;
  options.rows = 30;
  options.cols = 90;
  auto sh = Start(options);
  ASSERT_NE(sh, nullptr);
  EXPECT_TRUE(sh->tty());
  EXPECT_EQ(sh->stdin_fd(), sh->stdout_fd());
  EXPECT_EQ(sh->stderr_fd(), -1);
  const int term = sh->stdin_fd();
  // The terminal echoes input, so each marker is computed: only the output has its value.
  const std::string line =
      "test -t 0 && echo is-a-tty; echo TERM=$TERM; stty size; echo marker-$((6*7))\n";
  ASSERT_EQ(write(term, line.data(), line.size()), static_cast<ssize_t>(line.size()));
  std::string text = ReadUntil(term, "marker-42");
  EXPECT_NE(text.find("is-a-tty"), std::string::npos) << text;
  EXPECT_NE(text.find("TERM=xterm-256color"), std::string::npos) << text;
  EXPECT_NE(text.find("30 90"), std::string::npos) << text;

  ASSERT_TRUE(sh->Resize(40, 100).ok());
  const std::string again = "stty size; echo marker-$((6*7+1))\n";
  ASSERT_EQ(write(term, again.data(), again.size()), static_cast<ssize_t>(again.size()));
  text = ReadUntil(term, "marker-43");
  EXPECT_NE(text.find("40 100"), std::string::npos) << text;

  const std::string leave = "exit 3\n";
  ASSERT_EQ(write(term, leave.data(), leave.size()), static_cast<ssize_t>(leave.size()));
  auto code = sh->Wait(10000);
  ASSERT_TRUE(code.ok()) << code.status().ToString() << ReadUntil(term, "never");
  EXPECT_EQ(*code, 3);

  // End of input (^D at the start of a line) ends a shell too, once it reads its input (the
  // line editor's raw mode would take a ^D sent earlier for a NUL).
  options.env = {"PS1=kiln-prompt> "};
  auto sh2 = Start(options);
  ASSERT_NE(sh2, nullptr);
  text = ReadUntil(sh2->stdout_fd(), "kiln-prompt> ");
  EXPECT_NE(text.find("kiln-prompt> "), std::string::npos) << text;
  sh2->CloseStdin();
  EXPECT_EQ(sh2->Wait(10000).value(), 0);
}

TEST_F(ExecTest, OnlyTheStandardStreamsReachTheCommand) {
  // kilnd's descriptors are CLOEXEC; the helper closes the rest too, whatever their flags.
  const int cloexec = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  const int inheritable = open("/proc/self/status", O_RDONLY);
  ASSERT_GE(cloexec, 0);
  ASSERT_GE(inheritable, 0);
  std::istringstream listing(Run({"ls", "/proc/self/fd"}));
  std::set<int> fds;
  for (int fd; listing >> fd;) fds.insert(fd);
  close(cloexec);
  close(inheritable);
  EXPECT_TRUE(fds.contains(0) && fds.contains(1) && fds.contains(2));
  for (int fd : fds) EXPECT_LE(fd, 3) << "only stdio and ls's own directory";
}

TEST_F(ExecTest, DestroyingAnExecLeavesNoProcess) {
  ExecOptions options;
  options.argv = {"sleep", "1000"};
  auto sleeper = Start(options);
  ASSERT_NE(sleeper, nullptr);
  ASSERT_FALSE(target_.cgroup_dirs.empty());
  const pid_t host_pid = FindInCgroup(target_.cgroup_dirs.front(), "sleep 1000");
  ASSERT_NE(host_pid, 0);
  sleeper.reset();
  EXPECT_NE(kill(host_pid, 0), 0) << "killed and reaped";
  EXPECT_EQ(Run({"ps"}).find("sleep 1000"), std::string::npos);

  // A capture past its deadline kills its command too.
  auto late = ExecCapture(target_, {"sleep", "1000"}, "", 300);
  EXPECT_EQ(late.status().code(), kDeadlineCode) << late.status().ToString();
  EXPECT_EQ(Run({"ps"}).find("sleep 1000"), std::string::npos);
}

TEST_F(ExecTest, StoppingTheInstanceEndsItsCommands) {
  ExecOptions options;
  options.argv = {"sleep", "1000"};
  auto sleeper = Start(options);
  ASSERT_NE(sleeper, nullptr);
  // The command's parent (the helper) is outside the instance, and reaps it as the instance's
  // pid namespace goes: the stop does not wait on this ExecProcess.
  ASSERT_TRUE(container_->Stop(0).ok());
  EXPECT_EQ(sleeper->Wait(10000).value(), 128 + SIGKILL);
}

}  // namespace
}  // namespace kiln
