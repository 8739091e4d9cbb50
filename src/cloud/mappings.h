// Block device mappings as RunInstances and CreateImage take them (BlockDeviceMapping.N...),
// validated with EC2's errors, and merged over an image's.
#pragma once

#include <vector>

#include "api/query.h"
#include "base/status.h"
#include "catalog/records.h"

namespace kiln {

// Every BlockDeviceMapping.N of the request. InvalidBlockDeviceMapping for a device name other
// than /dev/xvda, /dev/sd[b-z] and /dev/xvd[b-z], a device given twice, a VirtualName other than
// ephemeralN, or a mapping that is none of EBS, instance store and NoDevice; InvalidParameterValue
// for a VolumeSize outside 1..16384 or an Ebs.VolumeInitializationRate outside 100..300;
// InvalidParameterDependency for an Ebs.KmsKeyId without Ebs.Encrypted=true.
Result<std::vector<BlockDeviceMapping>> ParseMappings(const QueryParams& params);

// The request's mappings over the image's, by device name (either spelling): a request mapping
// replaces the image's at its device, keeping the image's snapshot when the request names none;
// NoDevice removes it.
std::vector<BlockDeviceMapping> MergeMappings(const std::vector<BlockDeviceMapping>& image,
                                              const std::vector<BlockDeviceMapping>& request);

// Whether `mappings` has one for `device` (either spelling).
bool MapsDevice(const std::vector<BlockDeviceMapping>& mappings, const std::string& device);

// "/dev/sdf" and "/dev/xvdf" name one device.
bool SameDevice(const std::string& a, const std::string& b);

}  // namespace kiln
