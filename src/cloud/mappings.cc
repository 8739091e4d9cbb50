#include "cloud/mappings.h"

#include <regex>

#include "cloud/action_util.h"
#include "cloud/hydration.h"

namespace kiln {
namespace {

bool ValidDevice(const std::string& d) {
  static const std::regex re("^/dev/(xvda|sd[b-z]|xvd[b-z])$");
  return std::regex_match(d, re);
}

std::string Canonical(const std::string& d) {
  if (d.starts_with("/dev/sd")) return "/dev/xvd" + d.substr(7);
  return d;
}

Status BadMapping(const std::string& why) { return Ec2Error("InvalidBlockDeviceMapping", why); }

}  // namespace

bool SameDevice(const std::string& a, const std::string& b) { return Canonical(a) == Canonical(b); }

Result<std::vector<BlockDeviceMapping>> ParseMappings(const QueryParams& params) {
  ASSIGN_OR_RETURN(std::vector<QueryParams> items, params.Structs("BlockDeviceMapping"));
  std::vector<BlockDeviceMapping> out;
  for (const QueryParams& p : items) {
    BlockDeviceMapping m;
    m.device_name = p.Get("DeviceName").value_or("");
    if (!ValidDevice(m.device_name)) {
      return BadMapping("Invalid device name " + m.device_name +
                        " (use /dev/xvda for the root, /dev/sd[b-z] or /dev/xvd[b-z])");
    }
    for (const BlockDeviceMapping& o : out) {
      if (SameDevice(o.device_name, m.device_name)) {
        return BadMapping("The device " + m.device_name + " is mapped more than once");
      }
    }
    m.virtual_name = p.Get("VirtualName").value_or("");
    m.no_device = p.Has("NoDevice");
    const QueryParams ebs = p.Struct("Ebs");
    const bool has_ebs = ebs.size() > 0;
    if (!m.virtual_name.empty()) {
      static const std::regex eph("^ephemeral([0-9]|[1-9][0-9])$");
      if (!std::regex_match(m.virtual_name, eph)) {
        return BadMapping("Invalid virtual name " + m.virtual_name + " (use ephemeralN)");
      }
    }
    if (has_ebs) {
      m.snapshot_id = ebs.Get("SnapshotId").value_or("");
      ASSIGN_OR_RETURN(std::optional<int64_t> size, IntParam(ebs, "VolumeSize", 1, 16384));
      m.volume_size = size.value_or(0);
      ASSIGN_OR_RETURN(m.delete_on_termination, BoolParam(ebs, "DeleteOnTermination", true));
      ASSIGN_OR_RETURN(m.encrypted, BoolParam(ebs, "Encrypted", false));
      m.volume_type = ebs.Get("VolumeType").value_or("gp2");
      ASSIGN_OR_RETURN(std::optional<int64_t> iops, IntParam(ebs, "Iops", 100, 256000));
      m.iops = iops.value_or(0);
      m.kms_key_id = ebs.Get("KmsKeyId").value_or("");
      // Range only here; whether the volume comes from a snapshot is known after the merge.
      ASSIGN_OR_RETURN(std::optional<int> rate,
                       VolumeInitializationRateParam(ebs, "VolumeInitializationRate", true));
      m.initialization_rate_mib = rate.value_or(0);
      if (!m.kms_key_id.empty() && !m.encrypted) {
        return Ec2Error("InvalidParameterDependency",
                        "The parameter KmsKeyId requires the parameter Encrypted to be set.");
      }
    }
    const int kinds = (has_ebs ? 1 : 0) + (m.virtual_name.empty() ? 0 : 1) + (m.no_device ? 1 : 0);
    if (kinds != 1) {
      return BadMapping("The mapping for " + m.device_name +
                        " must be exactly one of Ebs, VirtualName and NoDevice");
    }
    out.push_back(m);
  }
  return out;
}

bool MapsDevice(const std::vector<BlockDeviceMapping>& mappings, const std::string& device) {
  return std::any_of(mappings.begin(), mappings.end(), [&](const BlockDeviceMapping& m) {
    return SameDevice(m.device_name, device);
  });
}

std::vector<BlockDeviceMapping> MergeMappings(const std::vector<BlockDeviceMapping>& image,
                                              const std::vector<BlockDeviceMapping>& request) {
  std::vector<BlockDeviceMapping> out;
  for (const BlockDeviceMapping& m : image) {
    auto r = std::find_if(request.begin(), request.end(), [&](const BlockDeviceMapping& x) {
      return SameDevice(x.device_name, m.device_name);
    });
    if (r == request.end()) {
      out.push_back(m);
    } else if (!r->no_device) {
      BlockDeviceMapping merged = *r;
      merged.device_name = m.device_name;
      if (r->virtual_name.empty() && merged.snapshot_id.empty()) {
        merged.snapshot_id = m.snapshot_id;
        if (merged.volume_size == 0) merged.volume_size = m.volume_size;
      }
      out.push_back(merged);
    }
  }
  for (const BlockDeviceMapping& r : request) {
    if (r.no_device) continue;
    bool in_image = std::any_of(image.begin(), image.end(), [&](const BlockDeviceMapping& m) {
      return SameDevice(m.device_name, r.device_name);
    });
    if (!in_image) out.push_back(r);
  }
  return out;
}

}  // namespace kiln
