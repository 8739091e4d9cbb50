#include "actions/network_launch.h"

#include <gtest/gtest.h>

#include "actions/actions_testing.h"
#include "actions/default_network.h"
#include "actions/network_actions.h"

namespace kiln::actions {
namespace {

using actions_testing::Element;

class NetworkLaunchTest : public actions_testing::ActionsTest {
 protected:
  void SetUp() override {
    ActionsTest::SetUp();
    vpc_ = EnsureDefaultVpc(catalog(), catalog_testing::kOwner, "us-east-1").value();
    default_group_ = DefaultSecurityGroup(catalog(), vpc_.vpc_id).value();
    const std::vector<Subnet> subnets =
        catalog().vpcs().ListSubnets({.owner_id = catalog_testing::kOwner}).value();
    for (const Subnet& s : subnets) {
      if (s.availability_zone == "us-east-1b") subnet_b_ = s;
    }
    actions_ = NetworkActions(catalog(), "us-east-1");
  }
  Result<LaunchNetwork> Resolve(const std::string& query, const Caller* caller = nullptr) {
    return ResolveLaunchNetwork(catalog(), caller ? *caller : owner_, "us-east-1",
                                QueryParams::Parse(query).value());
  }
  std::string CreateGroup(const std::string& name, const Caller& caller) {
    Result<std::string> xml = actions_testing::Call(
        actions_, caller, "Action=CreateSecurityGroup&GroupName=" + name + "&GroupDescription=d");
    EXPECT_TRUE(xml.ok()) << xml.status().ToString();
    return xml.ok() ? Element(*xml, "groupId") : "";
  }

  Vpc vpc_;
  SecurityGroup default_group_;
  Subnet subnet_b_;
  std::vector<Action> actions_;
};

TEST_F(NetworkLaunchTest, NothingGivenMeansTheDefaultSubnetOfTheFirstZoneAndTheDefaultGroup) {
  // Packer sends these empty.
  Result<LaunchNetwork> n = Resolve("SubnetId=&Placement.AvailabilityZone=");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n->vpc_id, vpc_.vpc_id);
  EXPECT_EQ(n->availability_zone, "us-east-1a");
  EXPECT_TRUE(IsResourceId("subnet", n->subnet_id));
  EXPECT_EQ(n->security_groups,
            (std::vector<GroupIdentifier>{{default_group_.group_id, "default"}}));
}

TEST_F(NetworkLaunchTest, SubnetAndZone) {
  Result<LaunchNetwork> n = Resolve("SubnetId=" + subnet_b_.subnet_id);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n->availability_zone, "us-east-1b");
  n = Resolve("Placement.AvailabilityZone=us-east-1b");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->subnet_id, subnet_b_.subnet_id);
  EXPECT_TRUE(
      Resolve("SubnetId=" + subnet_b_.subnet_id + "&Placement.AvailabilityZone=us-east-1b").ok());
  EXPECT_EC2_CODE(
      Resolve("SubnetId=" + subnet_b_.subnet_id + "&Placement.AvailabilityZone=us-east-1c"),
      "InvalidParameterCombination");
  EXPECT_EC2_CODE(Resolve("SubnetId=subnet-0123456789abcdef0"), "InvalidSubnetID.NotFound");
  EXPECT_EC2_CODE(Resolve("SubnetId=" + subnet_b_.subnet_id, &other_), "InvalidSubnetID.NotFound");
  EXPECT_EC2_CODE(Resolve("Placement.AvailabilityZone=us-west-2a"), "InvalidParameterValue");
}

TEST_F(NetworkLaunchTest, SecurityGroupsByIdAndName) {
  const std::string web = CreateGroup("web", owner_);
  Result<LaunchNetwork> n = Resolve("SecurityGroupId.1=" + web + "&SecurityGroup.1=default");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n->security_groups,
            (std::vector<GroupIdentifier>{{web, "web"}, {default_group_.group_id, "default"}}));
  EXPECT_EC2_CODE(Resolve("SecurityGroupId.1=sg-0123456789abcdef0"), "InvalidGroup.NotFound");
  EXPECT_EC2_CODE(Resolve("SecurityGroupId.1=nope"), "InvalidGroupId.Malformed");
  EXPECT_EC2_CODE(Resolve("SecurityGroup.1=nope"), "InvalidGroup.NotFound");
  const std::string theirs = CreateGroup("theirs", other_);
  EXPECT_EC2_CODE(Resolve("SecurityGroupId.1=" + theirs), "InvalidGroup.NotFound");
}

TEST_F(NetworkLaunchTest, ShutdownBehavior) {
  auto parse = [](const std::string& q) {
    return ShutdownBehaviorParam(QueryParams::Parse(q).value());
  };
  EXPECT_EQ(parse("").value(), "stop");
  EXPECT_EQ(parse("InstanceInitiatedShutdownBehavior=terminate").value(), "terminate");
  EXPECT_EQ(parse("InstanceInitiatedShutdownBehavior=stop").value(), "stop");
  EXPECT_EC2_CODE(parse("InstanceInitiatedShutdownBehavior=hibernate"), "InvalidParameterValue");
}

}  // namespace
}  // namespace kiln::actions
