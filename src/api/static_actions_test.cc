// The static Describe actions, called as the front end calls them; the wire (real clients)
// is api_clients_test's.
#include "api/static_actions.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "api/instance_types.h"
#include "api/simple_filters.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class StaticActionsTest : public ::testing::Test {
 protected:
  StaticActionsTest() {
    for (Action& a : StaticActions("us-east-1")) actions_.emplace(a.name, std::move(a));
  }

  Result<std::string> Call(const std::string& action, const std::string& form) {
    Result<QueryParams> params = QueryParams::Parse(form);
    EXPECT_TRUE(params.ok()) << form;
    const Caller caller{"123456789012", "AKIAIOSFODNN7EXAMPLE", "us-east-1"};
    return actions_.at(action).handler(ActionRequest{caller, *params, "req-1"});
  }
  std::string Ok(const std::string& action, const std::string& form = "") {
    Result<std::string> r = Call(action, form);
    EXPECT_TRUE(r.ok()) << action << " " << form << ": " << r.status().ToString();
    return r.ok() ? *r : "";
  }
  std::string Code(const std::string& action, const std::string& form) {
    Result<std::string> r = Call(action, form);
    if (r.ok()) return "OK";
    return r.status().ec2_code().value_or("(none)");
  }
  static int Count(const std::string& body, const std::string& what) {
    int n = 0;
    for (size_t p = body.find(what); p != std::string::npos; p = body.find(what, p + 1)) ++n;
    return n;
  }

  std::map<std::string, Action> actions_;
};

TEST_F(StaticActionsTest, DeclaresTheFourActionsWithBotocoreWireNames) {
  ASSERT_EQ(actions_.size(), 4u);
  EXPECT_THAT(actions_.at("DescribeRegions").parameters, ::testing::Contains("RegionName.N"));
  EXPECT_THAT(actions_.at("DescribeAvailabilityZones").parameters,
              ::testing::IsSupersetOf({"ZoneName.N", "ZoneId.N", "AllAvailabilityZones"}));
  EXPECT_THAT(actions_.at("DescribeAccountAttributes").parameters,
              ::testing::Contains("AttributeName.N"));
  EXPECT_THAT(actions_.at("DescribeInstanceTypes").parameters,
              ::testing::IsSupersetOf({"InstanceType.N", "MaxResults", "NextToken"}));
}

TEST_F(StaticActionsTest, DescribeRegions) {
  const std::string all = Ok("DescribeRegions");
  EXPECT_THAT(all, HasSubstr("<DescribeRegionsResponse"));
  EXPECT_THAT(all, HasSubstr("<requestId>req-1</requestId>"));
  EXPECT_THAT(all, HasSubstr("<regionInfo><item><regionName>us-east-1</regionName>"
                             "<regionEndpoint>ec2.us-east-1.amazonaws.com</regionEndpoint>"
                             "<optInStatus>opt-in-not-required</optInStatus></item>"));
  EXPECT_EQ(Count(Ok("DescribeRegions", "RegionName.1=us-east-1&AllRegions=true"), "<item>"), 1);
  EXPECT_EQ(
      Count(Ok("DescribeRegions", "Filter.1.Name=region-name&Filter.1.Value.1=us-*"), "<item>"), 1);
  EXPECT_EQ(Count(Ok("DescribeRegions", "Filter.1.Name=endpoint&Filter.1.Value.1=x"), "<item>"), 0);
  EXPECT_EQ(Code("DescribeRegions", "RegionName.1=us-west-2"), "InvalidParameterValue");
  EXPECT_EQ(Code("DescribeRegions", "Filter.1.Name=colour&Filter.1.Value.1=x"),
            "InvalidParameterValue");
  EXPECT_EQ(Code("DescribeRegions", "Filter.1.Value.1=x"), "MissingParameter");
  EXPECT_EQ(Code("DescribeRegions", "AllRegions=yes"), "InvalidParameterValue");
}

