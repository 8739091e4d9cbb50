// The EC2 actions whose answers do not depend on what an account owns:
//
//   DescribeRegions            one region, `region` (endpoint ec2.<region>.amazonaws.com,
//                              opt-in-not-required); RegionName.N, AllRegions, Filter.N
//                              (region-name, endpoint, opt-in-status)
//   DescribeAvailabilityZones  <region>a, b and c (zone ids <abbrev>-az1..3, e.g. use1-az1),
//                              available; ZoneName.N, ZoneId.N, AllAvailabilityZones, Filter.N
//                              (zone-name, zone-id, state, region-name, zone-type, group-name,
//                              opt-in-status)
//   DescribeAccountAttributes  supported-platforms VPC, default-vpc (the caller's default VPC
//                              from `default_vpc`; none without it), max-instances 20,
//                              vpc-max-security-groups-per-interface 5, max-elastic-ips 5,
//                              vpc-max-elastic-ips 5; AttributeName.N
//   DescribeInstanceTypes      the catalog of api/instance_types.h; InstanceType.N, Filter.N
//                              (instance-type, current-generation, instance-storage-supported,
//                              ebs-info.encryption-support, vcpu-info.default-vcpus,
//                              memory-info.size-in-mib, hypervisor, free-tier-eligible),
//                              MaxResults (5..100) and NextToken, IncludeUnsupportedInRegion
//
// Errors (EC2 codes): InvalidParameterValue for an unknown region, zone, zone id, attribute
// name, filter name or a malformed MaxResults; InvalidInstanceType for an unknown
// InstanceType.N; InvalidPaginationToken for a NextToken this action did not hand out.
//
// Thread-safety: the handlers keep no state; call them from any thread.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "api/action.h"
#include "base/status.h"

namespace kiln {

// The id of an account's default VPC (kilnd makes it on first use); an error is the request's.
using DefaultVpcLookup = std::function<Result<std::string>(const std::string& account_id)>;

std::vector<Action> StaticActions(std::string region, DefaultVpcLookup default_vpc = {});

// DescribeInstanceTypes alone (static_actions includes it).
Action DescribeInstanceTypesAction();

}  // namespace kiln
