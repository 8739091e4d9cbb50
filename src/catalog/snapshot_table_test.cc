#include "catalog/snapshot_table.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "catalog/catalog_testing.h"

namespace kiln {
namespace {

using catalog_testing::CatalogTest;
using catalog_testing::kOther;
using catalog_testing::kOwner;
using catalog_testing::MakeImage;
using catalog_testing::MakeSnapshot;

class SnapshotTableTest : public CatalogTest {
 protected:
  SnapshotTable snapshots() { return catalog().snapshots(); }
};

TEST_F(SnapshotTableTest, InsertAndGetRoundTripEveryField) {
  Snapshot snap = MakeSnapshot();
  snap.state = SnapshotState::kError;
  snap.progress = 37;
  snap.encrypted = true;
  snap.kms_key_id = "arn:aws:kms:us-east-1:111122223333:key/k";
  snap.state_message = "disk on fire";
  ASSERT_OK(snapshots().Insert(snap));
  EXPECT_EQ(snapshots().Get(snap.snapshot_id).value(), snap);
  EXPECT_CODE(snapshots().Insert(snap), kAlreadyExists);
  EXPECT_CODE(snapshots().Get("snap-00000000000000000"), kNotFound);
}

TEST_F(SnapshotTableTest, MalformedSnapshotsAreRefused) {
  Snapshot bad = MakeSnapshot();
  bad.snapshot_id = "vol-00000000000000000";
  EXPECT_CODE(snapshots().Insert(bad), kInvalidArgument);
  Snapshot progress = MakeSnapshot();
  progress.progress = 101;
  EXPECT_CODE(snapshots().Insert(progress), kInvalidArgument);
  EXPECT_CODE(snapshots().Insert(MakeSnapshot("999999999999")), kFailedPrecondition);
}

TEST_F(SnapshotTableTest, ProgressAndStateMoves) {
  Snapshot snap = MakeSnapshot();
  ASSERT_OK(snapshots().Insert(snap));
  ASSERT_OK(snapshots().SetProgress(snap.snapshot_id, 40));
  EXPECT_EQ(snapshots().Get(snap.snapshot_id)->progress, 40);
  EXPECT_CODE(snapshots().SetProgress(snap.snapshot_id, -1), kInvalidArgument);
  ASSERT_OK(snapshots().UpdateState(snap.snapshot_id, SnapshotState::kPending,
                                    SnapshotState::kCompleted));
  Result<Snapshot> done = snapshots().Get(snap.snapshot_id);
  EXPECT_EQ(done->state, SnapshotState::kCompleted);
  EXPECT_EQ(done->progress, 100);
  // Completed: no more progress, and the CAS refuses a stale move.
  EXPECT_CODE(snapshots().SetProgress(snap.snapshot_id, 50), kFailedPrecondition);
  EXPECT_CODE(snapshots().UpdateState(snap.snapshot_id, SnapshotState::kPending,
                                      SnapshotState::kError, "late"),
              kFailedPrecondition);
  ASSERT_OK(snapshots().SetStorageKey(snap.snapshot_id, "engine-7"));
  EXPECT_EQ(snapshots().Get(snap.snapshot_id)->storage_key, "engine-7");
  EXPECT_CODE(snapshots().SetStorageKey("snap-00000000000000000", "x"), kNotFound);
  EXPECT_CODE(snapshots().SetProgress("snap-00000000000000000", 1), kNotFound);
}

TEST_F(SnapshotTableTest, ErrorKeepsItsMessage) {
  Snapshot snap = MakeSnapshot();
  ASSERT_OK(snapshots().Insert(snap));
  ASSERT_OK(snapshots().UpdateState(snap.snapshot_id, SnapshotState::kPending,
                                    SnapshotState::kError, "volume lost"));
  EXPECT_EQ(snapshots().Get(snap.snapshot_id)->state_message, "volume lost");
}

TEST_F(SnapshotTableTest, InUseByALiveImageCannotBeDeleted) {
  Snapshot snap = MakeSnapshot();
  ASSERT_OK(snapshots().Insert(snap));
  Image image = MakeImage("uses");
  image.block_device_mappings = {{.device_name = "/dev/xvda", .snapshot_id = snap.snapshot_id}};
  ASSERT_OK(catalog().images().Insert(image));
  Status in_use = snapshots().Delete(snap.snapshot_id);
  EXPECT_EQ(in_use.code(), Code::kFailedPrecondition);
  EXPECT_EQ(in_use.message(),
            "The snapshot " + snap.snapshot_id + " is currently in use by " + image.image_id);
  // Deregistering releases it at once; the kept image's mapping loses the reference.
  ASSERT_OK(catalog().images().UpdateState(image.image_id, ImageState::kPending,
                                           ImageState::kDeregistered));
  ASSERT_OK(catalog().tags().Set(snap.snapshot_id, {{"", "k", "v"}}));
  ASSERT_OK(snapshots().Delete(snap.snapshot_id));
  EXPECT_CODE(snapshots().Get(snap.snapshot_id), kNotFound);
  EXPECT_TRUE(catalog().tags().List(snap.snapshot_id)->empty());
  EXPECT_EQ(catalog().images().Get(image.image_id)->block_device_mappings[0].snapshot_id, "");
  EXPECT_CODE(snapshots().Delete(snap.snapshot_id), kNotFound);
  EXPECT_OK(catalog().CheckIntegrity());
}

TEST_F(SnapshotTableTest, ListsAndVisibility) {
  Snapshot mine = MakeSnapshot();
  Snapshot shared = MakeSnapshot(kOther);
  Snapshot everyone = MakeSnapshot(kOther);
  Snapshot hidden = MakeSnapshot(kOther);
  for (const Snapshot* s : {&mine, &shared, &everyone, &hidden}) {
    ASSERT_OK(snapshots().Insert(*s));
  }
  ASSERT_OK(snapshots().AddCreateVolumePermission({shared.snapshot_id, "", kOwner}));
  ASSERT_OK(snapshots().AddCreateVolumePermission({everyone.snapshot_id, "all", ""}));
  std::vector<std::string> expected = {mine.snapshot_id, shared.snapshot_id, everyone.snapshot_id};
  std::sort(expected.begin(), expected.end());
  std::vector<std::string> got;
  std::vector<Snapshot> visible = snapshots().List({.visible_to = kOwner}).value();
  for (const Snapshot& s : visible) {
    got.push_back(s.snapshot_id);
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(snapshots().List({.owner_id = kOther}).value().size(), 3u);
  EXPECT_EQ(snapshots().List({.owner_id = kOther, .limit = 2}).value().size(), 2u);
  std::vector<CreateVolumePermission> perms = {{shared.snapshot_id, "", kOwner}};
  EXPECT_EQ(snapshots().ListCreateVolumePermissions(shared.snapshot_id).value(), perms);
  ASSERT_OK(snapshots().RemoveCreateVolumePermission({shared.snapshot_id, "", kOwner}));
  EXPECT_EQ(snapshots().List({.visible_to = kOwner}).value().size(), 2u);
  EXPECT_CODE(snapshots().AddCreateVolumePermission({"snap-00000000000000000", "all", ""}),
              kFailedPrecondition);
}

}  // namespace
}  // namespace kiln
