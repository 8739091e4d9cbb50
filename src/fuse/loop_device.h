// LoopDevice: a kernel loop device bound to a file (LOOP_CONFIGURE), so the file can be used as
// a block device: mounted, formatted, made into a device node inside an instance.
//
// The device is set up with LO_FLAGS_AUTOCLEAR: the kernel unbinds it when its last user goes
// (our descriptor, and any mount of it), so a kilnd that is killed leaks no loop device once the
// instance's mounts are gone. Direct I/O (LO_FLAGS_DIRECT_IO) is asked for and kept when the
// backing file accepts it: without it the kernel would cache every block twice (above the loop
// device and in the backing file's page cache).
//
// Thread-safety: a LoopDevice is used from one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"

namespace kiln {

struct LoopOptions {
  bool read_only = false;
  bool direct_io = true;  // asked for; direct_io() says whether the kernel took it
  // Logical block size the device shows (512 .. 4096). 512 as EBS volumes show (512e): a file
  // system with 1 KiB blocks (mke2fs's choice for small ones) cannot mount on a 4 KiB device.
  uint32_t block_size = 512;
};

class LoopDevice {
 public:
  // Binds a free loop device to `file`. FailedPrecondition if loop devices are unavailable
  // (no /dev/loop-control, not root), NotFound if `file` is missing.
  static Result<std::unique_ptr<LoopDevice>> Attach(const std::string& file,
                                                    LoopOptions options = {});
  // Detaches (see Detach); errors are ignored.
  ~LoopDevice();
  LoopDevice(const LoopDevice&) = delete;
  LoopDevice& operator=(const LoopDevice&) = delete;

  const std::string& path() const { return path_; }  // "/dev/loopN"
  int number() const { return number_; }
  // The device number (for mknod of the device inside an instance).
  unsigned device_major() const;
  unsigned device_minor() const;
  bool direct_io() const { return direct_io_; }

  // Makes the device take its backing file's current size (LOOP_SET_CAPACITY), at once and
  // while it is mounted or open elsewhere: after the file grew, the block device is as large
  // (rounded down to its logical block size). The kernel reads the size the file's inode has
  // now; for a FUSE file that is VolumeFs::Resized's job. FailedPrecondition after Detach.
  Status RefreshCapacity();

  // Unbinds the device now if nothing else uses it; while it is mounted, the kernel unbinds it
  // when the mount goes (autoclear). Closes our descriptor. Idempotent.
  Status Detach();

 private:
  LoopDevice(int fd, int number, std::string path, bool direct_io, uint64_t rdev)
      : fd_(fd), number_(number), path_(std::move(path)), direct_io_(direct_io), rdev_(rdev) {}
  int fd_;
  int number_;
  std::string path_;
  bool direct_io_;
  uint64_t rdev_;
};

}  // namespace kiln
