// Authorize/Revoke SecurityGroupIngress/Egress through the actions, and DeleteSecurityGroup's
// DependencyViolation.
#include <gtest/gtest.h>

#include "actions/actions_testing.h"
#include "actions/network_actions.h"

namespace kiln {
namespace {

using actions_testing::Element;
using actions_testing::Elements;
using actions_testing::Enc;

class SecurityGroupRulesTest : public actions_testing::ActionsTest {
 protected:
  void SetUp() override {
    ActionsTest::SetUp();
    actions_ = NetworkActions(catalog(), "us-east-1");
    web_ = Create("web");
    db_ = Create("db");
  }
  Result<std::string> Call(const std::string& query, const Caller* caller = nullptr) {
    return actions_testing::Call(actions_, caller ? *caller : owner_, query);
  }
  std::string Create(const std::string& name, const Caller* caller = nullptr) {
    Result<std::string> xml =
        Call("Action=CreateSecurityGroup&GroupName=" + name + "&GroupDescription=d", caller);
    EXPECT_TRUE(xml.ok()) << xml.status().ToString();
    return xml.ok() ? Element(*xml, "groupId") : "";
  }
  std::string Describe(const std::string& id) {
    Result<std::string> xml = Call("Action=DescribeSecurityGroups&GroupId.1=" + id);
    EXPECT_TRUE(xml.ok()) << xml.status().ToString();
    return xml.ok() ? *xml : std::string();
  }

