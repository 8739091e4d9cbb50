#include "catalog/security_group_table.h"

#include "catalog/db.h"
#include "catalog/table_util.h"

namespace kiln {

using catalog_internal::Db;
using catalog_internal::Stmt;
namespace ci = catalog_internal;

namespace {

constexpr char kGroupColumns[] = "group_id, owner_id, vpc_id, group_name, description";
constexpr ci::ListSpec kGroupList = {"security_groups", "group_id", kGroupColumns, true, ""};

constexpr char kRuleColumns[] =
    "rule_id, is_egress, ip_protocol, from_port, to_port, cidr_ipv4, referenced_group_id, "
    "referenced_user_id, description";

// The columns that make a rule's identity (the unique index security_group_rules_permission).
constexpr char kSameRule[] =
    "group_id = ? AND is_egress = ? AND ip_protocol = ? AND from_port = ? AND to_port = ? AND "
    "cidr_ipv4 = ? AND referenced_group_id = ?";

SecurityGroup ReadGroup(const Stmt& s) {
  return SecurityGroup{.group_id = s.Text(0),
                       .owner_id = s.Text(1),
                       .vpc_id = s.Text(2),
                       .group_name = s.Text(3),
                       .description = s.Text(4)};
}

SecurityGroupRule ReadRule(const Stmt& s) {
  return SecurityGroupRule{.rule_id = s.Text(0),
                           .is_egress = s.Bool(1),
                           .ip_protocol = s.Text(2),
                           .from_port = static_cast<int>(s.Int(3)),
                           .to_port = static_cast<int>(s.Int(4)),
                           .cidr_ipv4 = s.Text(5),
                           .referenced_group_id = s.Text(6),
                           .referenced_user_id = s.Text(7),
                           .description = s.Text(8)};
}

Status CheckRule(const SecurityGroupRule& r) {
  RETURN_IF_ERROR(ci::CheckId("sgr", r.rule_id, "security group rule id"));
  if (r.ip_protocol.empty()) return InvalidArgumentError("a rule needs a protocol");
  if (r.cidr_ipv4.empty() == r.referenced_group_id.empty()) {
    return InvalidArgumentError("a rule names exactly one of a CIDR block and a group");
  }
  return Status::Ok();
}

Status LoadRules(Db& db, SecurityGroup& group) {
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare(std::string("SELECT ") + kRuleColumns +
                                         " FROM security_group_rules WHERE group_id = ? "
                                         "ORDER BY position"));
  stmt.Bind(group.group_id);
  ASSIGN_OR_RETURN(group.rules, ci::ReadAll<SecurityGroupRule>(stmt, ReadRule));
  return Status::Ok();
}

Result<std::vector<SecurityGroup>> ReadGroups(Db& db, Stmt& stmt) {
  ASSIGN_OR_RETURN(std::vector<SecurityGroup> out, ci::ReadAll<SecurityGroup>(stmt, ReadGroup));
  for (SecurityGroup& g : out) RETURN_IF_ERROR(LoadRules(db, g));
  return out;
}

Status InsertRules(Db& db, const std::string& group_id,
                   const std::vector<SecurityGroupRule>& rules) {
  ASSIGN_OR_RETURN(Stmt next, db.Prepare("SELECT coalesce(max(position) + 1, 0) FROM "
                                         "security_group_rules WHERE group_id = ?"));
  ASSIGN_OR_RETURN(bool row, next.Bind(group_id).Step());
  int64_t position = row ? next.Int(0) : 0;
  for (const SecurityGroupRule& r : rules) {
    Status s = ci::Change(db,
                          "INSERT INTO security_group_rules (rule_id, group_id, position, "
                          "is_egress, ip_protocol, from_port, to_port, cidr_ipv4, "
                          "referenced_group_id, referenced_user_id, description) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          r.rule_id, group_id, position++, r.is_egress, r.ip_protocol, r.from_port,
                          r.to_port, r.cidr_ipv4, r.referenced_group_id, r.referenced_user_id,
                          r.description)
                   .status();
    if (s.code() == Code::kAlreadyExists) {
      return AlreadyExistsError("the specified rule \"peer: " +
                                (r.cidr_ipv4.empty() ? r.referenced_group_id : r.cidr_ipv4) + ", " +
                                r.ip_protocol + ", from port: " + std::to_string(r.from_port) +
                                ", to port: " + std::to_string(r.to_port) +
                                ", ALLOW\" already exists");
    }
    RETURN_IF_ERROR(s);
  }
  return Status::Ok();
}

Status InsertGroup(Db& db, const SecurityGroup& g) {
  ASSIGN_OR_RETURN(Stmt owner, db.Prepare("SELECT owner_id FROM vpcs WHERE vpc_id = ?"));
  ASSIGN_OR_RETURN(bool row, owner.Bind(g.vpc_id).Step());
  if (!row) return FailedPreconditionError("vpc " + g.vpc_id + " does not exist");
  if (owner.Text(0) != g.owner_id) {
    return FailedPreconditionError("vpc " + g.vpc_id + " belongs to another account");
  }
  Status s = ci::Change(db,
                        "INSERT INTO security_groups (group_id, owner_id, vpc_id, group_name, "
                        "description) VALUES (?, ?, ?, ?, ?)",
                        g.group_id, g.owner_id, g.vpc_id, g.group_name, g.description)
                 .status();
  if (s.code() == Code::kAlreadyExists) {
    return AlreadyExistsError("The security group '" + g.group_name + "' already exists for VPC '" +
                              g.vpc_id + "'");
  }
  RETURN_IF_ERROR(s);
  return InsertRules(db, g.group_id, g.rules);
}

Status CheckGroupExists(Db& db, const std::string& group_id) {
  ASSIGN_OR_RETURN(bool exists,
                   ci::Exists(db, "SELECT 1 FROM security_groups WHERE group_id = ?", group_id));
  return exists ? Status::Ok() : ci::NotFoundFor("security group", group_id);
}

Result<SecurityGroupRule> RemoveRule(Db& db, const std::string& group_id,
                                     const SecurityGroupRule& r) {
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare(std::string("DELETE FROM security_group_rules WHERE ") +
                                         kSameRule + " RETURNING " + kRuleColumns));
  stmt.Bind(group_id, r.is_egress, r.ip_protocol, r.from_port, r.to_port, r.cidr_ipv4,
            r.referenced_group_id);
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) {
    return NotFoundError("The specified rule does not exist in this security group (" +
                         r.ip_protocol + " " + std::to_string(r.from_port) + "-" +
                         std::to_string(r.to_port) + " " +
                         (r.cidr_ipv4.empty() ? r.referenced_group_id : r.cidr_ipv4) + ")");
  }
  SecurityGroupRule removed = ReadRule(stmt);
  RETURN_IF_ERROR(stmt.Run());
  return removed;
}

