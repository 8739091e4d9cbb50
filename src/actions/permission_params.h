// The request side of EC2's two permission lists, launchPermission (images) and
// createVolumePermission (snapshots), which share one shape: a grant names the group "all" or
// one 12-digit account id, and a Modify call adds and removes grants in either of two forms:
//
//   structured  <Prefix>.Add.N.{Group, UserId} and <Prefix>.Remove.N.{Group, UserId}
//   flat        OperationType=add|remove with UserId.N and UserGroup.N (botocore's UserIds and
//               UserGroups / GroupNames)
//
// Errors carry EC2's codes: a group other than "all" or a user id that is not 12 digits is
// `bad_item_code` (images: InvalidAMIAttributeItemValue, as EC2 and moto answer); an
// OperationType other than add/remove with the flat form is InvalidParameterValue; a flat list
// without OperationType is MissingParameter.
//
// Thread-safety: pure functions over values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/query.h"
#include "base/status.h"

namespace kiln::actions {

struct Grant {
  std::string group{};    // "all" or ""
  std::string user_id{};  // a 12-digit account id or ""
  bool operator==(const Grant&) const = default;
};

struct GrantChanges {
  std::vector<Grant> add{};
  std::vector<Grant> remove{};
  bool empty() const { return add.empty() && remove.empty(); }
};

// Reads both forms from `params`, appending to `out`. `prefix` is "LaunchPermission" or
// "CreateVolumePermission".
Status ReadGrantChanges(const QueryParams& params, std::string_view prefix,
                        std::string_view bad_item_code, GrantChanges& out);

// The parameter names both forms use, for an Action's declared list.
std::vector<std::string> GrantParameterNames(std::string_view prefix);

}  // namespace kiln::actions
