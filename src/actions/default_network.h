// An account's default network, as EC2 gives every account in a region: a default VPC
// (172.31.0.0/16), one default subnet per availability zone (172.31.0.0/20, .16.0/20, .32.0/20
// in <region>a, b, c, whose zone ids are <prefix>-az1..3 as DescribeAvailabilityZones shows),
// and the VPC's security group "default" (all egress; ingress from itself).
//
// kiln makes it the first time an action needs it (DescribeVpcs, CreateSecurityGroup,
// RunInstances, ...), in one catalog transaction: concurrent first requests, in this process or
// another, end with exactly one default network, and the ids are EC2's forms (vpc-, subnet-,
// sg-, sgr- + 17 hex).
//
// Thread-safety: safe to call from many threads (the catalog serializes the work).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "catalog/catalog.h"
#include "catalog/records.h"

namespace kiln::actions {

// The name of every VPC's default security group (it cannot be deleted: CannotDelete).
inline constexpr char kDefaultGroupName[] = "default";

// One availability zone of a region, with the CIDR block of its default subnet.
struct DefaultZone {
  std::string name;    // "us-east-1a"
  std::string id;      // "use1-az1"
  std::string subnet;  // "172.31.0.0/20"
};

// The region's zones, in order (the same three DescribeAvailabilityZones lists).
std::vector<DefaultZone> DefaultZones(const std::string& region);

// The account's default VPC, made (with its subnets and default group) if it has none yet.
// Errors: the catalog's (e.g. FailedPrecondition if the account does not exist).
Result<Vpc> EnsureDefaultVpc(Catalog& catalog, const std::string& account_id,
                             const std::string& region);

// The default group of `vpc_id`; NotFound if it has none.
Result<SecurityGroup> DefaultSecurityGroup(Catalog& catalog, const std::string& vpc_id);

// The rule every new security group gets, and the default group's: all traffic out to anywhere.
Result<SecurityGroupRule> AllowAllEgress();

}  // namespace kiln::actions
