// Runtime: the instance runtime's interface (DESIGN.md, Instance runtime). The control plane
// says what an instance is (its volumes, instance-store disks, user data, limits) and asks for
// state changes; a driver makes them real on the host. The first driver is the container
// runtime (container_runtime.h); a VM driver (qemu, volumes over NBD) can come later behind the
// same interface.
//
// Ownership: EBS volumes belong to the caller, which opens them (SnapshotStore::OpenVolume) and
// keeps them open while they are attached, running or stopped, so it can snapshot them; the
// runtime borrows them. Instance-store disks belong to the runtime: local, thin, empty at
// launch, kept across reboot, gone at stop and terminate, never in a snapshot. The runtime
// also keeps, per instance and outside its volumes, the console log (last 64 KiB, across
// reboots and stop/start) and whether its user data has run: an image made from the instance
// does not carry that, so an instance launched from the image runs its own user data.
//
// Errors: InvalidArgument for a bad id or device name (EC2's InvalidBlockDeviceMapping), no or
// two root disks, and a root disk without a usable ext4 file system; NotFound for an unknown
// instance or device; AlreadyExists for a device name or volume already attached;
// FailedPrecondition for an operation the instance's state does not allow (EC2's
// IncorrectInstanceState). A failed operation leaves nothing behind on the host (mounts, loop
// devices, processes, cgroups).
//
// Thread-safety: all methods may be called concurrently; operations on one instance are
// serialized.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "runtime/cgroup.h"
#include "runtime/exec.h"
#include "volume/volume.h"

namespace kiln {

// An EBS volume at a device name.
struct EbsAttachment {
  std::string device;     // "/dev/xvda" (root), "/dev/sdf" or "/dev/xvdf" (shown at both)
  std::string volume_id;  // "vol-..."; unique among attached volumes
  Volume* volume = nullptr;
};

// A local instance-store disk at a device name.
struct InstanceStoreDisk {
  std::string device;  // "/dev/sdb" (shown at /dev/sdb and /dev/xvdb); or the root device
  uint64_t size_bytes = 0;
  // Optional: fills the disk each time it is made (at a start from stopped, never at a reboot):
  // called with the path of a new sparse file of size_bytes, all zeros, before any loop device
  // or guest sees it. An instance-store-backed image's root is copied in this way. An error
  // fails the start (the file is removed). Called with the instance's operations serialized;
  // it must not call back into the runtime for the same instance.
  std::function<Status(const std::string& path)> source = nullptr;
};

struct InstanceConfig {
  std::string instance_id;  // "i-" + 17 hex digits; the hostname
  std::string root_device = "/dev/xvda";
  // The root is exactly one disk at root_device: an EBS volume (EBS-backed), or an
  // instance-store disk (instance-store-backed: its `source` holds the image's root; it is
  // kept across reboot and lost at stop, so a stop and start boots a fresh copy).
  std::vector<EbsAttachment> volumes;
  std::vector<InstanceStoreDisk> instance_store;
  // Run as root at the first boot, once, when it starts with "#!".
  std::string user_data;
  // Optional: the generated admin password (admin_password.h). At the instance's first boot
  // whose image's launch settings ask for one, the runtime sets it in the guest before init
  // runs, then calls this with the admin user and the plaintext, once: the caller keeps what
  // it needs (kiln: the password encrypted for the key pair) and must not log or store the
  // plaintext. Its error fails that boot, and the next start sets a new password. Null: the
  // runtime leaves the launch settings alone.
  std::function<Status(const std::string& user, const std::string& password)> admin_password =
      nullptr;
  CgroupLimits limits;
};

struct InstanceStatus {
  bool running = false;
  pid_t init_pid = 0;                // as the host sees it; 0 when stopped
  bool user_data_ran = false;        // the first boot's user data has been started
  std::vector<std::string> devices;  // every device name shown inside, root first
};

class Runtime {
 public:
  virtual ~Runtime() = default;

  // Makes the instance known (stopped). Its host state (console log, first-boot record) is kept
  // from an earlier registration of the same id, as after a kilnd restart.
  virtual Status Register(const InstanceConfig& config) = 0;
  // Boots the instance: its volumes become block devices, the root file system is grown to the
  // root volume's size if smaller, and init (and, at the first boot, the user data) runs.
  virtual Status Start(const std::string& id) = 0;
  // Guest shutdown (SIGTERM to init, SIGKILL after the grace period), everything the instance
  // mounted unmounted, loop devices detached, volumes flushed; instance-store data is dropped.
  virtual Status Stop(const std::string& id) = 0;
  // The same guest shutdown and a boot, keeping the block devices and instance-store data.
  virtual Status Reboot(const std::string& id) = 0;
  // A reboot that calls `while_down` once the guest is shut down and its volumes flushed and
  // quiet, before it boots again (CreateImage fixes its snapshots' point in time there). The
  // guest boots again whatever `while_down` returns; its error is returned after the boot.
  virtual Status RebootWith(const std::string& id, const std::function<Status()>& while_down) = 0;
  // Stops the instance if running, forgets it and removes its host state. The caller deletes
  // the volumes whose mapping says DeleteOnTermination (it owns them).
  virtual Status Terminate(const std::string& id) = 0;

  // Attaches an EBS volume (running: the device nodes appear inside at once; stopped: at the
  // next start).
  virtual Status Attach(const std::string& id, const EbsAttachment& attachment) = 0;
  // Detaches the volume at `device` (either spelling): the nodes disappear, the volume is
  // flushed and no longer touched. While the guest has it mounted: FailedPrecondition, unless
  // `force`, which unmounts it inside the instance first (EC2's forced detach: the guest loses
  // what it had not written). The root volume of a running instance cannot be detached.
  virtual Status Detach(const std::string& id, const std::string& device, bool force) = 0;

  // Elastic Volumes: the caller has grown attached volume `volume_id` (Volume::Grow); the
  // device the instance sees takes the new size. Running: at once, with no detach and no
  // reboot (the guest may then grow its file system online, e.g. resize2fs). Stopped: nothing
  // to do, the next start shows the new size (and grows the root file system, as Start does).
  // NotFound for an unknown instance or a volume not attached to it. On an error the volume
  // keeps its new size; the device may still show the old one until the next start.
  virtual Status VolumeGrown(const std::string& id, const std::string& volume_id) = 0;

  // Freezes every file system the instance has mounted from its disks, for a NoReboot image;
  // thawed by Thaw, by a watchdog after `max_ms`, and on every stop. See Container::Freeze.
  virtual Status Freeze(const std::string& id, int max_ms) = 0;
  virtual Status Thaw(const std::string& id) = 0;

  // Runs a command inside the running instance (exec.h).
  virtual Result<std::unique_ptr<ExecProcess>> Exec(const std::string& id,
                                                    const ExecOptions& options) = 0;
  // The console log's last 64 KiB (also for a stopped instance).
  virtual Result<std::string> ConsoleOutput(const std::string& id) = 0;
  // The instance's state. An instance whose init ended on its own (the guest powered off) is
  // cleaned up as by Stop and reported stopped.
  virtual Result<InstanceStatus> Describe(const std::string& id) = 0;
};

}  // namespace kiln