  std::vector<Action> actions_;
  std::string web_, db_;
};

constexpr char kSsh[] =
    "&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=22&IpPermissions.1.ToPort=22"
    "&IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0/8&IpPermissions.1.IpRanges.1.Description=ssh"
    "&IpPermissions.1.IpRanges.2.CidrIp=192.168.0.0/16";

TEST_F(SecurityGroupRulesTest, AuthorizeShowsRulesMergedByPortsAndRefusesDuplicates) {
  Result<std::string> xml = Call("Action=AuthorizeSecurityGroupIngress&GroupId=" + web_ + kSsh);
  ASSERT_TRUE(xml.ok()) << xml.status().ToString();
  EXPECT_EQ(Element(*xml, "return"), "true");
  EXPECT_EQ(Elements(*xml, "securityGroupRuleId").size(), 2u);
  EXPECT_EQ(Element(*xml, "cidrIpv4"), "10.0.0.0/8");
  EXPECT_EQ(Element(*xml, "isEgress"), "false");
  EXPECT_EQ(Element(*xml, "groupOwnerId"), catalog_testing::kOwner);
  // By name, from another group, in the legacy flat form too.
  ASSERT_TRUE(Call("Action=AuthorizeSecurityGroupIngress&GroupName=web&IpProtocol=tcp"
                   "&FromPort=5432&ToPort=5432&SourceSecurityGroupName=db")
                  .ok());
  const std::string described = Describe(web_);
  const std::string ingress = Element(described, "ipPermissions");
  EXPECT_EQ(Elements(ingress, "ipProtocol"), (std::vector<std::string>{"tcp", "tcp"}));
  EXPECT_EQ(Elements(ingress, "cidrIp"),
            (std::vector<std::string>{"10.0.0.0/8", "192.168.0.0/16"}));
  EXPECT_EQ(Elements(ingress, "fromPort"), (std::vector<std::string>{"22", "5432"}));
  EXPECT_EQ(Elements(ingress, "groupId"), std::vector<std::string>{db_});
  // Duplicates, all or nothing: the new 443 rule is not added either.
  EXPECT_EC2_CODE(Call("Action=AuthorizeSecurityGroupIngress&GroupId=" + web_ +
                       "&IpProtocol=tcp&FromPort=22&ToPort=22&CidrIp=10.0.0.0/8"),
                  "InvalidPermission.Duplicate");
  EXPECT_EC2_CODE(Call("Action=AuthorizeSecurityGroupIngress&GroupId=" + web_ + kSsh +
                       "&IpPermissions.2.IpProtocol=tcp&IpPermissions.2.FromPort=443"
                       "&IpPermissions.2.ToPort=443&IpPermissions.2.IpRanges.1.CidrIp=0.0.0.0/0"),
                  "InvalidPermission.Duplicate");
  EXPECT_EQ(Describe(web_).find("443"), std::string::npos);
  // Bad input and missing groups.
  EXPECT_EC2_CODE(Call("Action=AuthorizeSecurityGroupIngress&GroupId=" + web_ +
                       "&IpProtocol=tcp&FromPort=1&ToPort=1&CidrIp=10.0.0.0/33"),
                  "InvalidParameterValue");
  EXPECT_EC2_CODE(
      Call("Action=AuthorizeSecurityGroupIngress&GroupId=sg-0123456789abcdef0" + std::string(kSsh)),
      "InvalidGroup.NotFound");
  EXPECT_EC2_CODE(Call("Action=AuthorizeSecurityGroupIngress&GroupId=" + web_ +
                       "&IpPermissions.1.IpProtocol=-1"
                       "&IpPermissions.1.Groups.1.GroupId=sg-0123456789abcdef0"),
                  "InvalidGroup.NotFound");
  EXPECT_EC2_CODE(Call("Action=AuthorizeSecurityGroupIngress&GroupId=" + web_ + kSsh, &other_),
                  "InvalidGroup.NotFound");
}

TEST_F(SecurityGroupRulesTest, EgressAndRevoke) {
  // A new group allows all egress; revoke it, add a narrower one.
  const std::string all_out =
      "&IpPermissions.1.IpProtocol=-1&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0";
  Result<std::string> revoked = Call("Action=RevokeSecurityGroupEgress&GroupId=" + web_ + all_out);
  ASSERT_TRUE(revoked.ok()) << revoked.status().ToString();
  EXPECT_EQ(Element(*revoked, "isEgress"), "true");
  EXPECT_EQ(Element(Describe(web_), "ipPermissionsEgress"), "");
  EXPECT_EC2_CODE(Call("Action=RevokeSecurityGroupEgress&GroupId=" + web_ + all_out),
                  "InvalidPermission.NotFound");
  Result<std::string> added = Call("Action=AuthorizeSecurityGroupEgress&GroupId=" + web_ +
                                   "&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=443"
                                   "&IpPermissions.1.ToPort=443"
                                   "&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0");
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  const std::string rule_id = Element(*added, "securityGroupRuleId");
  // Ingress revoke does not see egress rules; by id does.
  EXPECT_EC2_CODE(Call("Action=RevokeSecurityGroupIngress&GroupId=" + web_ +
                       "&SecurityGroupRuleId.1=" + rule_id),
                  "InvalidSecurityGroupRuleId.NotFound");
  ASSERT_TRUE(
      Call("Action=RevokeSecurityGroupEgress&GroupId=" + web_ + "&SecurityGroupRuleId.1=" + rule_id)
          .ok());
  // Ingress: a missing one among several fails the whole revoke.
  ASSERT_TRUE(Call("Action=AuthorizeSecurityGroupIngress&GroupId=" + web_ + kSsh).ok());
  EXPECT_EC2_CODE(Call("Action=RevokeSecurityGroupIngress&GroupId=" + web_ + kSsh +
                       "&IpPermissions.1.IpRanges.3.CidrIp=1.1.1.1/32"),
                  "InvalidPermission.NotFound");
  EXPECT_EQ(Elements(Element(Describe(web_), "ipPermissions"), "cidrIp").size(), 2u);
  Result<std::string> gone =
      Call("Action=RevokeSecurityGroupIngress&GroupName=web" + std::string(kSsh));
  ASSERT_TRUE(gone.ok()) << gone.status().ToString();
  EXPECT_EQ(Elements(*gone, "securityGroupRuleId").size(), 2u);
  EXPECT_EQ(Element(Describe(web_), "ipPermissions"), "");
  // Egress takes no GroupName.
  EXPECT_EC2_CODE(Call("Action=AuthorizeSecurityGroupEgress" + all_out), "MissingParameter");
}

TEST_F(SecurityGroupRulesTest, DeleteIsRefusedWhileUsed) {
  ASSERT_TRUE(Call("Action=AuthorizeSecurityGroupIngress&GroupId=" + web_ +
                   "&IpPermissions.1.IpProtocol=-1&IpPermissions.1.Groups.1.GroupId=" + db_)
                  .ok());
  EXPECT_EC2_CODE(Call("Action=DeleteSecurityGroup&GroupId=" + db_), "DependencyViolation");
  ASSERT_TRUE(Call("Action=RevokeSecurityGroupIngress&GroupId=" + web_ +
                   "&IpPermissions.1.IpProtocol=-1&IpPermissions.1.Groups.1.GroupId=" + db_)
                  .ok());
  Instance inst = catalog_testing::MakeInstance();
  inst.security_groups = {{db_, ""}};
  ASSERT_TRUE(catalog().instances().Insert(inst).ok());
  EXPECT_EC2_CODE(Call("Action=DeleteSecurityGroup&GroupId=" + db_), "DependencyViolation");
  ASSERT_TRUE(
      catalog()
          .instances()
          .UpdateState(inst.instance_id, InstanceState::kPending, InstanceState::kTerminated)
          .ok());
  EXPECT_TRUE(Call("Action=DeleteSecurityGroup&GroupId=" + db_).ok());
}

}  // namespace
}  // namespace kiln
