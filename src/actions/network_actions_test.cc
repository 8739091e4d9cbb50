#include "actions/network_actions.h"

#include <gtest/gtest.h>

#include <thread>

#include "actions/actions_testing.h"
#include "actions/default_network.h"

namespace kiln {
namespace {

using actions_testing::Element;
using actions_testing::Elements;
using actions_testing::Enc;

class NetworkActionsTest : public actions_testing::ActionsTest {
 protected:
  void SetUp() override {
    ActionsTest::SetUp();
    actions_ = NetworkActions(catalog(), "us-east-1");
  }
  Result<std::string> Call(const std::string& query, const Caller* caller = nullptr) {
    return actions_testing::Call(actions_, caller ? *caller : owner_, query);
  }
  // The handler under DryRun=true, as the front end runs it.
  Result<std::string> DryRun(const std::string& query) {
    QueryParams params = QueryParams::Parse(query).value();
    const std::string name = params.Get("Action").value_or("");
    for (const Action& a : actions_) {
      if (a.name == name) {
        EXPECT_TRUE(a.checks_dry_run) << name;
        return a.handler(ActionRequest{owner_, params, "req-1", /*dry_run=*/true});
      }
    }
    return InternalError("no action " + name);
  }
  std::string CreateGroup(const std::string& name, const Caller* caller = nullptr) {
    Result<std::string> xml = Call(
        "Action=CreateSecurityGroup&GroupName=" + Enc(name) + "&GroupDescription=test", caller);
    EXPECT_TRUE(xml.ok()) << xml.status().ToString();
    return xml.ok() ? Element(*xml, "groupId") : "";
  }

