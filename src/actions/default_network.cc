#include "actions/default_network.h"

#include "catalog/ids.h"

namespace kiln::actions {
namespace {

// "us-east-1" -> "use1": the prefix of EC2's zone ids, as api/static_actions.cc makes them for
// DescribeAvailabilityZones (kept in step with it).
std::string ZoneIdPrefix(const std::string& region) {
  const size_t a = region.find('-');
  const size_t b = region.rfind('-');
  if (a == std::string::npos || a == b || b + 1 >= region.size()) return region;
  return region.substr(0, a) + region.substr(a + 1, 1) + region.substr(b + 1);
}

// EC2's association ids have a hyphenated prefix NewId does not take.
Result<std::string> AssociationId() {
  ASSIGN_OR_RETURN(std::string id, NewId("vpc"));
  return "vpc-cidr-assoc-" + id.substr(4);
}

Result<SecurityGroupRule> AllowFromGroup(const std::string& group_id, const std::string& owner_id) {
  ASSIGN_OR_RETURN(std::string rule_id, NewId("sgr"));
  return SecurityGroupRule{.rule_id = rule_id,
                           .ip_protocol = "-1",
                           .referenced_group_id = group_id,
                           .referenced_user_id = owner_id};
}

// Adds the whole default network inside `tx`.
Result<Vpc> MakeDefaultNetwork(Transaction& tx, const std::string& account_id,
                               const std::string& region) {
  Vpc vpc{.owner_id = account_id,
          .cidr_block = "172.31.0.0/16",
          .is_default = true,
          .state = "available"};
  ASSIGN_OR_RETURN(vpc.vpc_id, NewId("vpc"));
  ASSIGN_OR_RETURN(vpc.cidr_association_id, AssociationId());
  ASSIGN_OR_RETURN(vpc.dhcp_options_id, NewId("dopt"));
  RETURN_IF_ERROR(tx.vpcs().InsertVpc(vpc));
  for (const DefaultZone& zone : DefaultZones(region)) {
    Subnet subnet{.owner_id = account_id,
                  .vpc_id = vpc.vpc_id,
                  .cidr_block = zone.subnet,
                  .availability_zone = zone.name,
                  .availability_zone_id = zone.id,
                  .default_for_az = true,
                  .map_public_ip_on_launch = true,
                  .state = "available"};
    ASSIGN_OR_RETURN(subnet.subnet_id, NewId("subnet"));
    RETURN_IF_ERROR(tx.vpcs().InsertSubnet(subnet));
  }
  SecurityGroup group{.owner_id = account_id,
                      .vpc_id = vpc.vpc_id,
                      .group_name = kDefaultGroupName,
                      .description = "default VPC security group"};
  ASSIGN_OR_RETURN(group.group_id, NewId("sg"));
  ASSIGN_OR_RETURN(SecurityGroupRule ingress, AllowFromGroup(group.group_id, account_id));
  ASSIGN_OR_RETURN(SecurityGroupRule egress, AllowAllEgress());
  group.rules = {ingress, egress};
  RETURN_IF_ERROR(tx.security_groups().Insert(group));
  return vpc;
}

}  // namespace

std::vector<DefaultZone> DefaultZones(const std::string& region) {
  const std::string prefix = ZoneIdPrefix(region);
  return {{region + "a", prefix + "-az1", "172.31.0.0/20"},
          {region + "b", prefix + "-az2", "172.31.16.0/20"},
          {region + "c", prefix + "-az3", "172.31.32.0/20"}};
}

Result<SecurityGroupRule> AllowAllEgress() {
  ASSIGN_OR_RETURN(std::string rule_id, NewId("sgr"));
  return SecurityGroupRule{
      .rule_id = rule_id, .is_egress = true, .ip_protocol = "-1", .cidr_ipv4 = "0.0.0.0/0"};
}

Result<Vpc> EnsureDefaultVpc(Catalog& catalog, const std::string& account_id,
                             const std::string& region) {
  // The common case reads only; the transaction below serializes the first requests, and the
  // unique default-VPC index turns a race with another process into AlreadyExists.
  Result<Vpc> found = catalog.vpcs().FindDefaultVpc(account_id);
  if (found.status().code() != Code::kNotFound) return found;
  ASSIGN_OR_RETURN(Transaction tx, catalog.Begin());
  found = tx.vpcs().FindDefaultVpc(account_id);
  if (found.status().code() != Code::kNotFound) return found;
  Result<Vpc> made = MakeDefaultNetwork(tx, account_id, region);
  if (made.ok()) {
    RETURN_IF_ERROR(tx.Commit());
    return made;
  }
  tx.Rollback();
  if (made.status().code() == Code::kAlreadyExists) {
    return catalog.vpcs().FindDefaultVpc(account_id);
  }
  return made.status();
}

Result<SecurityGroup> DefaultSecurityGroup(Catalog& catalog, const std::string& vpc_id) {
  return catalog.security_groups().FindByName(vpc_id, kDefaultGroupName);
}

}  // namespace kiln::actions
