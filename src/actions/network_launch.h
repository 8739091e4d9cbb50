// Where RunInstances puts an instance on the network, as EC2 decides it: the subnet (SubnetId,
// else the default subnet of the zone), its VPC and zone (Placement.AvailabilityZone, else the
// subnet's, else the region's first), and the security groups (SecurityGroupId.N and
// SecurityGroup.N names in the VPC; none: the VPC's default group). Also
// InstanceInitiatedShutdownBehavior.
//
// Errors (EC2 codes): InvalidSubnetID.NotFound for a subnet that does not exist or is another
// account's; InvalidParameterValue for an unknown zone; InvalidParameterCombination when
// Placement.AvailabilityZone contradicts the subnet's zone; InvalidGroupId.Malformed,
// InvalidGroup.NotFound for a group that does not exist, is another account's or is in another
// VPC than the subnet; InvalidParameterValue for a shutdown behaviour other than stop and
// terminate. Makes the caller's default network if it has none yet.
//
// Thread-safety: as the catalog's.
#pragma once

#include <string>
#include <vector>

#include "api/action.h"
#include "api/query.h"
#include "base/status.h"
#include "catalog/catalog.h"
#include "catalog/records.h"

namespace kiln::actions {

struct LaunchNetwork {
  std::string vpc_id{};
  std::string subnet_id{};
  std::string availability_zone{};
  std::vector<GroupIdentifier> security_groups{};  // with names
};

// Reads SubnetId, Placement.AvailabilityZone, SecurityGroupId.N and SecurityGroup.N.
Result<LaunchNetwork> ResolveLaunchNetwork(Catalog& catalog, const Caller& caller,
                                           const std::string& region, const QueryParams& params);

// InstanceInitiatedShutdownBehavior: "stop" (also when absent) or "terminate".
Result<std::string> ShutdownBehaviorParam(const QueryParams& params);

}  // namespace kiln::actions
