#include "catalog/vpc_table.h"

#include <gtest/gtest.h>

#include "catalog/catalog_testing.h"

namespace kiln {
namespace {

using catalog_testing::CatalogTest;
using catalog_testing::Id;
using catalog_testing::kOther;
using catalog_testing::kOwner;

Vpc MakeVpc(const std::string& owner = kOwner, bool is_default = true) {
  return Vpc{.vpc_id = Id("vpc"),
             .owner_id = owner,
             .cidr_block = "172.31.0.0/16",
             .cidr_association_id = "vpc-cidr-assoc-0123456789abcdef0",
             .dhcp_options_id = Id("dopt"),
             .is_default = is_default,
             .state = "available"};
}

Subnet MakeSubnet(const Vpc& vpc, const std::string& zone, bool default_for_az = true) {
  return Subnet{.subnet_id = Id("subnet"),
                .owner_id = vpc.owner_id,
                .vpc_id = vpc.vpc_id,
                .cidr_block = "172.31.0.0/20",
                .availability_zone = zone,
                .availability_zone_id = "use1-az1",
                .default_for_az = default_for_az,
                .map_public_ip_on_launch = true,
                .state = "available"};
}

using VpcTableTest = CatalogTest;

TEST_F(VpcTableTest, InsertGetFindList) {
  EXPECT_CODE(catalog().vpcs().FindDefaultVpc(kOwner), kNotFound);
  Vpc vpc = MakeVpc();
  ASSERT_OK(catalog().vpcs().InsertVpc(vpc));
  EXPECT_EQ(catalog().vpcs().GetVpc(vpc.vpc_id).value(), vpc);
  EXPECT_EQ(catalog().vpcs().FindDefaultVpc(kOwner).value(), vpc);
  EXPECT_CODE(catalog().vpcs().FindDefaultVpc(kOther), kNotFound);
  ASSERT_OK(catalog().vpcs().InsertVpc(MakeVpc(kOwner, /*is_default=*/false)));
  ASSERT_OK(catalog().vpcs().InsertVpc(MakeVpc(kOther)));
  EXPECT_EQ(catalog().vpcs().ListVpcs({.owner_id = kOwner})->size(), 2u);
  EXPECT_EQ(catalog().vpcs().ListVpcs({.ids = {vpc.vpc_id}})->size(), 1u);
  EXPECT_CODE(catalog().vpcs().GetVpc(Id("vpc")), kNotFound);
  Reopen();
  EXPECT_EQ(catalog().vpcs().GetVpc(vpc.vpc_id).value(), vpc);
}

TEST_F(VpcTableTest, OneDefaultVpcPerOwner) {
  ASSERT_OK(catalog().vpcs().InsertVpc(MakeVpc()));
  EXPECT_CODE(catalog().vpcs().InsertVpc(MakeVpc()), kAlreadyExists);
  EXPECT_OK(catalog().vpcs().InsertVpc(MakeVpc(kOwner, /*is_default=*/false)));
}

TEST_F(VpcTableTest, MalformedVpcsAreRefused) {
  Vpc bad = MakeVpc();
  bad.vpc_id = "vpc-x";
  EXPECT_CODE(catalog().vpcs().InsertVpc(bad), kInvalidArgument);
  bad = MakeVpc();
  bad.cidr_block = "";
  EXPECT_CODE(catalog().vpcs().InsertVpc(bad), kInvalidArgument);
  bad = MakeVpc();
  bad.state = "gone";
  EXPECT_CODE(catalog().vpcs().InsertVpc(bad), kInvalidArgument);
  EXPECT_CODE(catalog().vpcs().InsertVpc(MakeVpc("999999999999")), kFailedPrecondition);
}

TEST_F(VpcTableTest, Subnets) {
  Vpc vpc = MakeVpc();
  ASSERT_OK(catalog().vpcs().InsertVpc(vpc));
  Subnet a = MakeSubnet(vpc, "us-east-1a");
  ASSERT_OK(catalog().vpcs().InsertSubnet(a));
  ASSERT_OK(catalog().vpcs().InsertSubnet(MakeSubnet(vpc, "us-east-1b")));
  EXPECT_EQ(catalog().vpcs().GetSubnet(a.subnet_id).value(), a);
  EXPECT_EQ(catalog().vpcs().ListSubnets({.owner_id = kOwner})->size(), 2u);
  EXPECT_TRUE(catalog().vpcs().ListSubnets({.owner_id = kOther})->empty());
  // One default subnet per zone; others in the zone are fine.
  EXPECT_CODE(catalog().vpcs().InsertSubnet(MakeSubnet(vpc, "us-east-1a")), kAlreadyExists);
  EXPECT_OK(catalog().vpcs().InsertSubnet(MakeSubnet(vpc, "us-east-1a", false)));
  // The VPC must exist and be the subnet owner's.
  Vpc missing = MakeVpc();
  EXPECT_CODE(catalog().vpcs().InsertSubnet(MakeSubnet(missing, "us-east-1a")),
              kFailedPrecondition);
  Subnet theirs = MakeSubnet(vpc, "us-east-1c");
  theirs.owner_id = kOther;
  EXPECT_CODE(catalog().vpcs().InsertSubnet(theirs), kFailedPrecondition);
  EXPECT_CODE(catalog().vpcs().GetSubnet(Id("subnet")), kNotFound);
}

}  // namespace
}  // namespace kiln
