// An instance-store root (an instance-store-backed image's instance) on the real kernel: the
// root disk is a local sparse file filled from its source when it is made, kept across reboot
// with what the guest wrote, dropped at stop (a start makes and fills it again) and at
// terminate, with nothing left on the host. Needs root, /dev/fuse and loop devices (a failure
// under CI=true, a skip elsewhere).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "env/env_testing.h"
#include "env/subprocess.h"
#include "fuse/fuse_testing.h"
#include "runtime/container_runtime.h"
#include "runtime/runtime_testing.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

constexpr char kId[] = "i-0123456789abcdef2";
constexpr uint64_t kImageBytes = 128 << 20;
constexpr uint64_t kBlock = 512 << 10;

using runtime_testing::Count;
using runtime_testing::ReadAll;

#define ASSERT_OK(expr)                    \
  if (const Status s_ = (expr); s_.ok()) { \
  } else                                   \
    FAIL() << #expr << ": " << s_.ToString()

// Copies the non-zero 512 KiB blocks of `from` into `to` (as the control plane copies an
// image's root snapshot, whose zero blocks are absent).
Status SparseCopy(const std::string& from, const std::string& to) {
  const int in = open(from.c_str(), O_RDONLY | O_CLOEXEC);
  const int out = open(to.c_str(), O_WRONLY | O_CLOEXEC);
  Status s = in < 0 || out < 0 ? IoError("opening " + from + " or " + to) : Status::Ok();
  std::string buf(kBlock, '\0');
  for (off_t at = 0; s.ok(); at += static_cast<off_t>(kBlock)) {
    const ssize_t n = pread(in, buf.data(), kBlock, at);
    if (n <= 0) break;
    if (std::all_of(buf.begin(), buf.begin() + n, [](char c) { return c == 0; })) continue;
    if (pwrite(out, buf.data(), static_cast<size_t>(n), at) != n) s = IoError("writing " + to);
  }
  if (in >= 0) close(in);
  if (out >= 0) close(out);
  return s;
}

// Allocated bytes of a file (sparse files use less than their size).
uint64_t Allocated(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_blocks) * 512 : 0;
}

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

class InstanceStoreRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    KILN_REQUIRE_HOST_FEATURES();
    image_ = dir_.path() + "/base.ext4";
    ASSERT_TRUE(
        RunChecked({KILN_MAKE_BASE_IMAGE, image_, std::to_string(kImageBytes >> 20) + "M"}).ok());
    state_dir_ = fs::weakly_canonical(dir_.path() + "/state").string();
    ContainerRuntimeOptions options;
    options.state_dir = state_dir_;
    options.stop_grace_ms = 5000;
    auto rt = ContainerRuntime::Open(options);
    ASSERT_TRUE(rt.ok()) << rt.status().ToString();
    runtime_ = std::move(rt).value();
  }
  void TearDown() override { runtime_.reset(); }

  // The root at /dev/xvda is an instance-store disk of `bytes` filled from the base image, and
  // /dev/sdb an empty one.
  InstanceConfig Config(uint64_t bytes, const std::string& user_data = "") {
    InstanceConfig c;
    c.instance_id = kId;
    InstanceStoreDisk root{.device = "/dev/xvda", .size_bytes = bytes};
    root.source = [this](const std::string& path) {
      ++fills_;
      filled_path_ = path;
      return SparseCopy(image_, path);
    };
    c.instance_store = {{.device = "/dev/sdb", .size_bytes = 16 << 20}, root};
    c.user_data = user_data;
    return c;
  }
  std::string Out(const std::string& script) {
    ExecOptions o;
    o.argv = {"sh", "-c", "exec 2>&1\n" + script};
    auto p = runtime_->Exec(kId, o);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    if (!p.ok()) return "";
    (*p)->CloseStdin();
    std::string out = ReadAll((*p)->stdout_fd());
    auto code = (*p)->Wait(60000);
    EXPECT_TRUE(code.ok() && *code == 0) << script << ": " << out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  bool ConsoleShows(const std::string& text, int times = 1) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      auto log = runtime_->ConsoleOutput(kId);
      if (log.ok() && Count(*log, text) >= times) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  void ExpectHostClean() {
    EXPECT_EQ(LoopsUnder(state_dir_), 0) << "loop devices left";
    std::error_code ec;
    EXPECT_FALSE(fs::exists(state_dir_ + "/instances/" + kId + "/store/xvda", ec));
    EXPECT_FALSE(fs::exists(state_dir_ + "/instances/" + kId + "/store/sdb", ec));
  }

  env_testing::TempDir dir_{"kiln_istore"};
  std::string image_, state_dir_;
  std::unique_ptr<ContainerRuntime> runtime_;
  int fills_ = 0;
  std::string filled_path_;
};

