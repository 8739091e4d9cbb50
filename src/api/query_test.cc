#include "api/query.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

QueryParams Q(std::string_view s) {
  auto q = QueryParams::Parse(s);
  EXPECT_TRUE(q.ok()) << s << ": " << q.status().ToString();
  return q.ok() ? *q : QueryParams();
}

std::string Ec2Code(const Status& s) { return s.ec2_code().value_or("<none>"); }

TEST(QueryParamsTest, DecodesFormEncoding) {
  QueryParams q = Q("Action=CreateImage&Name=web+2024%2F01%20%28a%29&Description=%E2%82%AC&Flag");
  EXPECT_EQ(q.Get("Action"), "CreateImage");
  EXPECT_EQ(q.Get("Name"), "web 2024/01 (a)");
  EXPECT_EQ(q.Get("Description"), "\xE2\x82\xAC");
  EXPECT_TRUE(q.Has("Flag"));
  EXPECT_EQ(q.Get("Flag"), std::nullopt) << "no value";
  EXPECT_EQ(q.Get("Missing"), std::nullopt);
  EXPECT_FALSE(q.Has("Missing"));
  EXPECT_EQ(q.names(), (std::vector<std::string>{"Action", "Description", "Flag", "Name"}));
  EXPECT_EQ(Q("").size(), 0u);
  EXPECT_EQ(Q("&&a=1&&").Get("a"), "1") << "empty pairs are skipped";
  EXPECT_EQ(Q("a=b=c").Get("a"), "b=c");
  EXPECT_EQ(Q("a=%00").Get("a"), std::string(1, '\0'));
}

// Packer sends `VpcId=`: unset, but still a parameter name the action layer must know.
TEST(QueryParamsTest, EmptyValuesMeanUnset) {
  QueryParams q = Q("VpcId=&Placement.AvailabilityZone=&ImageId.1=&ImageId.2=ami-1");
  EXPECT_EQ(q.Get("VpcId"), std::nullopt);
  EXPECT_TRUE(q.Has("VpcId"));
  EXPECT_EQ(q.List("ImageId").value(), std::vector<std::string>{"ami-1"});
  EXPECT_EQ(q.Struct("Placement").Get("AvailabilityZone"), std::nullopt);
}

// The botocore serializer's CreateImage body from reference/ec2-api-notes.md.
TEST(QueryParamsTest, Ec2ListsAndStructures) {
  QueryParams q =
      Q("Action=CreateImage&Version=2016-11-15&InstanceId=i-1234567890abcdef0&Name=web-2024.01"
        "&NoReboot=true&BlockDeviceMapping.1.DeviceName=/dev/sdf&BlockDeviceMapping.1.NoDevice="
        "&BlockDeviceMapping.2.DeviceName=/dev/sdb&BlockDeviceMapping.2.VirtualName=ephemeral0"
        "&BlockDeviceMapping.3.DeviceName=/dev/sdg&BlockDeviceMapping.3.Ebs.VolumeSize=100"
        "&BlockDeviceMapping.10.DeviceName=/dev/sdj"
        "&TagSpecification.1.ResourceType=image&TagSpecification.1.Tag.1.Key=Name"
        "&TagSpecification.1.Tag.1.Value=web&TagSpecification.1.Tag.2.Key=Team");
  auto bdm = q.Structs("BlockDeviceMapping");
  ASSERT_TRUE(bdm.ok());
  ASSERT_EQ(bdm->size(), 4u);
  EXPECT_EQ((*bdm)[0].Get("DeviceName"), "/dev/sdf");
  EXPECT_TRUE((*bdm)[0].Has("NoDevice"));
  EXPECT_EQ((*bdm)[1].Get("VirtualName"), "ephemeral0");
  EXPECT_EQ((*bdm)[2].Struct("Ebs").Get("VolumeSize"), "100");
  EXPECT_EQ((*bdm)[3].Get("DeviceName"), "/dev/sdj") << "10 sorts after 3, numerically";
  auto specs = q.Structs("TagSpecification");
  ASSERT_TRUE(specs.ok());
  ASSERT_EQ(specs->size(), 1u);
  auto tags = (*specs)[0].Structs("Tag");
  ASSERT_TRUE(tags.ok());
  ASSERT_EQ(tags->size(), 2u);
  EXPECT_EQ((*tags)[0].Get("Value"), "web");
  EXPECT_EQ((*tags)[1].Get("Key"), "Team");
  EXPECT_EQ((*tags)[1].Get("Value"), std::nullopt);
  EXPECT_TRUE(q.Structs("Filter").value().empty());
  EXPECT_TRUE(q.List("ImageId").value().empty());
  // A prefix that is only a prefix of another name is not a list of it.
  EXPECT_TRUE(Q("Filters.1.Name=x").Structs("Filter").value().empty());
}

TEST(QueryParamsTest, FilterValues) {
  QueryParams q =
      Q("Filter.1.Name=name&Filter.1.Value.1=web-*&Filter.1.Value.2=db-?"
        "&Filter.2.Name=tag%3AEnv&Filter.2.Value.1=prod");
  auto filters = q.Structs("Filter").value();
  ASSERT_EQ(filters.size(), 2u);
  EXPECT_EQ(filters[0].List("Value").value(), (std::vector<std::string>{"web-*", "db-?"}));
  EXPECT_EQ(filters[1].Get("Name"), "tag:Env");
}

TEST(QueryParamsTest, MalformedInputIsMalformedQueryString) {
  for (const std::string bad : {"a=%", "a=%4", "a=%zz", "%G0=1", "=x", "a=1&a=2", "a=1&%61=2"}) {
    auto q = QueryParams::Parse(bad);
    ASSERT_FALSE(q.ok()) << bad;
    EXPECT_EQ(q.status().code(), Code::kInvalidArgument) << bad;
    EXPECT_EQ(Ec2Code(q.status()), "MalformedQueryString") << bad;
  }
}

TEST(QueryParamsTest, LimitsAreEnforcedAtTheirEdges) {
  QueryLimits limits{.max_bytes = 64, .max_params = 3, .max_name_bytes = 4, .max_value_bytes = 5};
  EXPECT_TRUE(QueryParams::Parse("abcd=12345&b=1&c=2", limits).ok());
  EXPECT_FALSE(QueryParams::Parse("abcde=1", limits).ok()) << "name too long";
  EXPECT_FALSE(QueryParams::Parse("a=123456", limits).ok()) << "value too long";
  EXPECT_FALSE(QueryParams::Parse("a=%31%32%33%34%35%36", limits).ok()) << "decoded length counts";
  EXPECT_FALSE(QueryParams::Parse("a=1&b=1&c=1&d=1", limits).ok()) << "too many";
  EXPECT_FALSE(QueryParams::Parse(std::string(65, 'a'), limits).ok()) << "too large";
}

TEST(QueryParamsTest, BadListIndexesAreInvalidParameterValue) {
  for (const std::string bad : {"ImageId.0=a", "ImageId.01=a", "ImageId.x=a", "ImageId.-1=a",
                                "ImageId.=a", "ImageId.1234567890=a", "ImageId.1.Extra=a"}) {
    auto list = Q(bad).List("ImageId");
    ASSERT_FALSE(list.ok()) << bad;
    EXPECT_EQ(Ec2Code(list.status()), "InvalidParameterValue") << bad;
  }
  for (const std::string bad : {"Filter.1=a", "Filter.1.=a", "Filter.0.Name=a"}) {
    auto s = Q(bad).Structs("Filter");
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(Ec2Code(s.status()), "InvalidParameterValue") << bad;
  }
}

}  // namespace
}  // namespace kiln
