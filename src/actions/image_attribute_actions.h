// ModifyImageAttribute, DescribeImageAttribute and ResetImageAttribute over the catalog (Packer's
// amazon-ebs sets an AMI's description and launch permissions this way after CreateImage).
//
//   ModifyImageAttribute   ImageId*, Description.Value (or Attribute=description + Value), up to
//                          255 characters; launch permissions in either form of
//                          permission_params.h (LaunchPermission.Add.N / .Remove.N.{Group,
//                          UserId}, or OperationType + UserId.N / UserGroup.N). A group other
//                          than "all" or a user id that is not 12 digits:
//                          InvalidAMIAttributeItemValue (nothing is changed). Adds apply before
//                          removes. Nothing to change: InvalidParameterCombination; an Attribute
//                          other than description / launchPermission: InvalidParameterValue.
//                          Honours DryRun. Answers <return>true</return>.
//   DescribeImageAttribute ImageId*, Attribute*: description, launchPermission (group "all"
//                          first, then account ids), productCodes (always empty); kernel, ramdisk
//                          and blockDeviceMapping are AuthFailure as on EC2 ("Unauthorized
//                          attempt to access restricted resource"); others InvalidParameterValue.
//   ResetImageAttribute    ImageId*, Attribute* (launchPermission only, else
//                          InvalidParameterValue): removes every launch permission, so the image
//                          is private again. Honours DryRun.
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
