// The EC2 actions kilnd's control plane answers, over a Cloud (which must outlive them).
#pragma once

#include <vector>

#include "api/action.h"

namespace kiln {

class Cloud;

std::vector<Action> InstanceActions(Cloud& cloud);
std::vector<Action> ImageActions(Cloud& cloud);
std::vector<Action> SnapshotActions(Cloud& cloud);
std::vector<Action> VolumeActions(Cloud& cloud);
std::vector<Action> InstanceStatusActions(Cloud& cloud);  // DescribeInstanceStatus, -Attribute
std::vector<Action> VolumeStatusActions(Cloud& cloud);    // DescribeVolumeStatus
// Get/Enable/DisableEbsEncryptionByDefault, Get/Modify/ResetEbsDefaultKmsKeyId.
std::vector<Action> EncryptionActions(Cloud& cloud);
// CopySnapshot, CopyImage (copy_actions.cc).
std::vector<Action> CopyActions(Cloud& cloud);
// DescribeStorageUsage, kiln's extension: stored bytes per image and snapshot (usage_actions.cc).
std::vector<Action> StorageUsageActions(Cloud& cloud);

}  // namespace kiln