Status DeleteGroup(Db& db, const std::string& group_id) {
  RETURN_IF_ERROR(CheckGroupExists(db, group_id));
  ASSIGN_OR_RETURN(Stmt used, db.Prepare("SELECT m.instance_id FROM instance_security_groups m "
                                         "JOIN instances i ON i.instance_id = m.instance_id "
                                         "WHERE m.group_id = ? AND i.state <> 'terminated' "
                                         "LIMIT 1"));
  ASSIGN_OR_RETURN(bool in_use, used.Bind(group_id).Step());
  if (in_use) {
    return FailedPreconditionError("resource " + group_id + " has a dependent object (instance " +
                                   used.Text(0) + ")");
  }
  ASSIGN_OR_RETURN(Stmt ref, db.Prepare("SELECT group_id FROM security_group_rules WHERE "
                                        "referenced_group_id = ?1 AND group_id <> ?1 LIMIT 1"));
  ASSIGN_OR_RETURN(bool referenced, ref.Bind(group_id).Step());
  if (referenced) {
    return FailedPreconditionError("resource " + group_id +
                                   " has a dependent object (a rule of security group " +
                                   ref.Text(0) + ")");
  }
  RETURN_IF_ERROR(
      ci::Change(db, "DELETE FROM instance_security_groups WHERE group_id = ?", group_id).status());
  RETURN_IF_ERROR(
      ci::Change(db, "DELETE FROM security_groups WHERE group_id = ?", group_id).status());
  return ci::DeleteTagsOf(db, group_id);
}

}  // namespace