constexpr char kUserData[] = R"UD(#!/bin/sh
echo "user-data: ran on $(hostname)"
echo from-user-data > /root/marker
sync
)UD";

TEST_F(InstanceStoreRootTest, RootFilledFromSourceKeptAcrossRebootDroppedAtStopAndTerminate) {
  // Larger than the image: the root file system grows to the disk at boot, as an EBS root does.
  const uint64_t disk = kImageBytes + (64 << 20);
  ASSERT_OK(runtime_->Register(Config(disk, kUserData)));
  EXPECT_EQ(fills_, 0) << "filled when made, at start";
  ASSERT_OK(runtime_->Start(kId));
  EXPECT_EQ(fills_, 1);
  EXPECT_EQ(filled_path_, state_dir_ + "/instances/" + kId + "/store/xvda");
  EXPECT_EQ(fs::file_size(filled_path_), disk);
  EXPECT_LT(Allocated(filled_path_), disk / 2) << "zero blocks are not written";
  ASSERT_TRUE(ConsoleShows(std::string("user-data: ran on ") + kId));
  EXPECT_EQ(Out("cat /root/marker"), "from-user-data");
  auto status = runtime_->Describe(kId);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->devices, (std::vector<std::string>{"/dev/xvda", "/dev/sdb", "/dev/xvdb"}));
  // / is the file system on /dev/xvda (same device number), grown to the disk.
  EXPECT_EQ(Out("awk '$5 == \"/\" {print $3}' /proc/self/mountinfo"),
            Out("set -- $(stat -c '%t %T' /dev/xvda); echo $((0x$1)):$((0x$2))"));
  const uint64_t root_kb = std::stoull(Out("df -k / | awk 'NR == 2 {print $2}'"));
  EXPECT_GT(root_kb * 1024, kImageBytes) << "root file system not grown";

  // Reboot: the same disk, with what the guest wrote; not filled again.
  Out("echo kept > /root/written; sync");
  ASSERT_OK(runtime_->Reboot(kId));
  ASSERT_TRUE(ConsoleShows("minimal-linux: up", 2));
  EXPECT_EQ(fills_, 1);
  EXPECT_EQ(Out("cat /root/written /root/marker"), "kept\nfrom-user-data");

  // Stop: the disk is gone from the host. Start: a fresh copy of the source, without what the
  // guest wrote; the user data does not run again (the first-boot record is the runtime's).
  ASSERT_OK(runtime_->Stop(kId));
  ExpectHostClean();
  ASSERT_OK(runtime_->Start(kId));
  EXPECT_EQ(fills_, 2);
  ASSERT_TRUE(ConsoleShows("minimal-linux: up", 3));
  EXPECT_EQ(Out("ls /root/written /root/marker 2>/dev/null | wc -l"), "0");
  EXPECT_EQ(Count(runtime_->ConsoleOutput(kId).value(), "user-data: ran"), 1);

  ASSERT_OK(runtime_->Terminate(kId));
  ExpectHostClean();
  EXPECT_FALSE(fs::exists(state_dir_ + "/instances/" + kId));
}

TEST_F(InstanceStoreRootTest, SourceErrorFailsTheStartAndLeavesNothing) {
  InstanceConfig c = Config(kImageBytes);
  c.instance_store[1].source = [](const std::string& path) {
    std::ofstream(path, std::ios::in | std::ios::out) << "partial";
    return IoError("the snapshot is gone");
  };
  ASSERT_OK(runtime_->Register(c));
  Status s = runtime_->Start(kId);
  EXPECT_EQ(s.code(), Code::kIoError) << s.ToString();
  EXPECT_NE(s.message().find("the snapshot is gone"), std::string::npos) << s.ToString();
  EXPECT_FALSE(runtime_->Describe(kId)->running);
  ExpectHostClean();
  ASSERT_OK(runtime_->Terminate(kId));
}

TEST_F(InstanceStoreRootTest, ExactlyOneRootDisk) {
  InstanceConfig none = Config(kImageBytes);
  none.instance_store.pop_back();
  Status s = runtime_->Register(none);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("no volume at /dev/xvda"), std::string::npos) << s.ToString();
  InstanceConfig two = Config(kImageBytes);
  two.volumes = {{"/dev/xvda", "vol-0123456789abcdef0", nullptr}};
  s = runtime_->Register(two);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("two root disks"), std::string::npos) << s.ToString();
  EXPECT_EQ(runtime_->Describe(kId).status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace kiln
