#include "actions/permission_params.h"

#include "actions/action_common.h"
#include "catalog/ids.h"

namespace kiln::actions {
namespace {

Result<Grant> MakeGrant(const std::string& group, const std::string& user_id,
                        std::string_view bad_item_code) {
  if (!group.empty() && !user_id.empty()) {
    return Ec2Error("InvalidParameterCombination",
                    "A permission names either a Group or a UserId, not both");
  }
  if (!group.empty() && group != "all") {
    return Ec2Error(bad_item_code,
                    "Invalid attribute item value \"" + group + "\" for group item type.");
  }
  if (group.empty() && !IsAccountId(user_id)) {
    return Ec2Error(bad_item_code,
                    "Invalid attribute item value \"" + user_id + "\" for userId item type.");
  }
  return Grant{group, group.empty() ? user_id : ""};
}

Status ReadStructured(const QueryParams& p, const std::string& prefix,
                      std::string_view bad_item_code, std::vector<Grant>& out) {
  ASSIGN_OR_RETURN(std::vector<QueryParams> items, p.Structs(prefix));
  for (const QueryParams& item : items) {
    ASSIGN_OR_RETURN(Grant g, MakeGrant(item.Get("Group").value_or(""),
                                        item.Get("UserId").value_or(""), bad_item_code));
    out.push_back(std::move(g));
  }
  return Status::Ok();
}

Status ReadFlat(const QueryParams& p, std::string_view bad_item_code, GrantChanges& out) {
  ASSIGN_OR_RETURN(std::vector<std::string> users, p.List("UserId"));
  ASSIGN_OR_RETURN(std::vector<std::string> groups, p.List("UserGroup"));
  if (users.empty() && groups.empty()) return Status::Ok();
  const std::optional<std::string> op = p.Get("OperationType");
  if (!op || op->empty()) {
    return Ec2Error("MissingParameter", "UserId and UserGroup need an OperationType");
  }
  if (*op != "add" && *op != "remove") {
    return Ec2Error("InvalidParameterValue",
                    "Value (" + *op + ") for parameter operationType is invalid: add or remove");
  }
  std::vector<Grant>& into = *op == "add" ? out.add : out.remove;
  for (const std::string& u : users) {
    ASSIGN_OR_RETURN(Grant g, MakeGrant("", u, bad_item_code));
    into.push_back(std::move(g));
  }
  for (const std::string& group : groups) {
    ASSIGN_OR_RETURN(Grant g, MakeGrant(group, "", bad_item_code));
    into.push_back(std::move(g));
  }
  return Status::Ok();
}

}  // namespace

Status ReadGrantChanges(const QueryParams& params, std::string_view prefix,
                        std::string_view bad_item_code, GrantChanges& out) {
  const std::string p(prefix);
  RETURN_IF_ERROR(ReadStructured(params, p + ".Add", bad_item_code, out.add));
  RETURN_IF_ERROR(ReadStructured(params, p + ".Remove", bad_item_code, out.remove));
  return ReadFlat(params, bad_item_code, out);
}

std::vector<std::string> GrantParameterNames(std::string_view prefix) {
  const std::string p(prefix);
  return {"OperationType",       "UserId.N",          "UserGroup.N",
          p + ".Add.N.Group",    p + ".Add.N.UserId", p + ".Remove.N.Group",
          p + ".Remove.N.UserId"};
}

}  // namespace kiln::actions
