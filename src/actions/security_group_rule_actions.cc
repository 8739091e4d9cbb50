// AuthorizeSecurityGroupIngress/Egress and RevokeSecurityGroupIngress/Egress
// (network_actions.h states their contract; actions/ip_permissions.h the rule parameters).
#include <algorithm>

#include "actions/action_common.h"
#include "actions/ip_permissions.h"
#include "actions/network_actions.h"
#include "actions/security_group_lookup.h"
#include "actions/tag_specs.h"
#include "ec2/xml_writer.h"

namespace kiln {
namespace {

using actions::Ec2Error;
using actions::RequestedRule;

// Fills in each referenced group: named ones are looked up in the target's VPC, ids checked to
// be the caller's groups in that VPC (EC2 references only groups of the same VPC here).
Result<std::vector<SecurityGroupRule>> ResolveRules(Catalog& catalog, const Caller& caller,
                                                    const SecurityGroup& target,
                                                    std::vector<RequestedRule> requested) {
  std::vector<SecurityGroupRule> rules;
  for (RequestedRule& r : requested) {
    if (!r.group_name.empty() || !r.rule.referenced_group_id.empty()) {
      ASSIGN_OR_RETURN(SecurityGroup peer,
                       r.rule.referenced_group_id.empty()
                           ? actions::NamedGroup(catalog, target.vpc_id, r.group_name)
                           : actions::OwnedGroup(catalog, caller, r.rule.referenced_group_id));
      if (peer.vpc_id != target.vpc_id) {
        return Ec2Error("InvalidGroup.NotFound", "The security group '" + peer.group_id +
                                                     "' does not exist in VPC '" + target.vpc_id +
                                                     "'");
      }
      r.rule.referenced_group_id = peer.group_id;
      r.rule.referenced_user_id = peer.owner_id;
    }
    rules.push_back(std::move(r.rule));
  }
  return rules;
}

Result<std::vector<SecurityGroupRule>> RequestedRules(Catalog& catalog, const ActionRequest& req,
                                                      const SecurityGroup& target, bool egress) {
  ASSIGN_OR_RETURN(std::vector<RequestedRule> requested,
                   actions::ParseIpPermissions(req.params, egress));
  return ResolveRules(catalog, req.caller, target, std::move(requested));
}

Result<std::string> Authorize(Catalog& catalog, const std::string& region, const ActionRequest& req,
                              bool egress) {
  ASSIGN_OR_RETURN(SecurityGroup group, actions::TargetGroup(catalog, region, req, !egress));
  ASSIGN_OR_RETURN(std::vector<SecurityGroupRule> rules,
                   RequestedRules(catalog, req, group, egress));
  ASSIGN_OR_RETURN(std::vector<Tag> tags,
                   actions::TagsFor(req.params, "security-group-rule", {"security-group-rule"}));
  if (req.dry_run) return DryRunSucceeded();
  ASSIGN_OR_RETURN(Transaction tx, catalog.Begin());
  Status added = tx.security_groups().AddRules(group.group_id, rules);
  if (added.code() == Code::kAlreadyExists) {
    return Ec2Error("InvalidPermission.Duplicate", added.message());
  }
  if (added.code() == Code::kNotFound) {
    return Ec2Error("InvalidGroup.NotFound",
                    "The security group '" + group.group_id + "' does not exist");
  }
  RETURN_IF_ERROR(added);
  for (const SecurityGroupRule& r : rules) {
    if (!tags.empty()) RETURN_IF_ERROR(tx.tags().Set(r.rule_id, actions::TagsOn(tags, r.rule_id)));
  }
  RETURN_IF_ERROR(tx.Commit());
  XmlWriter w(
      egress ? "AuthorizeSecurityGroupEgressResponse" : "AuthorizeSecurityGroupIngressResponse",
      req.request_id);
  w.Field("return", true);
  actions::WriteSecurityGroupRules(w, "securityGroupRuleSet", group, rules);
  return std::move(w).Finish();
}

// The rules SecurityGroupRuleId.N names, of the right direction.
Result<std::vector<SecurityGroupRule>> RulesById(const SecurityGroup& group,
                                                 const std::vector<std::string>& ids, bool egress) {
  std::vector<SecurityGroupRule> out;
  for (const std::string& id : ids) {
    auto it = std::find_if(group.rules.begin(), group.rules.end(), [&](const SecurityGroupRule& r) {
      return r.rule_id == id && r.is_egress == egress;
    });
    if (it == group.rules.end()) {
      return Ec2Error(
          "InvalidSecurityGroupRuleId.NotFound",
          "The security group rule ID '" + id + "' does not exist in " + group.group_id);
    }
    out.push_back(*it);
  }
  return out;
}

Result<std::string> Revoke(Catalog& catalog, const std::string& region, const ActionRequest& req,
                           bool egress) {
  ASSIGN_OR_RETURN(SecurityGroup group, actions::TargetGroup(catalog, region, req, !egress));
  ASSIGN_OR_RETURN(std::vector<std::string> rule_ids, req.params.List("SecurityGroupRuleId"));
  std::vector<SecurityGroupRule> rules;
  if (!rule_ids.empty()) {
    ASSIGN_OR_RETURN(rules, RulesById(group, rule_ids, egress));
  } else {
    ASSIGN_OR_RETURN(rules, RequestedRules(catalog, req, group, egress));
  }
  if (req.dry_run) return DryRunSucceeded();
  Result<std::vector<SecurityGroupRule>> removed =
      catalog.security_groups().RemoveRules(group.group_id, rules);
  if (removed.status().code() == Code::kNotFound) {
    return Ec2Error("InvalidPermission.NotFound", removed.status().message());
  }
  RETURN_IF_ERROR(removed.status());
  for (const SecurityGroupRule& r : *removed) {
    RETURN_IF_ERROR(catalog.tags().DeleteAll(r.rule_id));
  }
  XmlWriter w(egress ? "RevokeSecurityGroupEgressResponse" : "RevokeSecurityGroupIngressResponse",
              req.request_id);
  w.Field("return", true);
  actions::WriteRevokedRules(w, "revokedSecurityGroupRuleSet", group.group_id, *removed);
  return std::move(w).Finish();
}

}  // namespace

std::vector<Action> SecurityGroupRuleActions(Catalog& catalog, const std::string& region) {
  Catalog* c = &catalog;
  auto params = [](bool ingress, std::vector<std::string> extra) {
    std::vector<std::string> p = actions::IpPermissionParameters();
    p.push_back("GroupId");
    if (ingress) p.push_back("GroupName");
    p.insert(p.end(), extra.begin(), extra.end());
    return p;
  };
  const std::vector<std::string> tag_specs = {"TagSpecification.N.ResourceType",
                                              "TagSpecification.N.Tag.N.Key",
                                              "TagSpecification.N.Tag.N.Value"};
  const std::vector<std::string> rule_ids = {"SecurityGroupRuleId.N"};
  return {
      {"AuthorizeSecurityGroupIngress", params(true, tag_specs),
       [c, region](const ActionRequest& r) { return Authorize(*c, region, r, false); }, true},
      {"AuthorizeSecurityGroupEgress", params(false, tag_specs),
       [c, region](const ActionRequest& r) { return Authorize(*c, region, r, true); }, true},
      {"RevokeSecurityGroupIngress", params(true, rule_ids),
       [c, region](const ActionRequest& r) { return Revoke(*c, region, r, false); }, true},
      {"RevokeSecurityGroupEgress", params(false, rule_ids),
       [c, region](const ActionRequest& r) { return Revoke(*c, region, r, true); }, true},
  };
}

}  // namespace kiln
