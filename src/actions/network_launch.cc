#include "actions/network_launch.h"

#include <algorithm>

#include "actions/action_common.h"
#include "actions/default_network.h"
#include "actions/security_group_lookup.h"

namespace kiln::actions {
namespace {

Result<Subnet> ChosenSubnet(Catalog& catalog, const Caller& caller, const std::string& region,
                            const Vpc& default_vpc, const QueryParams& params) {
  const std::optional<std::string> subnet_id = params.Get("SubnetId");
  const std::optional<std::string> zone = params.Get("Placement.AvailabilityZone");
  if (zone) {
    const std::vector<DefaultZone> zones = DefaultZones(region);
    if (std::none_of(zones.begin(), zones.end(),
                     [&](const DefaultZone& z) { return z.name == *zone; })) {
      return Ec2Error("InvalidParameterValue", "Invalid availability zone: [" + *zone + "]");
    }
  }
  if (subnet_id) {
    Result<Subnet> subnet = catalog.vpcs().GetSubnet(*subnet_id);
    if (!subnet.ok() && subnet.status().code() != Code::kNotFound) return subnet.status();
    if (!subnet.ok() || subnet->owner_id != caller.account_id) {
      return Ec2Error("InvalidSubnetID.NotFound",
                      "The subnet ID '" + *subnet_id + "' does not exist");
    }
    if (zone && *zone != subnet->availability_zone) {
      return Ec2Error("InvalidParameterCombination",
                      "The specified Availability Zone (" + *zone + ") does not match subnet " +
                          subnet->subnet_id + "'s (" + subnet->availability_zone + ")");
    }
    return subnet;
  }
  const std::string wanted = zone.value_or(DefaultZones(region).front().name);
  ASSIGN_OR_RETURN(std::vector<Subnet> subnets,
                   catalog.vpcs().ListSubnets(ListQuery{.owner_id = caller.account_id}));
  for (const Subnet& s : subnets) {
    if (s.vpc_id == default_vpc.vpc_id && s.default_for_az && s.availability_zone == wanted) {
      return s;
    }
  }
  return Ec2Error("InvalidParameterValue", "No default subnet for availability zone " + wanted);
}

Result<std::vector<GroupIdentifier>> ChosenGroups(Catalog& catalog, const Caller& caller,
                                                  const std::string& vpc_id,
                                                  const QueryParams& params) {
  ASSIGN_OR_RETURN(std::vector<std::string> ids, params.List("SecurityGroupId"));
  ASSIGN_OR_RETURN(std::vector<std::string> names, params.List("SecurityGroup"));
  std::vector<SecurityGroup> groups;
  for (const std::string& id : ids) {
    ASSIGN_OR_RETURN(SecurityGroup g, OwnedGroup(catalog, caller, id));
    if (g.vpc_id != vpc_id) {
      return Ec2Error("InvalidParameter", "Security group " + id +
                                              " and the subnet belong to "
                                              "different networks.");
    }
    groups.push_back(std::move(g));
  }
  for (const std::string& name : names) {
    ASSIGN_OR_RETURN(SecurityGroup g, NamedGroup(catalog, vpc_id, name));
    groups.push_back(std::move(g));
  }
  if (groups.empty()) {
    ASSIGN_OR_RETURN(SecurityGroup g, DefaultSecurityGroup(catalog, vpc_id));
    groups.push_back(std::move(g));
  }
  std::vector<GroupIdentifier> out;
  for (const SecurityGroup& g : groups) {
    const bool seen = std::any_of(
        out.begin(), out.end(), [&](const GroupIdentifier& o) { return o.group_id == g.group_id; });
    if (!seen) out.push_back(GroupIdentifier{g.group_id, g.group_name});
  }
  return out;
}

}  // namespace

Result<LaunchNetwork> ResolveLaunchNetwork(Catalog& catalog, const Caller& caller,
                                           const std::string& region, const QueryParams& params) {
  ASSIGN_OR_RETURN(Vpc default_vpc, EnsureDefaultVpc(catalog, caller.account_id, region));
  ASSIGN_OR_RETURN(Subnet subnet, ChosenSubnet(catalog, caller, region, default_vpc, params));
  LaunchNetwork out{.vpc_id = subnet.vpc_id,
                    .subnet_id = subnet.subnet_id,
                    .availability_zone = subnet.availability_zone};
  ASSIGN_OR_RETURN(out.security_groups, ChosenGroups(catalog, caller, subnet.vpc_id, params));
  return out;
}

Result<std::string> ShutdownBehaviorParam(const QueryParams& params) {
  const std::string v = params.Get("InstanceInitiatedShutdownBehavior").value_or("stop");
  if (v == "stop" || v == "terminate") return v;
  return Ec2Error("InvalidParameterValue",
                  "Value (" + v +
                      ") for parameter InstanceInitiatedShutdownBehavior is invalid. "
                      "Expected: 'stop' or 'terminate'.");
}

}  // namespace kiln::actions
