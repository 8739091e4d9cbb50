// Crash test: a forked child writes transactions in a loop, each inserting and updating several
// related rows; the parent kills it with SIGKILL at random moments, reopens the file and checks
// that it is intact and that every transaction is all-or-nothing, and that every transaction
// the child saw commit is there.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <random>

#include "catalog/catalog.h"
#include "catalog/catalog_testing.h"

namespace kiln {
namespace {

using catalog_testing::CatalogTest;
using catalog_testing::kOwner;
using catalog_testing::MakeImage;
using catalog_testing::MakeSnapshot;

constexpr int kMappings = 3;
constexpr int kTags = 2;
constexpr int kRounds = 6;
constexpr int kRules = 2;

// The link's security group (named as its image, with kRules rules) in the owner's default VPC,
// made by the first link.
Status WriteGroup(Transaction& tx, const std::string& name) {
  Result<Vpc> vpc = tx.vpcs().FindDefaultVpc(kOwner);
  if (vpc.status().code() == Code::kNotFound) {
    vpc = Vpc{.vpc_id = catalog_testing::Id("vpc"),
              .owner_id = kOwner,
              .cidr_block = "172.31.0.0/16",
              .is_default = true,
              .state = "available"};
    RETURN_IF_ERROR(tx.vpcs().InsertVpc(*vpc));
  }
  RETURN_IF_ERROR(vpc.status());
  SecurityGroup group{.group_id = catalog_testing::Id("sg"),
                      .owner_id = kOwner,
                      .vpc_id = vpc->vpc_id,
                      .group_name = name};
  for (int r = 0; r < kRules; ++r) {
    group.rules.push_back({.rule_id = catalog_testing::Id("sgr"),
                           .ip_protocol = "tcp",
                           .from_port = r,
                           .to_port = r,
                           .cidr_ipv4 = "0.0.0.0/0"});
  }
  return tx.security_groups().Insert(group);
}

// One transaction of the chain: a new pending image with kMappings new pending snapshots, its
// tags, its queued job and a security group; and the previous image, its snapshots and its job
// completed.
Status WriteLink(Catalog& catalog, const std::string& name, std::string& prev_image) {
  ASSIGN_OR_RETURN(Transaction tx, catalog.Begin());
  RETURN_IF_ERROR(WriteGroup(tx, name));
  Image image = MakeImage(name);
  for (int m = 0; m < kMappings; ++m) {
    Snapshot snap = MakeSnapshot();
    RETURN_IF_ERROR(tx.snapshots().Insert(snap));
    image.block_device_mappings.push_back(
        {.device_name = "/dev/sd" + std::string(1, static_cast<char>('f' + m)),
         .snapshot_id = snap.snapshot_id});
  }
  RETURN_IF_ERROR(tx.images().Insert(image));
  RETURN_IF_ERROR(tx.tags().Set(image.image_id, {{"", "Name", name}, {"", "Round", "x"}}));
  RETURN_IF_ERROR(tx.jobs().Enqueue("create-image", image.image_id, "{}").status());
  if (!prev_image.empty()) {
    ASSIGN_OR_RETURN(Image prev, tx.images().Get(prev_image));
    for (const BlockDeviceMapping& m : prev.block_device_mappings) {
      RETURN_IF_ERROR(tx.snapshots().UpdateState(m.snapshot_id, SnapshotState::kPending,
                                                 SnapshotState::kCompleted));
    }
    ASSIGN_OR_RETURN(std::optional<Job> job, tx.jobs().ClaimNext());
    if (!job || job->resource_id != prev_image) return InternalError("claimed the wrong job");
    RETURN_IF_ERROR(tx.jobs().Finish(job->job_id));
    RETURN_IF_ERROR(
        tx.images().UpdateState(prev_image, ImageState::kPending, ImageState::kAvailable));
  }
  RETURN_IF_ERROR(tx.Commit());
  prev_image = image.image_id;
  return Status::Ok();
}

// The child: continues the chain from what the file holds, acknowledging each commit with one
// byte on `ack_fd`, until killed.
[[noreturn]] void ChildLoop(const std::string& path, int round, int ack_fd) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  ManualClock clock;
  Result<std::unique_ptr<Catalog>> catalog = Catalog::Open(path, clock);
  if (!catalog.ok()) {
    std::fprintf(stderr, "child: %s\n", catalog.status().ToString().c_str());
    _exit(2);
  }
  std::string prev;
  std::vector<Image> images = (*catalog)->images().List({}).value();
  for (const Image& image : images) {
    if (image.state == ImageState::kPending) prev = image.image_id;
  }
  for (int i = 0; i < 1'000'000; ++i) {
    std::string name = "r" + std::to_string(round) + "-" + std::to_string(i);
    Status s = WriteLink(**catalog, name, prev);
    if (!s.ok()) {
      std::fprintf(stderr, "child: %s\n", s.ToString().c_str());
      _exit(3);
    }
    if (write(ack_fd, "x", 1) != 1) _exit(4);
  }
  _exit(0);
}

// Reads one byte, waiting at most 60 s (a child that died early must not hang the test).
bool ReadAck(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, 60'000) != 1) return false;
  char c;
  return read(fd, &c, 1) == 1;
}

// Runs a child, kills it after `acks_before_kill` acknowledged commits plus a random delay,
// and returns how many commits it acknowledged in all.
int RunAndKill(const std::string& path, int round, int acks_before_kill, int spin_micros) {
  int fds[2];
  EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    ChildLoop(path, round, fds[1]);
  }
  close(fds[1]);
  int acks = 0;
  while (acks < acks_before_kill && ReadAck(fds[0])) ++acks;
  EXPECT_EQ(acks, acks_before_kill) << "the child stopped acknowledging";
  // Spin (no sleep): the kill lands at a random point of a later transaction.
  auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(spin_micros);
  while (std::chrono::steady_clock::now() < until) {
  }
  kill(pid, SIGKILL);
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;
  char buf[256];
  for (ssize_t n; (n = read(fds[0], buf, sizeof(buf))) > 0;) acks += static_cast<int>(n);
  close(fds[0]);
  return acks;
}