TEST_F(StaticActionsTest, DescribeAvailabilityZones) {
  const std::string all = Ok("DescribeAvailabilityZones");
  EXPECT_EQ(Count(all, "<zoneState>available</zoneState>"), 3);
  for (const char* z : {"<zoneName>us-east-1a</zoneName><zoneId>use1-az1</zoneId>",
                        "<zoneName>us-east-1b</zoneName><zoneId>use1-az2</zoneId>",
                        "<zoneName>us-east-1c</zoneName><zoneId>use1-az3</zoneId>",
                        "<regionName>us-east-1</regionName>", "<groupName>us-east-1</groupName>",
                        "<networkBorderGroup>us-east-1</networkBorderGroup>",
                        "<zoneType>availability-zone</zoneType>"}) {
    EXPECT_THAT(all, HasSubstr(z));
  }
  const std::string b = Ok("DescribeAvailabilityZones", "ZoneName.1=us-east-1b");
  EXPECT_EQ(Count(b, "<zoneName>"), 1);
  EXPECT_THAT(b, HasSubstr("us-east-1b"));
  EXPECT_THAT(Ok("DescribeAvailabilityZones", "ZoneId.1=use1-az3"), HasSubstr("us-east-1c"));
  EXPECT_EQ(Count(Ok("DescribeAvailabilityZones",
                     "Filter.1.Name=zone-name&Filter.1.Value.1=*a&Filter.1.Value.2=*c"),
                  "<zoneName>"),
            2);
  EXPECT_EQ(Count(Ok("DescribeAvailabilityZones",
                     "Filter.1.Name=state&Filter.1.Value.1=available&"
                     "Filter.2.Name=zone-id&Filter.2.Value.1=use1-az?"),
                  "<zoneName>"),
            3);
  EXPECT_EQ(Count(Ok("DescribeAvailabilityZones", "Filter.1.Name=state&Filter.1.Value.1=impaired"),
                  "<zoneName>"),
            0);
  EXPECT_EQ(Code("DescribeAvailabilityZones", "ZoneName.1=us-east-1z"), "InvalidParameterValue");
  EXPECT_EQ(Code("DescribeAvailabilityZones", "ZoneId.1=use1-az9"), "InvalidParameterValue");
}

TEST_F(StaticActionsTest, ZonesFollowTheRegion) {
  std::vector<Action> eu = StaticActions("eu-west-1");
  Result<QueryParams> none = QueryParams::Parse("");
  const Caller caller{"123456789012", "AKIAIOSFODNN7EXAMPLE", "eu-west-1"};
  Result<std::string> r = eu[1].handler(ActionRequest{caller, *none, "r"});
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(*r, HasSubstr("<zoneName>eu-west-1a</zoneName><zoneId>euw1-az1</zoneId>"));
}

TEST_F(StaticActionsTest, DescribeAccountAttributes) {
  const std::string all = Ok("DescribeAccountAttributes");
  for (const char* a :
       {"<attributeName>supported-platforms</attributeName><attributeValueSet><item>"
        "<attributeValue>VPC</attributeValue></item></attributeValueSet>",
        "<attributeName>default-vpc</attributeName><attributeValueSet><item>"
        "<attributeValue>none</attributeValue>",
        "<attributeName>max-instances</attributeName><attributeValueSet><item>"
        "<attributeValue>20</attributeValue>",
        "<attributeName>vpc-max-security-groups-per-interface</attributeName>",
        "<attributeName>max-elastic-ips</attributeName>",
        "<attributeName>vpc-max-elastic-ips</attributeName>"}) {
    EXPECT_THAT(all, HasSubstr(a));
  }
  const std::string one = Ok("DescribeAccountAttributes", "AttributeName.1=max-instances");
  EXPECT_EQ(Count(one, "<attributeName>"), 1);
  EXPECT_THAT(one, HasSubstr("<attributeValue>20</attributeValue>"));
  EXPECT_EQ(Code("DescribeAccountAttributes", "AttributeName.1=max-cats"), "InvalidParameterValue");
}

