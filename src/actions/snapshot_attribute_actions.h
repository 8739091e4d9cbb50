// ModifySnapshotAttribute, DescribeSnapshotAttribute and ResetSnapshotAttribute over the catalog:
// a snapshot's createVolumePermission (who besides its owner may create volumes from it, copy
// it, and see it in DescribeSnapshots).
//
//   ModifySnapshotAttribute   SnapshotId*, createVolumePermission changes in either form of
//                             permission_params.h (CreateVolumePermission.Add.N /
//                             .Remove.N.{Group, UserId}, or OperationType + UserId.N /
//                             UserGroup.N), Attribute (createVolumePermission or absent; any
//                             other InvalidParameterValue). A group other than "all" or a user
//                             id that is not 12 digits: InvalidParameterValue (nothing changes).
//                             Nothing to change: InvalidParameterCombination. Honours DryRun.
//   DescribeSnapshotAttribute SnapshotId*, Attribute*: createVolumePermission (group "all"
//                             first, then account ids) or productCodes (always empty); other
//                             values InvalidParameterValue.
//   ResetSnapshotAttribute    SnapshotId*, Attribute* (createVolumePermission only): removes
//                             every permission, so the snapshot is private. Honours DryRun.
//
// Only the owner may change or list the attributes: a snapshot the caller cannot see is
// InvalidSnapshot.NotFound, a public or shared one it does not own AuthFailure; a malformed id
// InvalidSnapshotID.Malformed.
//
// The handlers use `catalog`, which must outlive them. Thread-safety: handlers may run
// concurrently.
#pragma once

#include <vector>

#include "api/action.h"
#include "catalog/catalog.h"

namespace kiln {

std::vector<Action> SnapshotAttributeActions(Catalog& catalog);

}  // namespace kiln
