// Finding the security group a request names, as EC2 resolves and reports it; shared by the
// security group actions and RunInstances (network_launch.h).
//
// Errors (EC2 codes): InvalidGroupId.Malformed for an id not of the form sg-<hex>;
// InvalidGroup.NotFound for a group that does not exist or is another account's.
// Thread-safety: as the catalog's.
#pragma once

#include <string>

#include "api/action.h"
#include "base/status.h"
#include "catalog/catalog.h"
#include "catalog/records.h"

namespace kiln::actions {

// The caller's group with id `id`.
Result<SecurityGroup> OwnedGroup(Catalog& catalog, const Caller& caller, const std::string& id);

// The group named `name` in `vpc_id` (a VPC of the caller's).
Result<SecurityGroup> NamedGroup(Catalog& catalog, const std::string& vpc_id,
                                 const std::string& name);

// The group a request names by GroupId or, when `allow_name`, by GroupName in the caller's
// default VPC. MissingParameter if it names none.
Result<SecurityGroup> TargetGroup(Catalog& catalog, const std::string& region,
                                  const ActionRequest& req, bool allow_name);

}  // namespace kiln::actions
