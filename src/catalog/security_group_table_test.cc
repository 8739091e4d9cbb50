#include "catalog/security_group_table.h"

#include <gtest/gtest.h>

#include "catalog/catalog_testing.h"

namespace kiln {
namespace {

using catalog_testing::CatalogTest;
using catalog_testing::Id;
using catalog_testing::kOther;
using catalog_testing::kOwner;
using catalog_testing::MakeInstance;

SecurityGroupRule Cidr(std::string cidr, int port, bool egress = false) {
  return SecurityGroupRule{.rule_id = Id("sgr"),
                           .is_egress = egress,
                           .ip_protocol = "tcp",
                           .from_port = port,
                           .to_port = port,
                           .cidr_ipv4 = std::move(cidr),
                           .description = "d"};
}

class SecurityGroupTableTest : public CatalogTest {
 protected:
  void SetUp() override {
    CatalogTest::SetUp();
    vpc_ = Vpc{.vpc_id = Id("vpc"),
               .owner_id = kOwner,
               .cidr_block = "172.31.0.0/16",
               .is_default = true,
               .state = "available"};
    ASSERT_OK(catalog().vpcs().InsertVpc(vpc_));
  }
  SecurityGroupTable groups() { return catalog().security_groups(); }
  SecurityGroup Make(const std::string& name) {
    return SecurityGroup{.group_id = Id("sg"),
                         .owner_id = kOwner,
                         .vpc_id = vpc_.vpc_id,
                         .group_name = name,
                         .description = "a group",
                         .rules = {Cidr("0.0.0.0/0", -1, /*egress=*/true)}};
  }
  Vpc vpc_;
};

TEST_F(SecurityGroupTableTest, InsertGetFindList) {
  SecurityGroup g = Make("web");
  g.rules[0].ip_protocol = "-1";
  ASSERT_OK(groups().Insert(g));
  EXPECT_EQ(groups().Get(g.group_id).value(), g);
  EXPECT_EQ(groups().FindByName(vpc_.vpc_id, "web").value(), g);
  EXPECT_CODE(groups().FindByName(vpc_.vpc_id, "nope"), kNotFound);
  EXPECT_CODE(groups().Get(Id("sg")), kNotFound);
  ASSERT_OK(groups().Insert(Make("db")));
  EXPECT_EQ(groups().List({.owner_id = kOwner})->size(), 2u);
  EXPECT_TRUE(groups().List({.owner_id = kOther})->empty());
  Reopen();
  EXPECT_EQ(groups().Get(g.group_id).value(), g);
}

TEST_F(SecurityGroupTableTest, NameIsUniquePerVpc) {
  ASSERT_OK(groups().Insert(Make("web")));
  Status again = groups().Insert(Make("web"));
  EXPECT_EQ(again.code(), Code::kAlreadyExists) << again.ToString();
  Vpc other_vpc = vpc_;
  other_vpc.vpc_id = Id("vpc");
  other_vpc.is_default = false;
  ASSERT_OK(catalog().vpcs().InsertVpc(other_vpc));
  SecurityGroup elsewhere = Make("web");
  elsewhere.vpc_id = other_vpc.vpc_id;
  EXPECT_OK(groups().Insert(elsewhere));
}

TEST_F(SecurityGroupTableTest, MalformedOrDanglingGroupsAreRefused) {
  SecurityGroup bad = Make("x");
  bad.group_id = "sg-q";
  EXPECT_CODE(groups().Insert(bad), kInvalidArgument);
  EXPECT_CODE(groups().Insert(Make("")), kInvalidArgument);
  bad = Make("x");
  bad.rules[0].referenced_group_id = bad.group_id;  // both a CIDR and a group
  EXPECT_CODE(groups().Insert(bad), kInvalidArgument);
  bad = Make("x");
  bad.vpc_id = Id("vpc");
  EXPECT_CODE(groups().Insert(bad), kFailedPrecondition);
  bad = Make("x");
  bad.owner_id = kOther;  // the VPC is kOwner's
  EXPECT_CODE(groups().Insert(bad), kFailedPrecondition);
}

TEST_F(SecurityGroupTableTest, AddAndRemoveRulesAllOrNothing) {
  SecurityGroup g = Make("web");
  ASSERT_OK(groups().Insert(g));
  ASSERT_OK(groups().AddRules(g.group_id, {Cidr("10.0.0.0/8", 22), Cidr("0.0.0.0/0", 80)}));
  EXPECT_EQ(groups().Get(g.group_id)->rules.size(), 3u);
  // A duplicate (same permission, another id and description) fails the whole call.
  SecurityGroupRule dup = Cidr("10.0.0.0/8", 22);
  dup.description = "other";
  EXPECT_CODE(groups().AddRules(g.group_id, {Cidr("0.0.0.0/0", 443), dup}), kAlreadyExists);
  EXPECT_EQ(groups().Get(g.group_id)->rules.size(), 3u);
  // Egress with the same shape is another rule.
  ASSERT_OK(groups().AddRules(g.group_id, {Cidr("10.0.0.0/8", 22, /*egress=*/true)}));
  // Removal matches by permission; a missing one fails the whole call.
  EXPECT_CODE(groups().RemoveRules(g.group_id, {Cidr("10.0.0.0/8", 22), Cidr("1.2.3.4/32", 1)}),
              kNotFound);
  EXPECT_EQ(groups().Get(g.group_id)->rules.size(), 4u);
  Result<std::vector<SecurityGroupRule>> removed =
      groups().RemoveRules(g.group_id, {Cidr("10.0.0.0/8", 22)});
  ASSERT_OK(removed);
  ASSERT_EQ(removed->size(), 1u);
  EXPECT_FALSE((*removed)[0].is_egress);
  EXPECT_EQ(groups().Get(g.group_id)->rules.size(), 3u);
  EXPECT_CODE(groups().AddRules(Id("sg"), {Cidr("10.0.0.0/8", 22)}), kNotFound);
  EXPECT_CODE(groups().RemoveRules(Id("sg"), {Cidr("10.0.0.0/8", 22)}), kNotFound);
}

TEST_F(SecurityGroupTableTest, DeleteRefusesWhileInUse) {
  SecurityGroup g = Make("web");
  SecurityGroup peer = Make("peer");
  ASSERT_OK(groups().Insert(g));
  ASSERT_OK(groups().Insert(peer));
  ASSERT_OK(catalog().tags().Set(g.group_id, {{"", "k", "v"}}));
  // Another group's rule references it.
  SecurityGroupRule ref = Cidr("", 22);
  ref.cidr_ipv4 = "";
  ref.referenced_group_id = g.group_id;
  ref.referenced_user_id = kOwner;
  ASSERT_OK(groups().AddRules(peer.group_id, {ref}));
  EXPECT_CODE(groups().Delete(g.group_id), kFailedPrecondition);
  ASSERT_OK(groups().RemoveRules(peer.group_id, {ref}));
  // An instance is in it, until terminated.
  Instance inst = MakeInstance();
  inst.security_groups = {{g.group_id, ""}, {peer.group_id, ""}};
  inst.vpc_id = vpc_.vpc_id;
  inst.subnet_id = Id("subnet");
  inst.shutdown_behavior = "terminate";
  ASSERT_OK(catalog().instances().Insert(inst));
  Instance read = catalog().instances().Get(inst.instance_id).value();
  EXPECT_EQ(read.security_groups,
            (std::vector<GroupIdentifier>{{g.group_id, "web"}, {peer.group_id, "peer"}}));
  EXPECT_EQ(read.vpc_id, inst.vpc_id);
  EXPECT_EQ(read.subnet_id, inst.subnet_id);
  EXPECT_EQ(read.shutdown_behavior, "terminate");
  Status used = groups().Delete(g.group_id);
  EXPECT_EQ(used.code(), Code::kFailedPrecondition);
  EXPECT_NE(used.message().find(inst.instance_id), std::string::npos) << used.ToString();
  ASSERT_OK(catalog().instances().UpdateState(inst.instance_id, InstanceState::kPending,
                                              InstanceState::kTerminated));
  ASSERT_OK(groups().Delete(g.group_id));
  EXPECT_CODE(groups().Get(g.group_id), kNotFound);
  EXPECT_TRUE(catalog().tags().List(g.group_id)->empty());
  EXPECT_EQ(catalog().instances().Get(inst.instance_id)->security_groups.size(), 1u);
  EXPECT_CODE(groups().Delete(g.group_id), kNotFound);
  // The name is free again.
  EXPECT_OK(groups().Insert(Make("web")));
}

TEST_F(SecurityGroupTableTest, AnInstanceInAMissingGroupIsRefused) {
  Instance inst = MakeInstance();
  inst.security_groups = {{Id("sg"), ""}};
  EXPECT_CODE(catalog().instances().Insert(inst), kFailedPrecondition);
  EXPECT_CODE(catalog().instances().Get(inst.instance_id), kNotFound);
  inst.security_groups = {{"sg-bad", ""}};
  EXPECT_CODE(catalog().instances().Insert(inst), kInvalidArgument);
  inst.security_groups = {};
  inst.shutdown_behavior = "hibernate";
  EXPECT_CODE(catalog().instances().Insert(inst), kInvalidArgument);
}

}  // namespace
}  // namespace kiln
