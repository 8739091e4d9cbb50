// libFuzzer target: the block-device arguments of `kiln launch` and `kiln create-image`
// (DEV, DEV:SIZE, SIZE). NormalizeDevice accepts exactly [/dev/][a-z0-9]+ and returns
// "/dev/NAME", idempotently; ParseGib accepts exactly the decimal numbers 1..65536;
// ParseDeviceSize splits at the last ':' and agrees with both; failures are InvalidArgument
// without an EC2 code (a usage error) naming the flag; MappingParams numbers its mappings
// from 1 and sends every accepted device as it is.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "cli/block_devices.h"

namespace {

void CheckError(const kiln::Status& s) {
  if (s.code() != kiln::Code::kInvalidArgument || s.ec2_code()) std::abort();
  if (s.message().rfind("--volume", 0) != 0) std::abort();
}

bool ValidName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  using kiln::cli::MappingSpec;
  std::vector<MappingSpec> specs;

  kiln::Result<std::string> device = kiln::cli::NormalizeDevice("--volume", text);
  const std::string_view name = text.rfind("/dev/", 0) == 0 ? text.substr(5) : text;
  if (device.ok() != ValidName(name)) std::abort();
  if (device.ok()) {
    if (*device != "/dev/" + std::string(name)) std::abort();
    kiln::Result<std::string> again = kiln::cli::NormalizeDevice("--volume", *device);
    if (!again.ok() || *again != *device) std::abort();
    specs.push_back({MappingSpec::Kind::kInstanceStore, *device, 0});
  } else {
    CheckError(device.status());
  }

  kiln::Result<int64_t> gib = kiln::cli::ParseGib("--volume", text);
  const bool digits = !text.empty() && text.find_first_not_of("0123456789") == text.npos;
  const std::string_view significant =
      text.substr(std::min(text.find_first_not_of('0'), text.size()));
  const int64_t value =
      digits && significant.size() <= 6 ? std::stoll("0" + std::string(significant)) : -1;
  if (gib.ok() != (value >= 1 && value <= 65536)) std::abort();
  if (gib.ok()) {
    if (*gib != value) std::abort();
  } else {
    CheckError(gib.status());
  }

  kiln::Result<MappingSpec> spec = kiln::cli::ParseDeviceSize("--volume", text);
  const size_t colon = text.rfind(':');
  if (spec.ok()) {
    kiln::Result<std::string> d = kiln::cli::NormalizeDevice("--volume", text.substr(0, colon));
    kiln::Result<int64_t> g = kiln::cli::ParseGib("--volume", text.substr(colon + 1));
    if (!d.ok() || !g.ok() || *d != spec->device || *g != spec->size_gib) std::abort();
    specs.push_back(*spec);
  } else {
    CheckError(spec.status());
  }

  const kiln::cli::Params params = kiln::cli::MappingParams(specs);
  size_t devices = 0;
  for (const auto& [key, value] : params) {
    if (key.rfind("BlockDeviceMapping.", 0) != 0) std::abort();
    if (key.size() > 11 && key.compare(key.size() - 11, 11, ".DeviceName") == 0) {
      if (value != specs.at(devices).device) std::abort();
      if (key != "BlockDeviceMapping." + std::to_string(devices + 1) + ".DeviceName") std::abort();
      ++devices;
    }
  }
  if (devices != specs.size()) std::abort();
  return 0;
}
