// What the EC2 action handlers in src/cloud share besides actions/action_common.h: id checks
// and the visibility rules (an account sees its own resources, and public or shared images and
// snapshots).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actions/action_common.h"
#include "actions/tag_specs.h"
#include "api/action.h"
#include "base/status.h"
#include "catalog/records.h"

namespace kiln {

class Cloud;

using actions::BoolParam;
using actions::Ec2Error;
using actions::IntParam;
using actions::Required;
using actions::TagsFor;
using actions::TagsOn;

// EC2's id check: `prefix-` and 8 or 17 lowercase hex digits. `code` is the Malformed error.
Status CheckIdFormat(std::string_view prefix, const std::string& id, std::string_view code);

// EC2's image name rule (CreateImage, RegisterImage, CopyImage): 3-128 of letters, digits and
// ( ) [ ] space . / - ' @ _; else InvalidAMIName.Malformed.
Status CheckImageName(const std::string& name);

// The caller's resources, NotFound (EC2's code) when absent or another account's.
Result<Instance> OwnedInstance(Cloud& cloud, const Caller& caller, const std::string& id);
Result<EbsVolume> OwnedVolume(Cloud& cloud, const Caller& caller, const std::string& id);
Result<Snapshot> OwnedSnapshot(Cloud& cloud, const Caller& caller, const std::string& id);
Result<Image> OwnedImage(Cloud& cloud, const Caller& caller, const std::string& id);
// An image the caller may launch (its own, public, or shared with it); InvalidAMIID.NotFound.
Result<Image> LaunchableImage(Cloud& cloud, const Caller& caller, const std::string& id);
// A snapshot the caller may create volumes from; InvalidSnapshot.NotFound.
Result<Snapshot> UsableSnapshot(Cloud& cloud, const Caller& caller, const std::string& id);

}  // namespace kiln
