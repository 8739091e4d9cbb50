// ModifyImageAttribute and DescribeImageAttribute over the catalog (Packer's amazon-ebs sets an
// AMI's description and launch permissions this way after CreateImage).
//
//   ModifyImageAttribute   ImageId*, Description.Value (or Attribute=description + Value), up to
//                          255 characters; LaunchPermission.Add.N / .Remove.N.{Group, UserId}
//                          (or Attribute=launchPermission + OperationType add|remove +
//                          UserId.N / UserGroup.N). Group must be "all" and a user id 12 digits
//                          (InvalidParameterValue). Nothing to change: InvalidParameterCombination.
//                          Honours DryRun. Answers <return>true</return>.
//   DescribeImageAttribute ImageId*, Attribute* (description | launchPermission; any other:
//                          InvalidParameterValue). The owner sees launch permissions.
//
// Only the image's owner may change or list its attributes: an image the caller cannot see is
// InvalidAMIID.NotFound, a public or shared one it does not own AuthFailure; a malformed id
// InvalidAMIID.Malformed.
//
// The handlers use `catalog`, which must outlive them. Thread-safety: handlers may run
// concurrently.
#pragma once

#include <vector>

#include "api/action.h"
#include "catalog/catalog.h"

namespace kiln {

std::vector<Action> ImageAttributeActions(Catalog& catalog);

}  // namespace kiln
