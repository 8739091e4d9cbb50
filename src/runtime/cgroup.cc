#include "runtime/cgroup.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace kiln {
namespace {

constexpr uint64_t kCpuPeriodUs = 100000;

bool Exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

Status WriteValue(const std::string& path, const std::string& value) {
  std::ofstream out(path);
  out << value;
  out.flush();
  if (!out) return IoError("writing '" + value + "' to " + path);
  return Status::Ok();
}

Status MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoError("making cgroup " + path, errno);
  }
  return Status::Ok();
}

std::string CpuQuota(double vcpus) {
  return std::to_string(static_cast<uint64_t>(vcpus * kCpuPeriodUs));
}

}  // namespace

Result<std::unique_ptr<InstanceCgroup>> InstanceCgroup::Create(const std::string& instance_id,
                                                               const CgroupLimits& limits,
                                                               const std::string& root) {
  std::unique_ptr<InstanceCgroup> cg(new InstanceCgroup());
  cg->v2_ = Exists(root + "/cgroup.controllers");
  if (cg->v2_) {
    const std::string parent = root + "/kiln";
    RETURN_IF_ERROR(MakeDir(parent));
    // Children of kiln/ get the memory and cpu controllers (needs them enabled above too).
    WriteValue(parent + "/cgroup.subtree_control", "+memory +cpu").IgnoreError();
    const std::string dir = parent + "/" + instance_id;
    RETURN_IF_ERROR(MakeDir(dir));
    cg->dirs_.push_back(dir);
    if (limits.memory_bytes > 0) {
      if (Exists(dir + "/memory.max")) {
        RETURN_IF_ERROR(WriteValue(dir + "/memory.max", std::to_string(limits.memory_bytes)));
        if (Exists(dir + "/memory.swap.max")) {
          RETURN_IF_ERROR(WriteValue(dir + "/memory.swap.max", "0"));
        }
      } else {
        cg->skipped_.push_back("memory");
      }
    }
    if (limits.vcpus > 0) {
      if (Exists(dir + "/cpu.max")) {
        RETURN_IF_ERROR(WriteValue(dir + "/cpu.max",
                                   CpuQuota(limits.vcpus) + " " + std::to_string(kCpuPeriodUs)));
      } else {
        cg->skipped_.push_back("cpu");
      }
    }
    return cg;
  }
  // v1: one hierarchy per controller.
  struct V1 {
    const char* controller;
    bool wanted;
  };
  for (const V1& c : {V1{"memory", limits.memory_bytes > 0}, V1{"cpu", limits.vcpus > 0}}) {
    if (!c.wanted) continue;
    const std::string hierarchy = root + "/" + c.controller;
    if (!Exists(hierarchy + "/cgroup.procs")) {
      cg->skipped_.push_back(c.controller);
      continue;
    }
    RETURN_IF_ERROR(MakeDir(hierarchy + "/kiln"));
    const std::string dir = hierarchy + "/kiln/" + instance_id;
    RETURN_IF_ERROR(MakeDir(dir));
    cg->dirs_.push_back(dir);
    if (std::string(c.controller) == "memory") {
      const std::string bytes = std::to_string(limits.memory_bytes);
      RETURN_IF_ERROR(WriteValue(dir + "/memory.limit_in_bytes", bytes));
      // Without swap accounting's limit the instance could swap instead of meeting its limit.
      if (Exists(dir + "/memory.memsw.limit_in_bytes")) {
        RETURN_IF_ERROR(WriteValue(dir + "/memory.memsw.limit_in_bytes", bytes));
      }
    } else {
      RETURN_IF_ERROR(WriteValue(dir + "/cpu.cfs_period_us", std::to_string(kCpuPeriodUs)));
      RETURN_IF_ERROR(WriteValue(dir + "/cpu.cfs_quota_us", CpuQuota(limits.vcpus)));
    }
  }
  return cg;
}

InstanceCgroup::~InstanceCgroup() {
  // rmdir of a cgroup whose processes are gone; the kernel refuses it (EBUSY) while any live.
  for (const std::string& dir : dirs_) rmdir(dir.c_str());
}

Status InstanceCgroup::Add(pid_t pid) {
  for (const std::string& dir : dirs_) {
    RETURN_IF_ERROR(WriteValue(dir + "/cgroup.procs", std::to_string(pid)));
  }
  return Status::Ok();
}

namespace {

// Kills every process in cgroup `dir` until it is empty (bounded), then removes it.
Status DrainAndRemove(const std::string& dir) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    std::ifstream procs(dir + "/cgroup.procs");
    bool any = false;
    for (pid_t pid; procs >> pid;) {
      any = true;
      kill(pid, SIGKILL);
    }
    if (!any && (rmdir(dir.c_str()) == 0 || errno == ENOENT)) return Status::Ok();
    if (std::chrono::steady_clock::now() >= deadline) {
      return IoError("cgroup " + dir + " still has processes after SIGKILL");
    }
    usleep(10 * 1000);  // the killed processes are exiting
  }
}

}  // namespace

Status RemoveInstanceCgroups(const std::string& instance_id, const std::string& root) {
  Status first;
  for (const char* hierarchy : {"", "/memory", "/cpu", "/cpu,cpuacct"}) {
    const std::string dir = root + hierarchy + "/kiln/" + instance_id;
    if (!Exists(dir)) continue;
    Status s = DrainAndRemove(dir);
    if (first.ok()) first = s;
  }
  return first;
}

}  // namespace kiln