// Checks every image's transaction happened whole; returns the number of images.
void CheckChain(Catalog& catalog, size_t* image_count) {
  ASSERT_OK(catalog.CheckIntegrity());
  Result<std::vector<Image>> images = catalog.images().List({});
  ASSERT_OK(images);
  int pending = 0;
  for (const Image& image : *images) {
    bool done = image.state == ImageState::kAvailable;
    if (!done) {
      ASSERT_EQ(image.state, ImageState::kPending);
      ++pending;
    }
    ASSERT_EQ(image.block_device_mappings.size(), size_t{kMappings}) << image.image_id;
    for (const BlockDeviceMapping& m : image.block_device_mappings) {
      Result<Snapshot> snap = catalog.snapshots().Get(m.snapshot_id);
      ASSERT_OK(snap);
      EXPECT_EQ(snap->state, done ? SnapshotState::kCompleted : SnapshotState::kPending);
    }
    EXPECT_EQ(catalog.tags().List(image.image_id)->size(), size_t{kTags}) << image.image_id;
    Result<std::vector<Job>> jobs = catalog.jobs().ListForResource(image.image_id);
    ASSERT_OK(jobs);
    ASSERT_EQ(jobs->size(), 1u) << image.image_id;
    EXPECT_EQ((*jobs)[0].state, done ? JobState::kDone : JobState::kQueued);
  }
  EXPECT_EQ(pending, images->empty() ? 0 : 1);
  EXPECT_EQ(catalog.snapshots().List({})->size(), images->size() * kMappings);
  Result<std::vector<SecurityGroup>> groups = catalog.security_groups().List({});
  ASSERT_OK(groups);
  ASSERT_EQ(groups->size(), images->size());
  for (const SecurityGroup& g : *groups) {
    EXPECT_EQ(g.rules.size(), size_t{kRules}) << g.group_id;
    EXPECT_OK(catalog.images().FindByName(kOwner, g.group_name));
  }
  *image_count = images->size();
}

using CatalogCrashTest = CatalogTest;

TEST_F(CatalogCrashTest, KilledWritersLeaveWholeTransactions) {
  catalog_.reset();  // the child opens its own connection; none is shared across fork
  std::mt19937 rng(std::random_device{}());
  size_t images = 0;
  for (int round = 0; round < kRounds; ++round) {
    int kill_after = std::uniform_int_distribution<int>(1, 40)(rng);
    int spin = std::uniform_int_distribution<int>(0, 3000)(rng);
    int acks = RunAndKill(path_, round, kill_after, spin);
    Reopen();
    size_t now = 0;
    CheckChain(catalog(), &now);
    if (HasFatalFailure()) return;
    // Every acknowledged commit is there; at most one more committed before its ack.
    EXPECT_GE(now, images + acks) << "round " << round;
    EXPECT_LE(now, images + acks + 1) << "round " << round;
    images = now;
    catalog_.reset();
  }
  EXPECT_GT(images, size_t{kRounds});
  Reopen();
  EXPECT_EQ(catalog().accounts().Get(kOwner)->account_id, kOwner);
}

}  // namespace
}  // namespace kiln
