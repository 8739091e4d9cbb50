// Container: the container runtime's instance. An instance is a set of Linux namespaces (mount,
// pid, uts, ipc, network) whose root is the ext4 file system on its root volume's block device
// (a loop device over the volume's FUSE file); its init is the image's /sbin/init, PID 1 of its
// pid namespace; its hostname is the instance id; every attached volume is a block device node
// at its device name and its xvd/sd twin.
//
// Mounts live only in the instance's mount namespace: when the last process of the instance
// exits the kernel unmounts them, so nothing is left on the host. Stop (and the end of the
// instance for any reason) waits until the root device is released (unmounted) before it
// returns, so the volume below holds everything the guest wrote.
//
// Console: stdout and stderr of init and of everything it starts (user data too) go to a pipe
// that a host thread copies into `<state_dir>/console.log`, kept to the last 64 KiB (EC2's
// GetConsoleOutput), across reboots and stop/start.
//
// User data: when the spec says to run it (the runtime's caller keeps whether it has run,
// outside the instance's volumes), it is copied to /run/kiln/user-data inside the instance and
// run as root by a process started just before init, its output on the console.
//
// Thread-safety: a Container is used from one thread at a time; the console thread is its own.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "runtime/cgroup.h"
#include "runtime/exec.h"

namespace kiln {

struct ContainerDevice {
  std::string name;    // as mapped: "/dev/xvda", "/dev/sdf", "/dev/xvdf"
  unsigned major = 0;  // the host block device's number (a loop device)
  unsigned minor = 0;
};

struct ContainerSpec {
  std::string instance_id;  // the hostname
  // A host directory the runtime owns for this instance: console.log, the root mount point.
  std::string state_dir;
  std::string root_device;               // host path of the root block device ("/dev/loop3")
  std::vector<ContainerDevice> devices;  // every device node to make, root's included
  std::string user_data;                 // run once if non-empty and run_user_data
  bool run_user_data = false;
  std::string init = "/sbin/init";
  // The instance type's limits, enforced by cgroups (v1 or v2) from before init runs.
  CgroupLimits limits;
};

// The console log is kept to this many bytes (EC2 returns the last 64 KiB).
inline constexpr size_t kConsoleLogBytes = 64 * 1024;

class Container {
 public:
  // Starts the instance: InvalidArgument for a bad spec; FailedPrecondition if the host cannot
  // make namespaces or mounts (not root); the root device's file system errors (not ext4,
  // corrupt) come back as InvalidArgument with mount's reason, and nothing is left running.
  static Result<std::unique_ptr<Container>> Start(const ContainerSpec& spec);
  // Kills whatever is left (SIGKILL) and waits, as Stop with no grace.
  ~Container();

  pid_t pid() const { return pid_; }  // init, as the host sees it
  bool running();                     // init has not exited
  // Guest shutdown: SIGTERM to init (the base image's tini has its rc run rcK, the clean
  // shutdown, and exits when that is done; busybox init runs its inittab's shutdown actions;
  // init starts with no signal blocked, whatever kilnd's threads block), then waits until
  // init exits or the guest is at rest, whichever comes first, SIGKILL after `grace_ms` at the
  // latest; then waits until the root device is released. Idempotent.
  //
  // At rest: no process is left in the instance but init, and every disk file system mounted
  // in it (the root, volumes, instance store) has a read-only superblock, seen on two polls in
  // a row. A guest whose shutdown has got there has nothing left to do that could reach a
  // volume, so init is killed then rather than waited for: busybox init, for one, would sleep
  // 2 s more before it exits. A guest that gets to neither gets the whole grace period.
  Status Stop(int grace_ms = 10000);
  // How the last Stop ended the guest, for logs and tests.
  enum class StopEnd {
    kNone,          // not stopped
    kExited,        // init had exited by itself (or exited on SIGTERM)
    kAtRest,        // the guest was at rest (see Stop): init killed without waiting further
    kGraceExpired,  // SIGKILL after the grace period
    kKilled,        // SIGKILL with no grace (Stop(0), destruction)
  };
  StopEnd stop_end() const { return stop_end_; }
  const std::string& console_path() const { return console_path_; }
  // The instance's cgroups (null once stopped); cgroup()->skipped() lists limits the host could
  // not apply.
  const InstanceCgroup* cgroup() const { return cgroup_.get(); }

  // Freezes every file system mounted in the instance (FIFREEZE: ext4 flushes its dirty data
  // and journal through the loop device into the volume, then blocks writers), so a snapshot
  // taken now is file-system consistent: CreateImage with NoReboot. A writer to a frozen file
  // system waits uninterruptibly, so the freeze is bounded: a watchdog thread, which never
  // touches the frozen file systems, thaws them after `max_ms` if Thaw has not. Thaw also runs
  // on Stop and destruction. FailedPrecondition if the instance is not running or already
  // frozen; on an error part way, whatever was frozen is thawed again.
  Status Freeze(int max_ms = 30000);
  // Thaws what Freeze froze. OK if nothing is frozen. Returns the first error but thaws all.
  Status Thaw();
  bool frozen() const;

  // Makes (or removes) a block device node in the running instance's /dev, for a volume
  // attached (or detached) while it runs. `name` as ContainerSpec's device names.
  Status AddDeviceNode(const ContainerDevice& device);
  Status RemoveDeviceNode(const std::string& name);
  // Where Exec finds the instance (its init and cgroups).
  ExecTarget exec_target() const;

 private:
  Container(const ContainerSpec& spec, pid_t pid, int console_fd);
  void CopyConsole(int fd);
  Status WaitReleased(int timeout_ms);
  // After SIGTERM: polls until init exits, the guest is at rest, or `grace_ms` passes.
  StopEnd AwaitShutdown(int grace_ms);

  void Watchdog(int max_ms);
  Status ThawLocked();  // requires freeze_mu_

  ContainerSpec spec_;
  std::unique_ptr<InstanceCgroup> cgroup_;
  pid_t pid_;
  mutable std::mutex freeze_mu_;
  std::condition_variable thawed_cv_;
  std::vector<int> frozen_fds_;  // guarded by freeze_mu_: mount points frozen, in order
  bool watchdog_fired_ = false;  // guarded by freeze_mu_
  std::thread watchdog_;
  bool reaped_ = false;
  StopEnd stop_end_ = StopEnd::kNone;
  std::string console_path_;
  std::thread console_thread_;
};

// Reads the console log (at most the last kConsoleLogBytes).
Result<std::string> ReadConsoleLog(const std::string& path);

}  // namespace kiln
