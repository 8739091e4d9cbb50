// CreateSecurityGroup, DeleteSecurityGroup, DescribeSecurityGroups and
// Authorize/RevokeSecurityGroupIngress/Egress (network_actions.h states their contract).
#include <algorithm>
#include <array>
#include <span>

#include "actions/action_common.h"
#include "actions/default_network.h"
#include "actions/ip_permissions.h"
#include "actions/network_actions.h"
#include "actions/security_group_lookup.h"
#include "actions/tag_specs.h"
#include "catalog/ids.h"
#include "ec2/describe.h"
#include "ec2/describe_internal.h"
#include "ec2/xml_writer.h"

namespace kiln {
namespace {

using actions::Ec2Error;
using actions::NamedGroup;
using actions::OwnedGroup;
using describe_internal::FilterField;
using describe_internal::IfSet;
using describe_internal::Values;

// The characters EC2 allows in a VPC security group's name and description.
constexpr std::string_view kGroupTextChars =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._-:/()#,@[]+=&;{}!$*";

struct GroupView {
  const SecurityGroup& group;
};

template <typename F>
Values EachRule(const GroupView& v, bool egress, F field) {
  Values out;
  for (const SecurityGroupRule& r : v.group.rules) {
    if (r.is_egress != egress) continue;
    for (std::string& s : field(r)) out.push_back(std::move(s));
  }
  return out;
}

Values Ports(int port, const SecurityGroupRule& r) {
  return r.ip_protocol == "-1" ? Values{} : Values{std::to_string(port)};
}

// clang-format off
#define KILN_RULE_FIELDS(prefix, egress)                                                        \
  {prefix "ip-permission.protocol", [](const GroupView& v) {                                    \
    return EachRule(v, egress, [](const SecurityGroupRule& r) { return IfSet(r.ip_protocol); }); \
  }},                                                                                            \
  {prefix "ip-permission.from-port", [](const GroupView& v) {                                   \
    return EachRule(v, egress, [](const SecurityGroupRule& r) { return Ports(r.from_port, r); });\
  }},                                                                                            \
  {prefix "ip-permission.to-port", [](const GroupView& v) {                                     \
    return EachRule(v, egress, [](const SecurityGroupRule& r) { return Ports(r.to_port, r); });  \
  }},                                                                                            \
  {prefix "ip-permission.cidr", [](const GroupView& v) {                                        \
    return EachRule(v, egress, [](const SecurityGroupRule& r) { return IfSet(r.cidr_ipv4); });   \
  }},                                                                                            \
  {prefix "ip-permission.group-id", [](const GroupView& v) {                                    \
    return EachRule(v, egress, [](const SecurityGroupRule& r) {                                  \
      return IfSet(r.referenced_group_id);                                                       \
    });                                                                                          \
  }}

constexpr std::array<FilterField<GroupView>, 15> kGroupFields = {{
  {"group-id", [](const GroupView& v) { return IfSet(v.group.group_id); }},
  {"group-name", [](const GroupView& v) { return IfSet(v.group.group_name); }},
  {"description", [](const GroupView& v) { return IfSet(v.group.description); }},
  {"vpc-id", [](const GroupView& v) { return IfSet(v.group.vpc_id); }},
  {"owner-id", [](const GroupView& v) { return IfSet(v.group.owner_id); }},
  KILN_RULE_FIELDS("", false),
  KILN_RULE_FIELDS("egress.", true),
}};
#undef KILN_RULE_FIELDS
// clang-format on

Status GroupNotFound(const std::string& id) {
  return Ec2Error("InvalidGroup.NotFound", "The security group '" + id + "' does not exist");
}

Status CheckGroupText(const std::string& text, std::string_view param) {
  if (text.size() <= 255 && text.find_first_not_of(kGroupTextChars) == std::string::npos) {
    return Status::Ok();
  }
  return Ec2Error("InvalidParameterValue",
                  "Value (" + text + ") for parameter " + std::string(param) +
                      " is invalid. Up to 255 characters of a-z, A-Z, 0-9, spaces, and "
                      "._-:/()#,@[]+=&;{}!$*");
}

std::string GroupArn(const std::string& region, const SecurityGroup& g) {
  return "arn:aws:ec2:" + region + ":" + g.owner_id + ":security-group/" + g.group_id;
}

// VpcId, or the caller's default VPC; InvalidVpcID.NotFound for one the caller does not have.
Result<Vpc> RequestedVpc(Catalog& catalog, const std::string& region, const ActionRequest& req) {
  ASSIGN_OR_RETURN(Vpc vpc, actions::EnsureDefaultVpc(catalog, req.caller.account_id, region));
  const std::optional<std::string> vpc_id = req.params.Get("VpcId");
  if (!vpc_id) return vpc;
  Result<Vpc> named = catalog.vpcs().GetVpc(*vpc_id);
  if (named.ok() && named->owner_id == req.caller.account_id) return named;
  if (!named.ok() && named.status().code() != Code::kNotFound) return named.status();
  return Ec2Error("InvalidVpcID.NotFound", "The vpc ID '" + *vpc_id + "' does not exist");
}

Result<std::string> CreateSecurityGroup(Catalog& catalog, const std::string& region,
                                        const ActionRequest& req) {
  const QueryParams& p = req.params;
  ASSIGN_OR_RETURN(std::string name, actions::Required(p, "GroupName"));
  ASSIGN_OR_RETURN(std::string description, actions::Required(p, "GroupDescription"));
  RETURN_IF_ERROR(CheckGroupText(name, "GroupName"));
  RETURN_IF_ERROR(CheckGroupText(description, "GroupDescription"));
  if (name.starts_with("sg-")) {
    return Ec2Error("InvalidParameterValue", "Group names may not be in the format sg-*.");
  }
  ASSIGN_OR_RETURN(std::vector<Tag> tags,
                   actions::TagsFor(p, "security-group", {"security-group"}));
  ASSIGN_OR_RETURN(Vpc vpc, RequestedVpc(catalog, region, req));
  SecurityGroup group{.owner_id = req.caller.account_id,
                      .vpc_id = vpc.vpc_id,
                      .group_name = name,
                      .description = description};
  ASSIGN_OR_RETURN(group.group_id, NewId("sg"));
  ASSIGN_OR_RETURN(SecurityGroupRule egress, actions::AllowAllEgress());
  group.rules.push_back(egress);
  const auto duplicate = [&] {
    return Ec2Error("InvalidGroup.Duplicate", "The security group '" + name +
                                                  "' already exists for VPC '" + vpc.vpc_id + "'");
  };
  Result<SecurityGroup> existing = catalog.security_groups().FindByName(vpc.vpc_id, name);
  if (existing.ok()) return duplicate();
  if (req.dry_run) return DryRunSucceeded();
  ASSIGN_OR_RETURN(Transaction tx, catalog.Begin());
  Status inserted = tx.security_groups().Insert(group);
  if (inserted.code() == Code::kAlreadyExists) return duplicate();
  RETURN_IF_ERROR(inserted);
  if (!tags.empty()) {
    RETURN_IF_ERROR(tx.tags().Set(group.group_id, actions::TagsOn(tags, group.group_id)));
  }
  RETURN_IF_ERROR(tx.Commit());
  XmlWriter w("CreateSecurityGroupResponse", req.request_id);
  w.Field("groupId", group.group_id);
  actions::WriteTagSet(w, tags);
  w.Field("securityGroupArn", GroupArn(region, group));
  return std::move(w).Finish();
}

Result<std::string> DeleteSecurityGroup(Catalog& catalog, const std::string& region,
                                        const ActionRequest& req) {
  ASSIGN_OR_RETURN(SecurityGroup group, actions::TargetGroup(catalog, region, req, true));
  if (group.group_name == actions::kDefaultGroupName) {
    return Ec2Error("CannotDelete", "the specified group: \"" + group.group_id +
                                        "\" name: \"default\" cannot be deleted by a user");
  }
  if (req.dry_run) return DryRunSucceeded();
  Status deleted = catalog.security_groups().Delete(group.group_id);
  if (deleted.code() == Code::kFailedPrecondition) {
    return Ec2Error("DependencyViolation", deleted.message());
  }
  if (deleted.code() == Code::kNotFound) return GroupNotFound(group.group_id);
  RETURN_IF_ERROR(deleted);
  XmlWriter w("DeleteSecurityGroupResponse", req.request_id);
  w.Field("return", true).Field("groupId", group.group_id);
  return std::move(w).Finish();
}

void WriteGroup(XmlWriter& w, const std::string& region, const SecurityGroup& g,
                const std::vector<Tag>& tags) {
  w.Open("item").Field("ownerId", g.owner_id).Field("groupName", g.group_name);
  w.Field("groupId", g.group_id).Field("groupDescription", g.description);
  actions::WriteIpPermissions(w, "ipPermissions", g.rules, /*egress=*/false);
  actions::WriteIpPermissions(w, "ipPermissionsEgress", g.rules, /*egress=*/true);
  w.Field("vpcId", g.vpc_id).Field("securityGroupArn", GroupArn(region, g));
  actions::WriteTagSet(w, tags);
  w.Close();
}

// The groups GroupId.N and GroupName.N select (all of the caller's when both are empty).
Result<std::vector<SecurityGroup>> SelectGroups(Catalog& catalog, const std::string& region,
                                                const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::vector<std::string> ids, req.params.List("GroupId"));
  ASSIGN_OR_RETURN(std::vector<std::string> names, req.params.List("GroupName"));
  ASSIGN_OR_RETURN(Vpc vpc, actions::EnsureDefaultVpc(catalog, req.caller.account_id, region));
  for (const std::string& id : ids) RETURN_IF_ERROR(OwnedGroup(catalog, req.caller, id).status());
  std::vector<std::string> wanted = ids;
  for (const std::string& name : names) {
    ASSIGN_OR_RETURN(SecurityGroup g, NamedGroup(catalog, vpc.vpc_id, name));
    wanted.push_back(g.group_id);
  }
  return catalog.security_groups().List(
      ListQuery{.owner_id = req.caller.account_id, .ids = wanted});
}

Result<std::string> DescribeSecurityGroups(Catalog& catalog, const std::string& region,
                                           const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::vector<Filter> filters, actions::ParseFilters(req.params));
  const std::span<const FilterField<GroupView>> table(kGroupFields);
  RETURN_IF_ERROR(describe_internal::CheckNames(filters, describe_internal::Names(table)));
  ASSIGN_OR_RETURN(Page page, ParsePage(req.params, 5, 1000));
  ASSIGN_OR_RETURN(std::vector<SecurityGroup> groups, SelectGroups(catalog, region, req));
  XmlWriter w("DescribeSecurityGroupsResponse", req.request_id);
  w.Open("securityGroupInfo");
  for (const SecurityGroup& g : groups) {
    if (!page.after_id.empty() && g.group_id <= page.after_id) continue;
    ASSIGN_OR_RETURN(std::vector<Tag> tags, catalog.tags().List(g.group_id));
    if (!describe_internal::MatchAll(table, GroupView{g}, tags, filters)) continue;
    if (!page.Admit(g.group_id)) break;
    WriteGroup(w, region, g, tags);
  }
  w.Close();
  page.WriteNextToken(w);
  return std::move(w).Finish();
}

}  // namespace

std::vector<Action> SecurityGroupActions(Catalog& catalog, const std::string& region) {
  Catalog* c = &catalog;
  std::vector<Action> actions = {
      {"CreateSecurityGroup",
       {"GroupName", "GroupDescription", "VpcId", "TagSpecification.N.ResourceType",
        "TagSpecification.N.Tag.N.Key", "TagSpecification.N.Tag.N.Value"},
       [c, region](const ActionRequest& r) { return CreateSecurityGroup(*c, region, r); },
       true},
      {"DeleteSecurityGroup",
       {"GroupId", "GroupName"},
       [c, region](const ActionRequest& r) { return DeleteSecurityGroup(*c, region, r); },
       true},
      {"DescribeSecurityGroups",
       {"GroupId.N", "GroupName.N", "Filter.N.Name", "Filter.N.Value.N", "MaxResults", "NextToken"},
       [c, region](const ActionRequest& r) { return DescribeSecurityGroups(*c, region, r); }},
  };
  for (Action& a : SecurityGroupRuleActions(catalog, region)) actions.push_back(std::move(a));
  return actions;
}

}  // namespace kiln
