#include "catalog/records.h"

#include <gtest/gtest.h>

#include "catalog/catalog_testing.h"

namespace kiln {
namespace {

template <typename E, typename ParseFn>
void ExpectRoundTrip(std::initializer_list<E> all, ParseFn parse) {
  for (E e : all) {
    Result<E> parsed = parse(ToString(e));
    ASSERT_OK(parsed);
    EXPECT_EQ(*parsed, e) << ToString(e);
  }
  EXPECT_CODE(parse("Pending"), kInvalidArgument);  // case-sensitive, as EC2
  EXPECT_CODE(parse(""), kInvalidArgument);
}

TEST(RecordsTest, StatesSpellAsEc2AndParseBack) {
  EXPECT_EQ(ToString(VolumeState::kInUse), "in-use");
  EXPECT_EQ(ToString(InstanceState::kShuttingDown), "shutting-down");
  EXPECT_EQ(ToString(ImageState::kDeregistered), "deregistered");
  EXPECT_EQ(ToString(SnapshotState::kCompleted), "completed");
  EXPECT_EQ(ToString(AttachmentState::kDetaching), "detaching");
  EXPECT_EQ(ToString(JobState::kQueued), "queued");
  ExpectRoundTrip({ImageState::kPending, ImageState::kAvailable, ImageState::kFailed,
                   ImageState::kDeregistered},
                  ParseImageState);
  ExpectRoundTrip({SnapshotState::kPending, SnapshotState::kCompleted, SnapshotState::kError},
                  ParseSnapshotState);
  ExpectRoundTrip({VolumeState::kCreating, VolumeState::kAvailable, VolumeState::kInUse,
                   VolumeState::kDeleting, VolumeState::kDeleted, VolumeState::kError},
                  ParseVolumeState);
  ExpectRoundTrip({AttachmentState::kAttaching, AttachmentState::kAttached,
                   AttachmentState::kDetaching, AttachmentState::kDetached},
                  ParseAttachmentState);
  ExpectRoundTrip({InstanceState::kPending, InstanceState::kRunning, InstanceState::kShuttingDown,
                   InstanceState::kTerminated, InstanceState::kStopping, InstanceState::kStopped},
                  ParseInstanceState);
  ExpectRoundTrip({JobState::kQueued, JobState::kRunning, JobState::kDone, JobState::kFailed},
                  ParseJobState);
}

TEST(RecordsTest, InstanceStateCodesAreEc2s) {
  EXPECT_EQ(InstanceStateCode(InstanceState::kPending), 0);
  EXPECT_EQ(InstanceStateCode(InstanceState::kRunning), 16);
  EXPECT_EQ(InstanceStateCode(InstanceState::kShuttingDown), 32);
  EXPECT_EQ(InstanceStateCode(InstanceState::kTerminated), 48);
  EXPECT_EQ(InstanceStateCode(InstanceState::kStopping), 64);
  EXPECT_EQ(InstanceStateCode(InstanceState::kStopped), 80);
}

TEST(RecordsTest, TimestampsAreIso8601WithMillisecondsInUtc) {
  EXPECT_EQ(Ec2Timestamp(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(Ec2Timestamp(1'700'000'000'123'456), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(Ec2Timestamp(951'782'400'999'999), "2000-02-29T00:00:00.999Z");
  EXPECT_LT(Ec2Timestamp(1'700'000'000'000'000), Ec2Timestamp(1'700'000'000'001'000));
}

}  // namespace
}  // namespace kiln
