// The instance types kiln offers (DESIGN.md, Interface contract): their vCPUs and memory
// become the instance's cgroup limits; their instance-store disks are local sparse disks.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kiln {

struct InstanceTypeInfo {
  std::string name;    // "m5d.large"
  int vcpus = 0;       // VCpuInfo.DefaultVCpus
  int memory_mib = 0;  // MemoryInfo.SizeInMiB
  bool current_generation = true;
  int instance_store_gb = 0;             // InstanceStorageInfo.TotalSizeInGB; 0: none
  int instance_store_disks = 0;          // how many disks make up that total
  std::string instance_store_type;       // DiskInfo.Type: "ssd" or "hdd"
  bool ebs_encryption_supported = true;  // EbsInfo.EncryptionSupport
};

// Every type, in name order.
const std::vector<InstanceTypeInfo>& InstanceTypes();
// The type named `name`, or nullptr.
const InstanceTypeInfo* FindInstanceType(std::string_view name);

}  // namespace kiln
