// SecurityGroupTable: security groups, their rules, and which groups an instance is in (the
// membership rows are written by InstanceTable::Insert from Instance::security_groups). Obtain
// it from Catalog or Transaction (catalog.h states the errors and thread-safety all tables
// share).
//
// A rule is identified by what it allows, as EC2 compares permissions: direction, protocol,
// ports and the one CIDR or referenced group it names; its description and id do not count.
// The protection of a VPC's "default" group from deletion is EC2 semantics and lives in the
// actions layer; this table refuses only what would break references.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "catalog/records.h"
#include "catalog/table_context.h"

namespace kiln {

class SecurityGroupTable {
 public:
  explicit SecurityGroupTable(TableContext ctx) : ctx_(ctx) {}

  // Adds a group with its rules. InvalidArgument for a malformed id, owner or rule (see
  // AddRules) or an empty name; AlreadyExists if the id is taken or the VPC has a group of this
  // name (EC2's InvalidGroup.Duplicate), or two rules are the same permission;
  // FailedPrecondition if the owner or the VPC does not exist, or the VPC is another owner's.
  Status Insert(const SecurityGroup& group);
  // NotFound if there is no such group.
  Result<SecurityGroup> Get(const std::string& group_id);
  // The group of this name in the VPC; NotFound if none.
  Result<SecurityGroup> FindByName(const std::string& vpc_id, const std::string& group_name);
  // Groups by id, with their rules, filtered as `query` says (visible_to: InvalidArgument).
  Result<std::vector<SecurityGroup>> List(const ListQuery& query);

  // Adds rules to the group, all or none. Each needs a `sgr-` id, a protocol, and exactly one of
  // cidr_ipv4 and referenced_group_id (InvalidArgument otherwise). AlreadyExists (EC2's
  // InvalidPermission.Duplicate) if the group has one of them already, or two are the same
  // permission; NotFound if the group does not exist.
  Status AddRules(const std::string& group_id, const std::vector<SecurityGroupRule>& rules);
  // Removes the group's rules that are the same permissions as `rules` (ids and descriptions
  // ignored), all or none, and returns them as they were stored. NotFound if the group does not
  // exist or lacks one of them (EC2's InvalidPermission.NotFound).
  Result<std::vector<SecurityGroupRule>> RemoveRules(const std::string& group_id,
                                                     const std::vector<SecurityGroupRule>& rules);

  // Removes the group, its rules and tags, and the records of terminated instances that were
  // in it. FailedPrecondition (EC2's DependencyViolation) while an instance that is not
  // terminated is in it, or another group's rule references it; NotFound if absent.
  Status Delete(const std::string& group_id);

 private:
  TableContext ctx_;
};

}  // namespace kiln