TEST(StaticActionsDefaultVpcTest, DefaultVpcIsTheCallersFromTheLookup) {
  std::vector<std::string> asked;
  std::map<std::string, Action> actions;
  for (Action& a :
       StaticActions("us-east-1", [&](const std::string& account) -> Result<std::string> {
         asked.push_back(account);
         if (account == "210987654321") return IoError("catalog unreadable");
         return std::string("vpc-0123456789abcdef0");
       })) {
    actions.emplace(a.name, std::move(a));
  }
  auto call = [&](const std::string& account, const std::string& form) {
    const Caller caller{account, "AKIAIOSFODNN7EXAMPLE", "us-east-1"};
    return actions.at("DescribeAccountAttributes")
        .handler(ActionRequest{caller, *QueryParams::Parse(form), "req-1"});
  };
  Result<std::string> r = call("123456789012", "AttributeName.1=default-vpc");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(*r, HasSubstr("<attributeName>default-vpc</attributeName><attributeValueSet><item>"
                            "<attributeValue>vpc-0123456789abcdef0</attributeValue>"));
  EXPECT_EQ(asked, std::vector<std::string>{"123456789012"});
  // Not asked for default-vpc: no lookup (it may create the VPC).
  ASSERT_TRUE(call("123456789012", "AttributeName.1=max-instances").ok());
  EXPECT_EQ(asked.size(), 1u);
  // The lookup's error is the request's.
  Result<std::string> failed = call("210987654321", "");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), Code::kIoError);
}

TEST_F(StaticActionsTest, DescribeInstanceTypesListsTheCatalog) {
  const std::string all = Ok("DescribeInstanceTypes");
  std::vector<std::string> names;
  std::regex re("<instanceType>([^<]+)</instanceType>");
  for (auto it = std::sregex_iterator(all.begin(), all.end(), re); it != std::sregex_iterator();
       ++it) {
    names.push_back((*it)[1]);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"m1.small", "m5.large", "m5d.large", "t3.micro",
                                             "t3.small"}));
  EXPECT_THAT(all, Not(HasSubstr("<nextToken>")));
  ASSERT_NE(FindInstanceType("m5d.large"), nullptr);
  EXPECT_EQ(FindInstanceType("m5d.large")->instance_store_gb, 75);
  EXPECT_EQ(FindInstanceType("x1.huge"), nullptr);
}

TEST_F(StaticActionsTest, DescribeInstanceTypesRendersEachType) {
  const std::string m5d = Ok("DescribeInstanceTypes", "InstanceType.1=m5d.large");
  for (const char* s :
       {"<instanceType>m5d.large</instanceType><currentGeneration>true</currentGeneration>",
        "<vCpuInfo><defaultVCpus>2</defaultVCpus>", "<memoryInfo><sizeInMiB>8192</sizeInMiB>",
        "<instanceStorageSupported>true</instanceStorageSupported><instanceStorageInfo>"
        "<totalSizeInGB>75</totalSizeInGB><disks><item><sizeInGB>75</sizeInGB><count>1</count>"
        "<type>ssd</type></item></disks><nvmeSupport>required</nvmeSupport>",
        "<ebsInfo><ebsOptimizedSupport>default</ebsOptimizedSupport><encryptionSupport>"
        "supported</encryptionSupport>",
        "<hypervisor>nitro</hypervisor>",
        "<supportedArchitectures><item>x86_64</item></supportedArchitectures>"}) {
    EXPECT_THAT(m5d, HasSubstr(s));
  }
  const std::string m1 = Ok("DescribeInstanceTypes", "InstanceType.1=m1.small");
  for (const char* s :
       {"<currentGeneration>false</currentGeneration>", "<defaultVCpus>1</defaultVCpus>",
        "<sizeInMiB>1740</sizeInMiB>", "<totalSizeInGB>160</totalSizeInGB>", "<type>hdd</type>",
        "<ebsInfo><ebsOptimizedSupport>unsupported</ebsOptimizedSupport>"
        "<encryptionSupport>unsupported</encryptionSupport>",
        "<item>ebs</item><item>instance-store</item>", "<item>paravirtual</item>",
        "<hypervisor>xen</hypervisor>"}) {
    EXPECT_THAT(m1, HasSubstr(s));
  }
  const std::string t3 = Ok("DescribeInstanceTypes", "InstanceType.1=t3.micro");
  EXPECT_THAT(t3, HasSubstr("<instanceStorageSupported>false</instanceStorageSupported>"));
  EXPECT_THAT(t3, Not(HasSubstr("<instanceStorageInfo>")));
  EXPECT_THAT(t3, HasSubstr("<freeTierEligible>true</freeTierEligible>"));
  EXPECT_THAT(t3, HasSubstr("<sizeInMiB>1024</sizeInMiB>"));
  EXPECT_EQ(Code("DescribeInstanceTypes", "InstanceType.1=t3.micro&InstanceType.2=x1.huge"),
            "InvalidInstanceType");
}