  std::vector<Action> actions_;
};

TEST_F(NetworkActionsTest, EveryAccountHasADefaultVpcWithSubnetsInEachZone) {
  Result<std::string> vpcs = Call("Action=DescribeVpcs");
  ASSERT_TRUE(vpcs.ok()) << vpcs.status().ToString();
  ASSERT_EQ(Elements(*vpcs, "vpcId").size(), 1u);
  const std::string vpc_id = Element(*vpcs, "vpcId");
  EXPECT_TRUE(IsResourceId("vpc", vpc_id)) << vpc_id;
  EXPECT_EQ(Element(*vpcs, "cidrBlock"), "172.31.0.0/16");
  EXPECT_EQ(Element(*vpcs, "isDefault"), "true");
  EXPECT_EQ(Element(*vpcs, "state"), "available");
  EXPECT_EQ(Element(*vpcs, "ownerId"), catalog_testing::kOwner);
  Result<std::string> subnets = Call("Action=DescribeSubnets");
  ASSERT_TRUE(subnets.ok());
  std::vector<std::string> zones = Elements(*subnets, "availabilityZone");
  std::sort(zones.begin(), zones.end());
  EXPECT_EQ(zones, (std::vector<std::string>{"us-east-1a", "us-east-1b", "us-east-1c"}));
  std::vector<std::string> cidrs = Elements(*subnets, "cidrBlock");
  std::sort(cidrs.begin(), cidrs.end());
  EXPECT_EQ(cidrs, (std::vector<std::string>{"172.31.0.0/20", "172.31.16.0/20", "172.31.32.0/20"}));
  for (const std::string& v : Elements(*subnets, "vpcId")) EXPECT_EQ(v, vpc_id);
  for (const std::string& v : Elements(*subnets, "defaultForAz")) EXPECT_EQ(v, "true");
  EXPECT_EQ(Element(*subnets, "availableIpAddressCount"), "4091");
  // Filters and ids.
  Result<std::string> one = Call(
      "Action=DescribeSubnets&Filter.1.Name=availability-zone"
      "&Filter.1.Value.1=us-east-1b");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(Element(*one, "availabilityZoneId"), "use1-az2");
  Result<std::string> by_default = Call(
      "Action=DescribeVpcs&Filter.1.Name=is-default"
      "&Filter.1.Value.1=true&VpcId.1=" +
      vpc_id);
  ASSERT_TRUE(by_default.ok());
  EXPECT_EQ(Element(*by_default, "vpcId"), vpc_id);
  EXPECT_EC2_CODE(Call("Action=DescribeVpcs&VpcId.1=vpc-0123456789abcdef0"),
                  "InvalidVpcID.NotFound");
  EXPECT_EC2_CODE(Call("Action=DescribeSubnets&SubnetId.1=subnet-0123456789abcdef0"),
                  "InvalidSubnetID.NotFound");
  EXPECT_EC2_CODE(Call("Action=DescribeVpcs&Filter.1.Name=bogus&Filter.1.Value.1=x"),
                  "InvalidParameterValue");
  // Another account has its own, and does not see this one.
  Result<std::string> theirs = Call("Action=DescribeVpcs", &other_);
  ASSERT_TRUE(theirs.ok());
  EXPECT_NE(Element(*theirs, "vpcId"), vpc_id);
  EXPECT_EC2_CODE(Call("Action=DescribeVpcs&VpcId.1=" + vpc_id, &other_), "InvalidVpcID.NotFound");
}

TEST_F(NetworkActionsTest, TheDefaultNetworkIsMadeOnceUnderConcurrentFirstRequests) {
  std::vector<std::thread> threads;
  std::vector<std::string> ids(8);
  for (size_t i = 0; i < ids.size(); ++i) {
    threads.emplace_back([&, i] {
      Result<Vpc> vpc = actions::EnsureDefaultVpc(catalog(), catalog_testing::kOwner, "us-east-1");
      if (vpc.ok()) ids[i] = vpc->vpc_id;
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& id : ids) EXPECT_EQ(id, ids[0]);
  EXPECT_EQ(catalog().vpcs().ListVpcs({.owner_id = catalog_testing::kOwner})->size(), 1u);
  EXPECT_EQ(catalog().vpcs().ListSubnets({.owner_id = catalog_testing::kOwner})->size(), 3u);
  EXPECT_EQ(catalog().security_groups().List({.owner_id = catalog_testing::kOwner})->size(), 1u);
}

TEST_F(NetworkActionsTest, TheDefaultGroupAllowsItselfAndEgressAndCannotBeDeleted) {
  Result<std::string> xml = Call("Action=DescribeSecurityGroups&GroupName.1=default");
  ASSERT_TRUE(xml.ok()) << xml.status().ToString();
  const std::string id = Element(*xml, "groupId");
  EXPECT_TRUE(IsResourceId("sg", id)) << id;
  EXPECT_EQ(Element(*xml, "groupDescription"), "default VPC security group");
  const std::string ingress = Element(*xml, "ipPermissions");
  EXPECT_EQ(Element(ingress, "ipProtocol"), "-1");
  EXPECT_EQ(Element(Element(ingress, "groups"), "groupId"), id);
  EXPECT_EQ(Element(Element(ingress, "groups"), "userId"), catalog_testing::kOwner);
  const std::string egress = Element(*xml, "ipPermissionsEgress");
  EXPECT_EQ(Element(egress, "cidrIp"), "0.0.0.0/0");
  EXPECT_EQ(egress.find("fromPort"), std::string::npos);
  EXPECT_EC2_CODE(Call("Action=DeleteSecurityGroup&GroupId=" + id), "CannotDelete");
  EXPECT_EC2_CODE(Call("Action=DeleteSecurityGroup&GroupName=default"), "CannotDelete");
}

TEST_F(NetworkActionsTest, CreateDescribeDelete) {
  Result<std::string> made = Call(
      "Action=CreateSecurityGroup&GroupName=packer_1&GroupDescription=" + Enc("Temporary group") +
      "&VpcId=&TagSpecification.1.ResourceType=security-group&TagSpecification.1.Tag.1.Key=k"
      "&TagSpecification.1.Tag.1.Value=v");
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  const std::string id = Element(*made, "groupId");
  EXPECT_TRUE(IsResourceId("sg", id)) << id;
  EXPECT_EQ(Element(*made, "key"), "k");
  EXPECT_TRUE(Element(*made, "securityGroupArn").ends_with(":security-group/" + id));
  Result<std::string> xml = Call("Action=DescribeSecurityGroups&GroupId.1=" + id);
  ASSERT_TRUE(xml.ok()) << xml.status().ToString();
  EXPECT_EQ(Element(*xml, "groupName"), "packer_1");
  EXPECT_EQ(Element(*xml, "groupDescription"), "Temporary group");
  EXPECT_EQ(Element(*xml, "ipPermissions"), "");
  EXPECT_EQ(Element(Element(*xml, "ipPermissionsEgress"), "ipProtocol"), "-1");
  EXPECT_EQ(Element(*xml, "value"), "v");
  // Filters.
  Result<std::string> filtered =
      Call("Action=DescribeSecurityGroups&Filter.1.Name=group-name&Filter.1.Value.1=packer_*");
  ASSERT_TRUE(filtered.ok());
  EXPECT_EQ(Elements(*filtered, "groupId"), std::vector<std::string>{id});
  Result<std::string> tagged =
      Call("Action=DescribeSecurityGroups&Filter.1.Name=tag:k&Filter.1.Value.1=v");
  ASSERT_TRUE(tagged.ok());
  EXPECT_EQ(Elements(*tagged, "groupId"), std::vector<std::string>{id});
  EXPECT_EC2_CODE(Call("Action=DescribeSecurityGroups&Filter.1.Name=color&Filter.1.Value.1=x"),
                  "InvalidParameterValue");
  // Errors.
  EXPECT_EC2_CODE(Call("Action=CreateSecurityGroup&GroupName=packer_1&GroupDescription=x"),
                  "InvalidGroup.Duplicate");
  EXPECT_EC2_CODE(Call("Action=DescribeSecurityGroups&GroupId.1=" + id, &other_),
                  "InvalidGroup.NotFound");
  EXPECT_EC2_CODE(Call("Action=DeleteSecurityGroup&GroupId=" + id, &other_),
                  "InvalidGroup.NotFound");
  // DryRun validates and changes nothing.
  EXPECT_EC2_CODE(DryRun("Action=DeleteSecurityGroup&GroupId=" + id), "DryRunOperation");
  EXPECT_EC2_CODE(DryRun("Action=DeleteSecurityGroup&GroupId=sg-0123456789abcdef0"),
                  "InvalidGroup.NotFound");
  Result<std::string> deleted = Call("Action=DeleteSecurityGroup&GroupName=packer_1");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(Element(*deleted, "groupId"), id);
  EXPECT_EC2_CODE(Call("Action=DescribeSecurityGroups&GroupId.1=" + id), "InvalidGroup.NotFound");
  EXPECT_EC2_CODE(Call("Action=DeleteSecurityGroup&GroupId=" + id), "InvalidGroup.NotFound");
  EXPECT_EC2_CODE(Call("Action=DeleteSecurityGroup&GroupId=sg-zz"), "InvalidGroupId.Malformed");
  EXPECT_EC2_CODE(Call("Action=DeleteSecurityGroup"), "MissingParameter");
}

TEST_F(NetworkActionsTest, CreateValidatesAsEc2) {
  auto create = [&](const std::string& name, const std::string& description,
                    const std::string& extra = "") {
    return Call("Action=CreateSecurityGroup&GroupName=" + Enc(name) +
                "&GroupDescription=" + Enc(description) + extra);
  };
  EXPECT_EC2_CODE(Call("Action=CreateSecurityGroup&GroupDescription=x"), "MissingParameter");
  EXPECT_EC2_CODE(Call("Action=CreateSecurityGroup&GroupName=x"), "MissingParameter");
  EXPECT_EC2_CODE(create("sg-123", "x"), "InvalidParameterValue");
  EXPECT_EC2_CODE(create(std::string(256, 'a'), "x"), "InvalidParameterValue");
  EXPECT_EC2_CODE(create("bad~name", "x"), "InvalidParameterValue");
  EXPECT_EC2_CODE(create("ok", "bad\x01"), "InvalidParameterValue");
  EXPECT_EC2_CODE(create("ok", "x", "&VpcId=vpc-0123456789abcdef0"), "InvalidVpcID.NotFound");
  EXPECT_EC2_CODE(create("ok", "x",
                         "&TagSpecification.1.ResourceType=instance"
                         "&TagSpecification.1.Tag.1.Key=k"),
                  "InvalidParameterValue");
  EXPECT_TRUE(create(std::string(255, 'a'), "All of ._-:/()#,@[]+=&;{}!$* ok").ok());
  // Another account's VPC is not found; the default group name is taken.
  Result<std::string> theirs = Call("Action=DescribeVpcs", &other_);
  ASSERT_TRUE(theirs.ok());
  EXPECT_EC2_CODE(create("ok", "x", "&VpcId=" + Element(*theirs, "vpcId")),
                  "InvalidVpcID.NotFound");
  EXPECT_EC2_CODE(create("default", "x"), "InvalidGroup.Duplicate");
  EXPECT_EC2_CODE(DryRun("Action=CreateSecurityGroup&GroupName=dry&GroupDescription=x"),
                  "DryRunOperation");
  EXPECT_EC2_CODE(Call("Action=DescribeSecurityGroups&GroupName.1=dry"), "InvalidGroup.NotFound");
}

TEST_F(NetworkActionsTest, DescribePages) {
  for (int i = 0; i < 6; ++i) CreateGroup("g" + std::to_string(i));
  std::vector<std::string> seen;
  std::string token;
  for (int page = 0; page < 5; ++page) {
    Result<std::string> xml = Call("Action=DescribeSecurityGroups&MaxResults=5" +
                                   (token.empty() ? "" : "&NextToken=" + Enc(token)));
    ASSERT_TRUE(xml.ok()) << xml.status().ToString();
    for (const std::string& id : Elements(*xml, "groupId")) {
      if (id.starts_with("sg-") && Element(*xml, "groupId") != "") seen.push_back(id);
    }
    token = Element(*xml, "nextToken");
    if (token.empty()) break;
  }
  // 7 groups (6 + default); referenced group ids inside rules also appear as groupId.
  std::sort(seen.begin(), seen.end());
  seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_EC2_CODE(Call("Action=DescribeSecurityGroups&MaxResults=2"), "InvalidParameterValue");
}

}  // namespace
}  // namespace kiln
