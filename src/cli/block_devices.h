// The block-device flags of `kiln launch` and `kiln create-image` (DEV, DEV:SIZE) and the
// BlockDeviceMapping.N.* parameters they become.
//
// A device is written "sdf", "xvdf" or "/dev/sdf" and always sent as /dev/NAME; the server
// checks which names it allows. Sizes are whole GiB >= 1.
// Errors: InvalidArgument (a usage error) naming the flag and the bad value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "cli/ec2_client.h"

namespace kiln::cli {

struct MappingSpec {
  enum class Kind { kEbsNew, kEbsResize, kInstanceStore, kNoDevice };
  Kind kind = Kind::kEbsNew;
  std::string device;  // "/dev/sdf"
  int64_t size_gib = 0;
};

// "sdf" -> "/dev/sdf"; InvalidArgument for "", "/dev/", names with characters other than
// [a-z0-9] after /dev/.
Result<std::string> NormalizeDevice(std::string_view flag, std::string_view text);

// "sdf:10" -> {/dev/sdf, 10}.
Result<MappingSpec> ParseDeviceSize(std::string_view flag, std::string_view text);

// A size in GiB ("10"): InvalidArgument unless a whole number 1..65536.
Result<int64_t> ParseGib(std::string_view flag, std::string_view text);

// BlockDeviceMapping.N.* parameters, N from 1; instance-store mappings get ephemeral0, 1, ...
// in order; new and resized EBS volumes are deleted on termination.
Params MappingParams(const std::vector<MappingSpec>& specs);

}  // namespace kiln::cli
