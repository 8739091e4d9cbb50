#include "catalog/instance_table.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "catalog/catalog_testing.h"

namespace kiln {
namespace {

using catalog_testing::CatalogTest;
using catalog_testing::Id;
using catalog_testing::kOther;
using catalog_testing::kOwner;
using catalog_testing::MakeInstance;

class InstanceTableTest : public CatalogTest {
 protected:
  InstanceTable instances() { return catalog().instances(); }
};

TEST_F(InstanceTableTest, InsertAndGetRoundTripEveryField) {
  Instance i = MakeInstance();
  i.state = InstanceState::kStopped;
  i.state_reason = {"Client.UserInitiatedShutdown", "User initiated shutdown"};
  i.state_transition_reason = "User initiated (2024-01-02 03:04:05 GMT)";
  i.user_data = {'#', '!', '/', 'b', 'i', 'n', '/', 's', 'h', '\n', 0, 0xff, 0};
  i.key_name = "mine";
  i.client_token = "token-1";
  i.ami_launch_index = 0;
  i.instance_store = {{"/dev/sdb", 75, "ephemeral0"}, {"/dev/sdc", 75, "ephemeral1"}};
  ASSERT_OK(instances().Insert(i));
  EXPECT_EQ(instances().Get(i.instance_id).value(), i);
  EXPECT_CODE(instances().Get("i-00000000000000000"), kNotFound);
}

TEST_F(InstanceTableTest, EmptyUserDataStaysEmpty) {
  Instance i = MakeInstance();
  ASSERT_OK(instances().Insert(i));
  EXPECT_TRUE(instances().Get(i.instance_id)->user_data.empty());
}

TEST_F(InstanceTableTest, MalformedInstancesAreRefused) {
  Instance bad = MakeInstance();
  bad.instance_id = "i-xyz";
  EXPECT_CODE(instances().Insert(bad), kInvalidArgument);
  Instance no_reservation = MakeInstance(kOwner, "r-1");
  EXPECT_CODE(instances().Insert(no_reservation), kInvalidArgument);
  Instance disks = MakeInstance();
  disks.instance_store = {{"/dev/sdb", 1, "ephemeral0"}, {"/dev/sdb", 1, "ephemeral1"}};
  EXPECT_CODE(instances().Insert(disks), kInvalidArgument);
  EXPECT_CODE(instances().Insert(MakeInstance("999999999999")), kFailedPrecondition);
  Instance again = MakeInstance();
  ASSERT_OK(instances().Insert(again));
  EXPECT_CODE(instances().Insert(again), kAlreadyExists);
}

TEST_F(InstanceTableTest, ClientTokenNamesOneReservationPerOwner) {
  std::string reservation = Id("r");
  Instance first = MakeInstance(kOwner, reservation);
  first.client_token = "abc";
  Instance second = MakeInstance(kOwner, reservation);
  second.client_token = "abc";
  second.ami_launch_index = 1;
  ASSERT_OK(instances().Insert(second));
  ASSERT_OK(instances().Insert(first));
  Result<std::vector<Instance>> found = instances().FindByClientToken(kOwner, "abc");
  ASSERT_OK(found);
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ((*found)[0].instance_id, first.instance_id);  // by launch index
  EXPECT_EQ((*found)[1].instance_id, second.instance_id);

  // The token cannot name another reservation of the owner...
  Instance retry = MakeInstance(kOwner);
  retry.client_token = "abc";
  EXPECT_CODE(instances().Insert(retry), kAlreadyExists);
  // ... and the reservation cannot change token or owner.
  Instance other_token = MakeInstance(kOwner, reservation);
  other_token.client_token = "xyz";
  EXPECT_CODE(instances().Insert(other_token), kAlreadyExists);
  EXPECT_CODE(instances().Insert(MakeInstance(kOther, reservation)), kAlreadyExists);
  // Another owner may use the same token; an empty token is no token.
  Instance theirs = MakeInstance(kOther);
  theirs.client_token = "abc";
  EXPECT_OK(instances().Insert(theirs));
  EXPECT_OK(instances().Insert(MakeInstance()));
  EXPECT_OK(instances().Insert(MakeInstance()));
  EXPECT_TRUE(instances().FindByClientToken(kOwner, "")->empty());
  EXPECT_TRUE(instances().FindByClientToken(kOwner, "unused")->empty());
}

TEST_F(InstanceTableTest, StateIsACompareAndSetWithReasons) {
  Instance i = MakeInstance();
  ASSERT_OK(instances().Insert(i));
  ASSERT_OK(
      instances().UpdateState(i.instance_id, InstanceState::kPending, InstanceState::kRunning));
  ASSERT_OK(instances().UpdateState(i.instance_id, InstanceState::kRunning,
                                    InstanceState::kStopping, "User initiated",
                                    {"Client.UserInitiatedShutdown", "User initiated shutdown"}));
  EXPECT_CODE(
      instances().UpdateState(i.instance_id, InstanceState::kRunning, InstanceState::kShuttingDown),
      kFailedPrecondition);
  Result<Instance> got = instances().Get(i.instance_id);
  EXPECT_EQ(got->state, InstanceState::kStopping);
  EXPECT_EQ(got->state_transition_reason, "User initiated");
  EXPECT_EQ(got->state_reason.code, "Client.UserInitiatedShutdown");
  ASSERT_OK(instances().SetLaunchTime(i.instance_id, "2025-01-01T00:00:00.000Z"));
  EXPECT_EQ(instances().Get(i.instance_id)->launch_time, "2025-01-01T00:00:00.000Z");
  EXPECT_CODE(instances().SetLaunchTime("i-00000000000000000", "x"), kNotFound);
}

TEST_F(InstanceTableTest, ListsPageById) {
  std::vector<std::string> ids;
  for (int n = 0; n < 5; ++n) {
    Instance i = MakeInstance();
    ASSERT_OK(instances().Insert(i));
    ids.push_back(i.instance_id);
  }
  ASSERT_OK(instances().Insert(MakeInstance(kOther)));
  std::sort(ids.begin(), ids.end());
  Result<std::vector<Instance>> page =
      instances().List({.owner_id = kOwner, .after_id = ids[1], .limit = 2});
  ASSERT_OK(page);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].instance_id, ids[2]);
  EXPECT_EQ((*page)[1].instance_id, ids[3]);
}

TEST_F(InstanceTableTest, DeleteRemovesDisksTagsAndTheEmptyReservation) {
  Instance i = MakeInstance();
  i.client_token = "once";
  i.instance_store = {{"/dev/sdb", 75, "ephemeral0"}};
  ASSERT_OK(instances().Insert(i));
  ASSERT_OK(catalog().tags().Set(i.instance_id, {{"", "Name", "web"}}));
  ASSERT_OK(instances().Delete(i.instance_id));
  EXPECT_CODE(instances().Get(i.instance_id), kNotFound);
  EXPECT_TRUE(catalog().tags().List(i.instance_id)->empty());
  EXPECT_CODE(instances().Delete(i.instance_id), kNotFound);
  // The reservation went with its last instance: its id and token are free again.
  Instance again = MakeInstance(kOwner, i.reservation_id);
  again.client_token = "once";
  EXPECT_OK(instances().Insert(again));
  EXPECT_OK(catalog().CheckIntegrity());
}

}  // namespace
}  // namespace kiln
