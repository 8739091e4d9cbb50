#include "actions/ip_permissions.h"

#include <gtest/gtest.h>

#include "actions/actions_testing.h"

namespace kiln::actions {
namespace {

Result<std::vector<RequestedRule>> Parse(const std::string& query, bool egress = false) {
  return ParseIpPermissions(QueryParams::Parse(query).value(), egress);
}

TEST(IpPermissionsTest, ProtocolsAreNormalized) {
  EXPECT_EQ(NormalizeProtocol("TCP").value(), "tcp");
  EXPECT_EQ(NormalizeProtocol("6").value(), "tcp");
  EXPECT_EQ(NormalizeProtocol("17").value(), "udp");
  EXPECT_EQ(NormalizeProtocol("1").value(), "icmp");
  EXPECT_EQ(NormalizeProtocol("58").value(), "icmpv6");
  EXPECT_EQ(NormalizeProtocol("-1").value(), "-1");
  EXPECT_EQ(NormalizeProtocol("47").value(), "47");
  for (const char* bad : {"", "tcpx", "256", "-2", "06", "all"}) {
    EXPECT_EC2_CODE(NormalizeProtocol(bad), "InvalidParameterValue");
  }
}

TEST(IpPermissionsTest, CidrsAreChecked) {
  for (const char* good : {"0.0.0.0/0", "10.0.0.0/8", "192.168.1.7/32", "172.31.16.0/20"}) {
    EXPECT_TRUE(CheckCidr(good).ok()) << good;
  }
  for (const char* bad : {"", "10.0.0.0", "10.0.0.0/33", "10.0.0.1/8", "256.0.0.0/8", "10.0.0/8",
                          "10.0.0.0/", "a.b.c.d/8", "010.0.0.0/8", "10.0.0.0/08", "::/0"}) {
    EXPECT_EC2_CODE(CheckCidr(bad), "InvalidParameterValue");
  }
}

TEST(IpPermissionsTest, ListsAndTheFlatFormBecomeOneRuleEach) {
  Result<std::vector<RequestedRule>> rules = Parse(
      "IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=22&IpPermissions.1.ToPort=22"
      "&IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0/8&IpPermissions.1.IpRanges.1.Description=ssh"
      "&IpPermissions.1.IpRanges.2.CidrIp=0.0.0.0/0"
      "&IpPermissions.1.Groups.1.GroupName=web"
      "&IpPermissions.2.IpProtocol=-1&IpPermissions.2.FromPort=5"
      "&IpPermissions.2.Groups.1.GroupId=sg-0123456789abcdef0"
      "&IpProtocol=udp&FromPort=53&ToPort=53&CidrIp=1.2.3.4/32");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  ASSERT_EQ(rules->size(), 5u);
  const SecurityGroupRule& first = (*rules)[0].rule;
  EXPECT_EQ(first.ip_protocol, "tcp");
  EXPECT_EQ(first.from_port, 22);
  EXPECT_EQ(first.cidr_ipv4, "10.0.0.0/8");
  EXPECT_EQ(first.description, "ssh");
  EXPECT_TRUE(IsResourceId("sgr", first.rule_id));
  EXPECT_EQ((*rules)[2].group_name, "web");
  EXPECT_EQ((*rules)[3].rule.referenced_group_id, "sg-0123456789abcdef0");
  EXPECT_EQ((*rules)[3].rule.from_port, -1);  // "all" has no ports
  EXPECT_EQ((*rules)[4].rule.ip_protocol, "udp");
  EXPECT_EQ((*rules)[4].rule.cidr_ipv4, "1.2.3.4/32");
  EXPECT_NE((*rules)[0].rule.rule_id, (*rules)[1].rule.rule_id);
  EXPECT_TRUE(Parse("CidrIp=0.0.0.0/0&IpProtocol=icmp", true).value()[0].rule.is_egress);
}

TEST(IpPermissionsTest, PacketsPortZeroFromAnywhereIsAccepted) {
  // Packer 1.6.6 with communicator "none" authorizes tcp port 0.
  Result<std::vector<RequestedRule>> rules = Parse(
      "IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=0&IpPermissions.1.ToPort=0"
      "&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  EXPECT_EQ((*rules)[0].rule.from_port, 0);
}

TEST(IpPermissionsTest, BadPermissionsAreRefused) {
  const std::string p = "IpPermissions.1.";
  EXPECT_EC2_CODE(Parse(""), "MissingParameter");
  EXPECT_EC2_CODE(Parse(p + "IpProtocol=tcp&" + p + "FromPort=1&" + p + "ToPort=2"),
                  "MissingParameter");
  EXPECT_EC2_CODE(Parse(p + "FromPort=1&" + p + "IpRanges.1.CidrIp=0.0.0.0/0"), "MissingParameter");
  EXPECT_EC2_CODE(Parse(p + "IpProtocol=tcp&" + p + "IpRanges.1.CidrIp=0.0.0.0/0"),
                  "InvalidParameterValue");
  EXPECT_EC2_CODE(Parse(p + "IpProtocol=tcp&" + p + "FromPort=80&" + p + "ToPort=22&" + p +
                        "IpRanges.1.CidrIp=0.0.0.0/0"),
                  "InvalidParameterValue");
  EXPECT_EC2_CODE(Parse(p + "IpProtocol=tcp&" + p + "FromPort=1&" + p + "ToPort=70000&" + p +
                        "IpRanges.1.CidrIp=0.0.0.0/0"),
                  "InvalidParameterValue");
  EXPECT_EC2_CODE(
      Parse(p + "IpProtocol=icmp&" + p + "FromPort=300&" + p + "IpRanges.1.CidrIp=0.0.0.0/0"),
      "InvalidParameterValue");
  EXPECT_EC2_CODE(Parse(p + "IpProtocol=tcpp&" + p + "IpRanges.1.CidrIp=0.0.0.0/0"),
                  "InvalidParameterValue");
  EXPECT_EC2_CODE(Parse(p + "IpProtocol=-1&" + p + "IpRanges.1.CidrIp=10.0.0.1/8"),
                  "InvalidParameterValue");
  EXPECT_EC2_CODE(Parse(p + "IpProtocol=-1&" + p + "Groups.1.Description=x"), "MissingParameter");
  EXPECT_EC2_CODE(Parse("IpProtocol=tcp&FromPort=1&ToPort=1"), "MissingParameter");
  EXPECT_EC2_CODE(Parse("CidrIp=0.0.0.0/0&SourceSecurityGroupName=x"),
                  "InvalidParameterCombination");
}

}  // namespace
}  // namespace kiln::actions
