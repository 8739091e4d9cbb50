#include "catalog/job_queue.h"

#include <gtest/gtest.h>

#include "catalog/catalog_testing.h"

namespace kiln {
namespace {

using catalog_testing::CatalogTest;

class JobQueueTest : public CatalogTest {
 protected:
  JobQueue jobs() { return catalog().jobs(); }
};

TEST_F(JobQueueTest, EnqueueStampsAndGets) {
  Result<Job> job = jobs().Enqueue("snapshot", "snap-0123456789abcdef0", R"({"volume":"v"})");
  ASSERT_OK(job);
  EXPECT_TRUE(job->job_id.starts_with("job-"));
  EXPECT_EQ(job->state, JobState::kQueued);
  EXPECT_EQ(job->attempts, 0);
  EXPECT_EQ(job->created_micros, clock_.WallMicros());
  EXPECT_EQ(jobs().Get(job->job_id).value(), *job);
  EXPECT_CODE(jobs().Get("job-00000000000000000"), kNotFound);
  EXPECT_CODE(jobs().Enqueue("", "x", "{}"), kInvalidArgument);
}

TEST_F(JobQueueTest, ClaimsOldestFirstAndOnlyOnce) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(jobs().Enqueue("hydrate", "vol", "{}")->job_id);
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(1000);
    Result<std::optional<Job>> claimed = jobs().ClaimNext();
    ASSERT_OK(claimed);
    ASSERT_TRUE(claimed->has_value());
    EXPECT_EQ((*claimed)->job_id, ids[i]);
    EXPECT_EQ((*claimed)->state, JobState::kRunning);
    EXPECT_EQ((*claimed)->attempts, 1);
    EXPECT_EQ((*claimed)->updated_micros, clock_.WallMicros());
  }
  Result<std::optional<Job>> none = jobs().ClaimNext();
  ASSERT_OK(none);
  EXPECT_FALSE(none->has_value());
}

TEST_F(JobQueueTest, ClaimByKind) {
  std::string snap = jobs().Enqueue("snapshot", "s", "{}")->job_id;
  std::string image = jobs().Enqueue("create-image", "a", "{}")->job_id;
  EXPECT_EQ(jobs().ClaimNext({"create-image", "hydrate"}).value()->job_id, image);
  EXPECT_FALSE(jobs().ClaimNext({"create-image"}).value().has_value());
  EXPECT_EQ(jobs().ClaimNext({}).value()->job_id, snap);
}

TEST_F(JobQueueTest, ClaimTakesThatJobOnce) {
  std::string first = jobs().Enqueue("snapshot", "s1", "{}")->job_id;
  std::string second = jobs().Enqueue("snapshot", "s2", "{}")->job_id;
  ASSERT_OK(jobs().Claim(second));
  Job got = jobs().Get(second).value();
  EXPECT_EQ(got.state, JobState::kRunning);
  EXPECT_EQ(got.attempts, 1);
  EXPECT_EQ(jobs().Get(first)->state, JobState::kQueued) << "the older one is untouched";
  EXPECT_CODE(jobs().Claim(second), kFailedPrecondition);
  EXPECT_CODE(jobs().Claim("job-00000000000000000"), kNotFound);
}

TEST_F(JobQueueTest, LifeCycleMovesAreCompareAndSet) {
  std::string id = jobs().Enqueue("snapshot", "s", "{}")->job_id;
  EXPECT_CODE(jobs().Finish(id), kFailedPrecondition);  // queued, not running
  EXPECT_CODE(jobs().SetPayload(id, "{}"), kFailedPrecondition);
  ASSERT_TRUE(jobs().ClaimNext().value().has_value());
  ASSERT_OK(jobs().SetPayload(id, R"({"done_blocks":12})"));
  EXPECT_EQ(jobs().Get(id)->payload, R"({"done_blocks":12})");
  ASSERT_OK(jobs().Finish(id));
  EXPECT_EQ(jobs().Get(id)->state, JobState::kDone);
  Status twice = jobs().Finish(id);
  EXPECT_EQ(twice.code(), Code::kFailedPrecondition);
  EXPECT_NE(twice.message().find("is done, not running"), std::string::npos) << twice.ToString();
  EXPECT_CODE(jobs().Fail(id, "late"), kFailedPrecondition);
  EXPECT_CODE(jobs().Abandon(id, "late"), kFailedPrecondition);
  EXPECT_CODE(jobs().Finish("job-00000000000000000"), kNotFound);
}

TEST_F(JobQueueTest, FailKeepsTheReason) {
  std::string id = jobs().Enqueue("create-image", "ami", "{}")->job_id;
  ASSERT_TRUE(jobs().ClaimNext().value().has_value());
  ASSERT_OK(jobs().Fail(id, "instance vanished"));
  Result<Job> job = jobs().Get(id);
  EXPECT_EQ(job->state, JobState::kFailed);
  EXPECT_EQ(job->error, "instance vanished");
}

TEST_F(JobQueueTest, RestartRecoveryRequeuesOrAbandonsUnfinishedJobs) {
  std::string done = jobs().Enqueue("snapshot", "a", "{}")->job_id;
  std::string interrupted = jobs().Enqueue("snapshot", "b", "{}")->job_id;
  std::string abandoned = jobs().Enqueue("hydrate", "c", "{}")->job_id;
  std::string waiting = jobs().Enqueue("snapshot", "d", "{}")->job_id;
  ASSERT_EQ(jobs().ClaimNext().value()->job_id, done);
  ASSERT_OK(jobs().Finish(done));
  ASSERT_EQ(jobs().ClaimNext().value()->job_id, interrupted);
  ASSERT_EQ(jobs().ClaimNext().value()->job_id, abandoned);

  Reopen();  // as after kill -9: the claims are durable
  Result<std::vector<Job>> unfinished = jobs().ListUnfinished();
  ASSERT_OK(unfinished);
  ASSERT_EQ(unfinished->size(), 3u);
  EXPECT_EQ((*unfinished)[0].job_id, interrupted);
  EXPECT_EQ((*unfinished)[0].state, JobState::kRunning);
  EXPECT_EQ((*unfinished)[1].job_id, abandoned);
  EXPECT_EQ((*unfinished)[2].job_id, waiting);
  EXPECT_EQ((*unfinished)[2].state, JobState::kQueued);

  ASSERT_OK(jobs().Requeue(interrupted));
  ASSERT_OK(jobs().Abandon(abandoned, "kilnd restarted"));
  ASSERT_OK(jobs().Abandon(waiting, "cancelled"));  // queued can be abandoned too
  EXPECT_CODE(jobs().Requeue(interrupted), kFailedPrecondition);
  Result<std::optional<Job>> again = jobs().ClaimNext();
  ASSERT_EQ(again.value()->job_id, interrupted);
  EXPECT_EQ(again.value()->attempts, 2);
  EXPECT_EQ(jobs().Get(abandoned)->error, "kilnd restarted");
  EXPECT_EQ(jobs().ListForResource("b").value().size(), 1u);
  EXPECT_EQ(jobs().ListUnfinished().value().size(), 1u);
}

}  // namespace
}  // namespace kiln