TEST_F(StaticActionsTest, DescribeInstanceTypesFilters) {
  auto count = [&](const std::string& form) {
    return Count(Ok("DescribeInstanceTypes", form), "<instanceType>");
  };
  EXPECT_EQ(count("Filter.1.Name=current-generation&Filter.1.Value.1=false"), 1);
  EXPECT_EQ(count("Filter.1.Name=instance-storage-supported&Filter.1.Value.1=true"), 2);
  EXPECT_EQ(count("Filter.1.Name=ebs-info.encryption-support&Filter.1.Value.1=unsupported"), 1);
  EXPECT_EQ(count("Filter.1.Name=vcpu-info.default-vcpus&Filter.1.Value.1=2"), 4);
  EXPECT_EQ(count("Filter.1.Name=memory-info.size-in-mib&Filter.1.Value.1=8192"), 2);
  EXPECT_EQ(count("Filter.1.Name=instance-type&Filter.1.Value.1=t3.*"), 2);
  EXPECT_EQ(count("Filter.1.Name=instance-type&Filter.1.Value.1=m5*&"
                  "Filter.2.Name=instance-storage-supported&Filter.2.Value.1=true"),
            1);
  EXPECT_EQ(Code("DescribeInstanceTypes", "Filter.1.Name=gpu-info.count&Filter.1.Value.1=1"),
            "InvalidParameterValue");
}

TEST_F(StaticActionsTest, DescribeInstanceTypesPages) {
  EXPECT_EQ(Count(Ok("DescribeInstanceTypes", "MaxResults=5"), "<instanceType>"), 5);
  const std::string rest = Ok("DescribeInstanceTypes", "MaxResults=5&NextToken=m5d.large");
  EXPECT_EQ(Count(rest, "<instanceType>"), 3);
  EXPECT_THAT(rest, Not(HasSubstr("<nextToken>")));
  for (const char* bad : {"MaxResults=4", "MaxResults=101", "MaxResults=ten", "MaxResults=-5"}) {
    EXPECT_EQ(Code("DescribeInstanceTypes", bad), "InvalidParameterValue") << bad;
  }
  EXPECT_EQ(Code("DescribeInstanceTypes", "NextToken=bogus"), "InvalidPaginationToken");
  EXPECT_EQ(Code("DescribeInstanceTypes", "IncludeUnsupportedInRegion=1"), "InvalidParameterValue");
}

TEST(GlobMatchTest, StarsAndQuestionMarks) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("us-*", "us-east-1"));
  EXPECT_TRUE(GlobMatch("*-1?", "us-east-1a"));
  EXPECT_TRUE(GlobMatch("a*b*c", "aXXbYYc"));
  EXPECT_TRUE(GlobMatch("a*b", "abab"));
  EXPECT_TRUE(GlobMatch("exact", "exact"));
  EXPECT_FALSE(GlobMatch("exact", "exactly"));
  EXPECT_FALSE(GlobMatch("?", ""));
  EXPECT_FALSE(GlobMatch("a*c", "abcd"));
  EXPECT_TRUE(GlobMatch("a**", "a*"));
  EXPECT_FALSE(GlobMatch(std::string(30, '*') + "b", std::string(3000, 'a')));  // fast too
}

}  // namespace
}  // namespace kiln
