#include "api/instance_types.h"

namespace kiln {

const std::vector<InstanceTypeInfo>& InstanceTypes() {
  // name, vCPUs, MiB, current generation, instance store GB, disks, disk type, EBS encryption
  static const std::vector<InstanceTypeInfo> kTypes = {
      {"m1.small", 1, 1740, false, 160, 1, "hdd", false},
      {"m5.large", 2, 8192, true, 0, 0, "", true},
      {"m5d.large", 2, 8192, true, 75, 1, "ssd", true},
      {"t3.micro", 2, 1024, true, 0, 0, "", true},
      {"t3.small", 2, 2048, true, 0, 0, "", true},
  };
  return kTypes;
}

const InstanceTypeInfo* FindInstanceType(std::string_view name) {
  for (const InstanceTypeInfo& t : InstanceTypes()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace kiln
