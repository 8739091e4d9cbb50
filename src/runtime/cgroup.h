// InstanceCgroup: the cgroup that enforces an instance type's limits (memory, vCPUs) on an
// instance's processes. Works on cgroup v2 (a unified hierarchy at /sys/fs/cgroup, as most
// production hosts) and on v1 (a memory and a cpu hierarchy, as this project's CI hosts).
// Layout: <hierarchy>/kiln/<instance id>; limits are readable there by the host:
//   v2: memory.max, memory.swap.max = 0, cpu.max = "<vcpus x 100000> 100000"
//   v1: memory/kiln/<id>/memory.limit_in_bytes (and memory.memsw.limit_in_bytes),
//       cpu/kiln/<id>/cpu.cfs_quota_us with cpu.cfs_period_us = 100000
// Where a controller is missing the limit is not applied and `skipped()` says which, so the
// caller can log it clearly (a host without cgroups still runs instances).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace kiln {

struct CgroupLimits {
  uint64_t memory_bytes = 0;  // 0: no limit
  double vcpus = 0;           // 0: no limit
};

class InstanceCgroup {
 public:
  // Makes the instance's cgroups and applies `limits`. `root` is the cgroup mount (tests may
  // point elsewhere). IoError if a cgroup cannot be made where its controller exists.
  static Result<std::unique_ptr<InstanceCgroup>> Create(const std::string& instance_id,
                                                        const CgroupLimits& limits,
                                                        const std::string& root = "/sys/fs/cgroup");
  // Removes the cgroups (they must be empty: the instance has ended). Best effort.
  ~InstanceCgroup();

  // Moves process `pid` (and its future children) into the cgroups.
  Status Add(pid_t pid);
  // The directories made (one for v2; memory and cpu for v1).
  const std::vector<std::string>& dirs() const { return dirs_; }
  bool v2() const { return v2_; }
  // Controllers that were not available, for the caller's log ("memory", "cpu").
  const std::vector<std::string>& skipped() const { return skipped_; }

 private:
  InstanceCgroup() = default;
  bool v2_ = false;
  std::vector<std::string> dirs_;
  std::vector<std::string> skipped_;
};

// Removes the cgroups an instance left behind (a kilnd that was killed): kills any process still
// in them and removes the directories. OK when there are none.
Status RemoveInstanceCgroups(const std::string& instance_id,
                             const std::string& root = "/sys/fs/cgroup");

}  // namespace kiln
