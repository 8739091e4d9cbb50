// ContainerRuntime: the Runtime driver that runs each instance as a container (container.h):
// every attached EBS volume is a file in one VolumeFs (FUSE) mount with a loop device over it;
// every instance-store disk is a sparse local file with a loop device over it.
//
// Host state, all under `state_dir` (owned by the runtime; one runtime per directory):
//   volumes/                     the VolumeFs mount point (a file per attached EBS volume)
//   instances/<id>/console.log   the console log (last 64 KiB), across boots
//   instances/<id>/user-data.ran the first boot's user data has been started (never again)
//   instances/<id>/init.pid      "<pid> <start time>" of a running instance's init
//   instances/<id>/store/<dev>   instance-store disks (sparse files), removed at stop; an
//                                instance-store root (store/xvda) is filled from its source
//   instances/<id>/root/         the root file system's mount point (inside the instance only)
//
// Recovery: a kilnd killed with its instances running leaves them running on a dead FUSE
// mount, perhaps with frozen file systems. Open first runs RecoverHost (host_recovery.h): it
// thaws and kills those instances, removes their cgroups and instance-store disks, unbinds
// loop devices over files in `state_dir` and detaches the dead FUSE mount. recovery() lists
// them: they are stopped, and the caller may start them again after registering them.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "fuse/volume_fs.h"
#include "runtime/host_recovery.h"
#include "runtime/runtime.h"

namespace kiln {

struct ContainerRuntimeOptions {
  std::string state_dir;
  int stop_grace_ms = 10000;  // SIGTERM to SIGKILL
  VolumeFsOptions fuse;
};

class ContainerRuntime final : public Runtime {
 public:
  // Recovers the host (see above), then mounts the VolumeFs. FailedPrecondition when the host
  // cannot run containers (not root, no /dev/fuse or loop devices).
  static Result<std::unique_ptr<ContainerRuntime>> Open(const ContainerRuntimeOptions& options);
  // Stops every running instance (kilnd's clean shutdown), then unmounts the VolumeFs.
  ~ContainerRuntime() override;

  // What Open's recovery found and did: recovery().killed_instances were running under a kilnd
  // that ended without stopping them; they are stopped now.
  const RecoveryReport& recovery() const { return recovery_; }
  const std::string& state_dir() const { return options_.state_dir; }

  Status Register(const InstanceConfig& config) override;
  Status Start(const std::string& id) override;
  Status Stop(const std::string& id) override;
  Status Reboot(const std::string& id) override;
  Status RebootWith(const std::string& id, const std::function<Status()>& while_down) override;
  Status Terminate(const std::string& id) override;
  Status Attach(const std::string& id, const EbsAttachment& attachment) override;
  Status Detach(const std::string& id, const std::string& device, bool force) override;
  Status VolumeGrown(const std::string& id, const std::string& volume_id) override;
  Status Freeze(const std::string& id, int max_ms) override;
  Status Thaw(const std::string& id) override;
  Result<std::unique_ptr<ExecProcess>> Exec(const std::string& id,
                                            const ExecOptions& options) override;
  Result<std::string> ConsoleOutput(const std::string& id) override;
  Result<InstanceStatus> Describe(const std::string& id) override;

  struct Disk;
  struct Instance;

 private:
  ContainerRuntime(ContainerRuntimeOptions options, std::unique_ptr<VolumeFs> vfs,
                   RecoveryReport recovery);
  Result<std::shared_ptr<Instance>> Find(const std::string& id);
  // Both need the instance's mutex held.
  Status Boot(Instance& inst);
  Status Shutdown(Instance& inst, bool keep_disks);
  Status Plumb(Instance& inst, Disk& disk);
  Status Unplumb(Instance& inst, Disk& disk);
  // Claims `volume_id` for an instance (AlreadyExists if another has it) or releases it.
  Status ClaimVolume(const std::string& volume_id);
  void ReleaseVolume(const std::string& volume_id);

  const ContainerRuntimeOptions options_;
  std::unique_ptr<VolumeFs> vfs_;
  const RecoveryReport recovery_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Instance>> instances_;  // guarded by mu_
  std::set<std::string> attached_volumes_;                      // guarded by mu_
};

}  // namespace kiln
