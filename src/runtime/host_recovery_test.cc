// Host recovery without the kernel features of the runtime: the /proc/<pid>/stat parser, the
// init.pid record, and the rule that only a process that is still the recorded init (same pid,
// same start time) is killed.
#include "runtime/host_recovery.h"

#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "env/env_testing.h"
#include "fuse/fuse_testing.h"

namespace kiln {
namespace {

// A /proc/<pid>/stat line with `comm` and start time 4242 in field 22.
std::string StatLine(const std::string& comm) {
  std::string line = "123 (" + comm + ") S";
  for (int field = 4; field < 22; ++field) line += " " + std::to_string(field);
  return line + " 4242 8 9 10\n";
}

TEST(ParseStartTimeTest, CountsFieldsAfterTheLastParenthesis) {
  EXPECT_EQ(ParseStartTime(StatLine("init")).value(), 4242u);
  // A command name may hold spaces and parentheses.
  EXPECT_EQ(ParseStartTime(StatLine("a) (b c")).value(), 4242u);
  EXPECT_EQ(ParseStartTime(StatLine("")).value(), 4242u);
}

TEST(ParseStartTimeTest, BadInputIsInvalidArgument) {
  std::string not_a_number = "1 (x) S";
  for (int field = 4; field < 22; ++field) not_a_number += " 1";
  not_a_number += " notanumber";
  for (const std::string& bad :
       {std::string(""), std::string("123 init S 1 2 3"), std::string("123 (init) S 1 2"),
        std::string("123 (init)"), StatLine("x").substr(0, StatLine("x").find("4242")),
        not_a_number, std::string("\0\0\0)", 4)}) {
    EXPECT_EQ(ParseStartTime(bad).status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(ProcessStartTimeTest, OwnProcessAndMissingProcess) {
  auto mine = ProcessStartTime(getpid());
  ASSERT_TRUE(mine.ok()) << mine.status().ToString();
  EXPECT_GT(*mine, 0u);
  EXPECT_EQ(ProcessStartTime(0x3fffffff).status().code(), Code::kNotFound);
}

class RecoverHostTest : public ::testing::Test {
 protected:
  std::string InstanceDir(const std::string& id) {
    const std::string dir = dir_.path() + "/instances/" + id;
    std::filesystem::create_directories(dir);
    return dir;
  }
  env_testing::TempDir dir_{"kiln_recovery"};
};

TEST_F(RecoverHostTest, EmptyOrMissingStateIsNothingToDo) {
  auto report = RecoverHost(dir_.path() + "/none");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->killed_instances.empty());
  report = RecoverHost(dir_.path());
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->detached_fuse_mount);
  EXPECT_EQ(report->unbound_loop_devices, 0);
}

TEST_F(RecoverHostTest, KillsARecordedInitThatStillRuns) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    pause();
    _exit(0);
  }
  const std::string dir = InstanceDir("i-0000000000000000a");
  ASSERT_TRUE(WriteInitPid(dir, child).ok());
  std::filesystem::create_directories(dir + "/store");
  std::ofstream(dir + "/store/sdb") << "instance store";
  auto report = RecoverHost(dir_.path());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->killed_instances, std::vector<std::string>{"i-0000000000000000a"});
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_FALSE(std::filesystem::exists(dir + "/init.pid"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/store")) << "instance-store disks are lost";
  EXPECT_TRUE(std::filesystem::exists(dir)) << "the console log and first-boot record stay";
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Waits (bounded) until `pid` exits; its status, or -1 on timeout.
int WaitExit(pid_t pid, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return status;
    usleep(10 * 1000);
  }
  return -1;
}

// A kilnd killed while one of its own threads was stuck in its FUSE mount leaves a connection
// nobody serves but that the stuck process keeps open: every request to it waits forever, and
// a lazy unmount alone does not release them. Recovery must abort it.
TEST_F(RecoverHostTest, AbortsADeadFuseConnectionSoItsWaitersGetAnError) {
  KILN_REQUIRE_HOST_FEATURES();
  const std::string mnt = dir_.path() + "/volumes";
  std::filesystem::create_directories(mnt);
  // The "dead server": a /dev/fuse descriptor this test holds and never reads.
  const int fuse_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
  ASSERT_GE(fuse_fd, 0) << strerror(errno);
  const std::string opts = "fd=" + std::to_string(fuse_fd) + ",rootmode=40000,user_id=0,group_id=0";
  ASSERT_EQ(mount("kiln-test", mnt.c_str(), "fuse.kiln-test", MS_NOSUID | MS_NODEV, opts.c_str()),
            0)
      << strerror(errno);
  const pid_t waiter = fork();
  ASSERT_GE(waiter, 0);
  if (waiter == 0) {
    struct stat st;
    const int r = stat((mnt + "/volume").c_str(), &st);
    _exit(r == 0 ? 0 : errno == ENOTCONN ? 42 : 1);
  }
  // Until the waiter is blocked in the FUSE request.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Slurp("/proc/" + std::to_string(waiter) + "/wchan").rfind("fuse", 0) != 0 &&
         std::chrono::steady_clock::now() < deadline) {
    usleep(10 * 1000);
  }
  auto report = RecoverHost(dir_.path());
  const int status = WaitExit(waiter, std::chrono::seconds(10));
  if (status == -1) {  // leave nothing stuck behind, then fail
    kill(waiter, SIGKILL);
    umount2(mnt.c_str(), MNT_DETACH);
    close(fuse_fd);
    waitpid(waiter, nullptr, 0);
    FAIL() << "a request to the dead FUSE mount still waits after recovery";
  }
  close(fuse_fd);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->detached_fuse_mount);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 42) << "status " << status;
  EXPECT_EQ(Slurp("/proc/self/mountinfo").find(" " + mnt + " "), std::string::npos);
}

TEST_F(RecoverHostTest, NeverKillsARecycledOrBogusPid) {
  // Our own pid with another start time: a pid the kernel has given to another process.
  const std::string dir = InstanceDir("i-0000000000000000b");
  const uint64_t start = ProcessStartTime(getpid()).value();
  std::ofstream(dir + "/init.pid") << getpid() << " " << start + 1 << "\n";
  for (const char* torn : {"", "12", "garbage here", "1 0", "-5 7"}) {
    const std::string other = InstanceDir("i-0000000000000000c");
    std::ofstream(other + "/init.pid") << torn;
    auto report = RecoverHost(dir_.path());
    ASSERT_TRUE(report.ok()) << torn << ": " << report.status().ToString();
    EXPECT_TRUE(report->killed_instances.empty()) << torn;
  }
  EXPECT_EQ(kill(getpid(), 0), 0) << "still alive";
}

}  // namespace
}  // namespace kiln
