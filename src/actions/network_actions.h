// The network actions: VPCs and subnets (read-only: every account has its default network,
// actions/default_network.h) and security groups, with EC2's parameters, errors and response
// shapes (botocore's 2016-11-15 model). Every action first makes sure the caller's default
// network exists.
//
//   DescribeVpcs        VpcId.N (InvalidVpcID.NotFound), Filter.N (vpc-id, owner-id, state,
//                       cidr, cidr-block-association.cidr-block, .association-id, .state,
//                       dhcp-options-id, is-default, tag:KEY, tag-key, tag-value),
//                       MaxResults (5..1000) / NextToken.
//   DescribeSubnets     SubnetId.N (InvalidSubnetID.NotFound), Filter.N (subnet-id, vpc-id,
//                       owner-id, state, cidr-block, availability-zone, availability-zone-id,
//                       default-for-az, map-public-ip-on-launch, subnet-arn, tags), paging.
//   DescribeSecurityGroups GroupId.N (InvalidGroup.NotFound; malformed: InvalidGroupId.Malformed),
//                       GroupName.N (in the default VPC), Filter.N (group-id, group-name,
//                       description, vpc-id, owner-id, [egress.]ip-permission.protocol,
//                       .from-port, .to-port, .cidr, .group-id, tags), paging.
//   CreateSecurityGroup GroupName*, GroupDescription* (each 1..255 of EC2's characters
//                       a-zA-Z0-9 space ._-:/()#,@[]+=&;{}!$*; a name may not start with
//                       "sg-"), VpcId (default: the default VPC; InvalidVpcID.NotFound),
//                       TagSpecification.N (security-group). InvalidGroup.Duplicate for a name
//                       the VPC has. The group allows all egress. Answers groupId.
//   DeleteSecurityGroup GroupId or GroupName (default VPC). CannotDelete for a "default" group;
//                       DependencyViolation while an instance (not terminated) is in it or
//                       another group's rule references it.
//   Authorize/RevokeSecurityGroupIngress, Authorize/RevokeSecurityGroupEgress
//                       GroupId (ingress: or GroupName), IpPermissions.N or the flat form
//                       (actions/ip_permissions.h). InvalidPermission.Duplicate when a rule
//                       exists (all or nothing); revoke: InvalidPermission.NotFound when one
//                       does not, or SecurityGroupRuleId.N. A referenced group must exist in
//                       the same VPC (InvalidGroup.NotFound).
//
// Mutating actions validate, then honour DryRun. Each account sees and changes only its own
// network; another account's group, VPC or subnet is "not found".
//
// The handlers use `catalog`, which must outlive them; `region` names the zones of the default
// subnets and the ARNs. Thread-safety: handlers may run concurrently.
#pragma once

#include <string>
#include <vector>

#include "api/action.h"
#include "catalog/catalog.h"

namespace kiln {

// Every action above.
std::vector<Action> NetworkActions(Catalog& catalog, const std::string& region);

// The security group actions alone (NetworkActions includes them), and of those the four that
// change rules (SecurityGroupActions includes them).
std::vector<Action> SecurityGroupActions(Catalog& catalog, const std::string& region);
std::vector<Action> SecurityGroupRuleActions(Catalog& catalog, const std::string& region);

}  // namespace kiln
