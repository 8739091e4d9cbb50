#include "actions/snapshot_attribute_actions.h"

#include <gtest/gtest.h>

#include "actions/actions_testing.h"

namespace kiln {
namespace {

using actions_testing::Elements;

class SnapshotAttributeActionsTest : public actions_testing::ActionsTest {
 protected:
  void SetUp() override {
    ActionsTest::SetUp();
    actions_ = SnapshotAttributeActions(catalog());
    snap_ = catalog_testing::MakeSnapshot();
    ASSERT_TRUE(catalog().snapshots().Insert(snap_).ok());
    modify_ = "Action=ModifySnapshotAttribute&SnapshotId=" + snap_.snapshot_id;
  }
  Result<std::string> Call(const std::string& query, const Caller* caller = nullptr) {
    return actions_testing::Call(actions_, caller ? *caller : owner_, query);
  }
  std::vector<CreateVolumePermission> Perms() {
    return catalog().snapshots().ListCreateVolumePermissions(snap_.snapshot_id).value();
  }

  std::vector<Action> actions_;
  Snapshot snap_;
  std::string modify_;
};

TEST_F(SnapshotAttributeActionsTest, StructuredFormAddsAndRemoves) {
  const std::string other = catalog_testing::kOther;
  Result<std::string> xml = Call(modify_ + "&CreateVolumePermission.Add.1.UserId=" + other);
  ASSERT_TRUE(xml.ok()) << xml.status().ToString();
  EXPECT_EQ(actions_testing::Element(*xml, "return"), "true");
  EXPECT_EQ(Perms(), (std::vector<CreateVolumePermission>{{snap_.snapshot_id, "", other}}));
  ASSERT_TRUE(Call(modify_ + "&CreateVolumePermission.Add.1.Group=all").ok());
  Result<std::string> described =
      Call("Action=DescribeSnapshotAttribute&SnapshotId=" + snap_.snapshot_id +
           "&Attribute=createVolumePermission");
  ASSERT_TRUE(described.ok()) << described.status().ToString();
  EXPECT_EQ(Elements(*described, "group"), std::vector<std::string>{"all"});
  EXPECT_EQ(Elements(*described, "userId"), std::vector<std::string>{other});
  ASSERT_TRUE(Call(modify_ +
                   "&CreateVolumePermission.Remove.1.Group=all"
                   "&CreateVolumePermission.Remove.2.UserId=" +
                   other)
                  .ok());
  EXPECT_TRUE(Perms().empty());
}

TEST_F(SnapshotAttributeActionsTest, FlatFormAsTheCliSendsIt) {
  const std::string other = catalog_testing::kOther;
  ASSERT_TRUE(Call(modify_ + "&Attribute=createVolumePermission&OperationType=add&UserId.1=" +
                   other + "&UserGroup.1=all")
                  .ok());
  EXPECT_EQ(Perms().size(), 2u);
  ASSERT_TRUE(
      Call(modify_ + "&Attribute=createVolumePermission&OperationType=remove&UserId.1=" + other)
          .ok());
  EXPECT_EQ(Perms(), (std::vector<CreateVolumePermission>{{snap_.snapshot_id, "all", ""}}));
}

TEST_F(SnapshotAttributeActionsTest, Validation) {
  EXPECT_EC2_CODE(Call(modify_ + "&CreateVolumePermission.Add.1.UserId=12"),
                  "InvalidParameterValue");
  EXPECT_EC2_CODE(Call(modify_ + "&CreateVolumePermission.Add.1.Group=everyone"),
                  "InvalidParameterValue");
  EXPECT_EC2_CODE(Call(modify_ + "&Attribute=productCodes&OperationType=add&UserId.1=" +
                       catalog_testing::kOther),
                  "InvalidParameterValue");
  EXPECT_EC2_CODE(Call(modify_), "InvalidParameterCombination");
  EXPECT_EC2_CODE(Call("Action=ModifySnapshotAttribute&SnapshotId=vol-1"
                       "&CreateVolumePermission.Add.1.Group=all"),
                  "InvalidSnapshotID.Malformed");
  EXPECT_EC2_CODE(Call("Action=ModifySnapshotAttribute&SnapshotId=snap-0123456789abcdef0"
                       "&CreateVolumePermission.Add.1.Group=all"),
                  "InvalidSnapshot.NotFound");
  EXPECT_EC2_CODE(Call("Action=DescribeSnapshotAttribute&SnapshotId=" + snap_.snapshot_id +
                       "&Attribute=volumeSize"),
                  "InvalidParameterValue");
  EXPECT_TRUE(Perms().empty());
}

TEST_F(SnapshotAttributeActionsTest, OnlyTheOwnerChangesOrResets) {
  const std::string group_all = modify_ + "&CreateVolumePermission.Add.1.Group=all";
  // Hidden from the other account: not found; public: visible but not its to change.
  EXPECT_EC2_CODE(Call(group_all, &other_), "InvalidSnapshot.NotFound");
  ASSERT_TRUE(Call(group_all).ok());
  EXPECT_EC2_CODE(Call(modify_ + "&CreateVolumePermission.Remove.1.Group=all", &other_),
                  "AuthFailure");
  const std::string reset = "Action=ResetSnapshotAttribute&SnapshotId=" + snap_.snapshot_id +
                            "&Attribute=createVolumePermission";
  EXPECT_EC2_CODE(Call(reset, &other_), "AuthFailure");
  EXPECT_EC2_CODE(Call("Action=ResetSnapshotAttribute&SnapshotId=" + snap_.snapshot_id +
                       "&Attribute=productCodes"),
                  "InvalidParameterValue");
  ASSERT_TRUE(Call(reset).ok());
  EXPECT_TRUE(Perms().empty());
  Result<std::string> codes =
      Call("Action=DescribeSnapshotAttribute&SnapshotId=" + snap_.snapshot_id +
           "&Attribute=productCodes");
  ASSERT_TRUE(codes.ok()) << codes.status().ToString();
  EXPECT_NE(codes->find("<productCodes"), std::string::npos);
  EXPECT_EQ(codes->find("createVolumePermission"), std::string::npos);
}

}  // namespace
}  // namespace kiln
