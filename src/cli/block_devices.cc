#include "cli/block_devices.h"

#include <charconv>

namespace kiln::cli {

Result<std::string> NormalizeDevice(std::string_view flag, std::string_view text) {
  std::string_view name = text;
  if (name.rfind("/dev/", 0) == 0) name.remove_prefix(5);
  const auto bad = [&](const std::string& why) {
    return InvalidArgumentError(std::string(flag) + ": bad device '" + std::string(text) +
                                "': " + why);
  };
  if (name.empty()) return bad("expected a device name such as sdf or /dev/sdf");
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
      return bad("a device name is lower-case letters and digits (sdf, xvdg)");
    }
  }
  return "/dev/" + std::string(name);
}

Result<int64_t> ParseGib(std::string_view flag, std::string_view text) {
  int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v < 1 || v > 65536) {
    return InvalidArgumentError(std::string(flag) + ": bad size '" + std::string(text) +
                                "': expected whole GiB from 1 to 65536");
  }
  return v;
}

Result<MappingSpec> ParseDeviceSize(std::string_view flag, std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return InvalidArgumentError(std::string(flag) + ": expected DEV:SIZE (e.g. sdf:10), got '" +
                                std::string(text) + "'");
  }
  MappingSpec spec;
  ASSIGN_OR_RETURN(spec.device, NormalizeDevice(flag, text.substr(0, colon)));
  ASSIGN_OR_RETURN(spec.size_gib, ParseGib(flag, text.substr(colon + 1)));
  return spec;
}

Params MappingParams(const std::vector<MappingSpec>& specs) {
  Params params;
  int ephemeral = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    const MappingSpec& s = specs[i];
    const std::string p = "BlockDeviceMapping." + std::to_string(i + 1) + ".";
    params.emplace_back(p + "DeviceName", s.device);
    switch (s.kind) {
      case MappingSpec::Kind::kEbsNew:
      case MappingSpec::Kind::kEbsResize:
        params.emplace_back(p + "Ebs.VolumeSize", std::to_string(s.size_gib));
        params.emplace_back(p + "Ebs.DeleteOnTermination", "true");
        break;
      case MappingSpec::Kind::kInstanceStore:
        params.emplace_back(p + "VirtualName", "ephemeral" + std::to_string(ephemeral++));
        break;
      case MappingSpec::Kind::kNoDevice:
        params.emplace_back(p + "NoDevice", "");
        break;
    }
  }
  return params;
}

}  // namespace kiln::cli
