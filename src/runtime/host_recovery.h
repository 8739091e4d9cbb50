// Host recovery: what the container runtime does first when it opens its state directory, so
// that a kilnd killed with running instances (kill -9, a crash) leaks nothing and leaves no
// instance frozen. The instances cannot go on: their volumes were served by the dead kilnd's
// FUSE mount, so every read or write they make fails.
//
// In order:
//  0. Abort the FUSE connection of a VolumeFs mount still at volumes/ (fusectl): its server is
//     dead, and a request waiting on it would keep the steps below from finishing. The caller
//     must own the state directory (kilnd holds its data directory's lock), so that no live
//     server is cut off.
//  1. For each instances/<id>/init.pid whose process is still that instance's init (same pid
//     and start time, so a recycled pid is never touched): thaw every disk file system mounted
//     in it (a writer blocked on a frozen file system cannot even be killed), then SIGKILL the
//     init, which ends its whole pid namespace, and wait for it to go. Its mount namespace
//     goes with it, and the kernel unmounts what the instance had mounted.
//  2. Remove the cgroups of every instance in the directory, killing stragglers.
//  3. Remove instance-store disks (instances/<id>/store): an instance that did not stop
//     cleanly lost them, as on EC2 when the host fails.
//  4. Unbind every loop device whose backing file is under the state directory.
//  5. Detach the VolumeFs mount at volumes/ if a dead one is still there.
// Every step runs even if an earlier one failed; the first error is returned after all ran.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace kiln {

struct RecoveryReport {
  std::vector<std::string> killed_instances;  // ids whose init was still running
  int thawed_file_systems = 0;
  int unbound_loop_devices = 0;
  bool detached_fuse_mount = false;
};

Result<RecoveryReport> RecoverHost(const std::string& state_dir);

// Writes instances/<id>/init.pid for `pid` (with its start time from /proc/<pid>/stat).
Status WriteInitPid(const std::string& instance_dir, pid_t pid);

// The start time of process `pid` (field 22 of /proc/<pid>/stat), or NotFound.
Result<uint64_t> ProcessStartTime(pid_t pid);

// Parses /proc/<pid>/stat's text; InvalidArgument when it is malformed.
Result<uint64_t> ParseStartTime(const std::string& stat_line);

}  // namespace kiln
