#include "actions/security_group_lookup.h"

#include "actions/action_common.h"
#include "actions/default_network.h"
#include "catalog/ids.h"

namespace kiln::actions {

Result<SecurityGroup> OwnedGroup(Catalog& catalog, const Caller& caller, const std::string& id) {
  if (!IsResourceId("sg", id)) {
    return Ec2Error("InvalidGroupId.Malformed",
                    "Invalid id: \"" + id + "\" (expecting \"sg-...\")");
  }
  Result<SecurityGroup> g = catalog.security_groups().Get(id);
  if (g.status().code() == Code::kNotFound || (g.ok() && g->owner_id != caller.account_id)) {
    return Ec2Error("InvalidGroup.NotFound", "The security group '" + id + "' does not exist");
  }
  return g;
}

Result<SecurityGroup> NamedGroup(Catalog& catalog, const std::string& vpc_id,
                                 const std::string& name) {
  Result<SecurityGroup> g = catalog.security_groups().FindByName(vpc_id, name);
  if (g.status().code() == Code::kNotFound) {
    return Ec2Error("InvalidGroup.NotFound",
                    "The security group '" + name + "' does not exist in VPC '" + vpc_id + "'");
  }
  return g;
}

Result<SecurityGroup> TargetGroup(Catalog& catalog, const std::string& region,
                                  const ActionRequest& req, bool allow_name) {
  const std::optional<std::string> id = req.params.Get("GroupId");
  const std::optional<std::string> name = allow_name ? req.params.Get("GroupName") : std::nullopt;
  if (id) return OwnedGroup(catalog, req.caller, *id);
  if (!name) {
    return Ec2Error("MissingParameter", allow_name
                                            ? "The request must contain the parameter GroupName "
                                              "or GroupId"
                                            : "The request must contain the parameter GroupId");
  }
  ASSIGN_OR_RETURN(Vpc vpc, EnsureDefaultVpc(catalog, req.caller.account_id, region));
  return NamedGroup(catalog, vpc.vpc_id, *name);
}

}  // namespace kiln::actions