Status SecurityGroupTable::Insert(const SecurityGroup& group) {
  RETURN_IF_ERROR(ci::CheckId("sg", group.group_id, "security group id"));
  RETURN_IF_ERROR(ci::CheckId("vpc", group.vpc_id, "security group's vpc id"));
  RETURN_IF_ERROR(ci::CheckAccountId(group.owner_id, "security group owner"));
  if (group.group_name.empty()) return InvalidArgumentError("a security group needs a name");
  for (const SecurityGroupRule& r : group.rules) RETURN_IF_ERROR(CheckRule(r));
  return ctx_.db->Write(ctx_, [&] { return InsertGroup(*ctx_.db, group); });
}

Result<SecurityGroup> SecurityGroupTable::Get(const std::string& group_id) {
  Db& db = *ctx_.db;
  return db.Read(ctx_, [&]() -> Result<SecurityGroup> {
    ASSIGN_OR_RETURN(Stmt stmt, db.Prepare(std::string("SELECT ") + kGroupColumns +
                                           " FROM security_groups WHERE group_id = ?"));
    stmt.Bind(group_id);
    ASSIGN_OR_RETURN(std::vector<SecurityGroup> found, ReadGroups(db, stmt));
    if (found.empty()) return ci::NotFoundFor("security group", group_id);
    return std::move(found.front());
  });
}

Result<SecurityGroup> SecurityGroupTable::FindByName(const std::string& vpc_id,
                                                     const std::string& group_name) {
  Db& db = *ctx_.db;
  return db.Read(ctx_, [&]() -> Result<SecurityGroup> {
    ASSIGN_OR_RETURN(Stmt stmt,
                     db.Prepare(std::string("SELECT ") + kGroupColumns +
                                " FROM security_groups WHERE vpc_id = ? AND group_name = ?"));
    stmt.Bind(vpc_id, group_name);
    ASSIGN_OR_RETURN(std::vector<SecurityGroup> found, ReadGroups(db, stmt));
    if (found.empty()) {
      return NotFoundError("The security group '" + group_name + "' does not exist in VPC '" +
                           vpc_id + "'");
    }
    return std::move(found.front());
  });
}

Result<std::vector<SecurityGroup>> SecurityGroupTable::List(const ListQuery& query) {
  Db& db = *ctx_.db;
  return db.Read(ctx_, [&]() -> Result<std::vector<SecurityGroup>> {
    ASSIGN_OR_RETURN(Stmt stmt, ci::PrepareList(db, kGroupList, query));
    return ReadGroups(db, stmt);
  });
}

Status SecurityGroupTable::AddRules(const std::string& group_id,
                                    const std::vector<SecurityGroupRule>& rules) {
  for (const SecurityGroupRule& r : rules) RETURN_IF_ERROR(CheckRule(r));
  Db& db = *ctx_.db;
  return db.Write(ctx_, [&]() -> Status {
    RETURN_IF_ERROR(CheckGroupExists(db, group_id));
    return InsertRules(db, group_id, rules);
  });
}

Result<std::vector<SecurityGroupRule>> SecurityGroupTable::RemoveRules(
    const std::string& group_id, const std::vector<SecurityGroupRule>& rules) {
  Db& db = *ctx_.db;
  return db.Write(ctx_, [&]() -> Result<std::vector<SecurityGroupRule>> {
    RETURN_IF_ERROR(CheckGroupExists(db, group_id));
    std::vector<SecurityGroupRule> removed;
    for (const SecurityGroupRule& r : rules) {
      ASSIGN_OR_RETURN(SecurityGroupRule gone, RemoveRule(db, group_id, r));
      removed.push_back(std::move(gone));
    }
    return removed;
  });
}

Status SecurityGroupTable::Delete(const std::string& group_id) {
  return ctx_.db->Write(ctx_, [&] { return DeleteGroup(*ctx_.db, group_id); });
}

}  // namespace kiln
