// VolumeFs: a FUSE file system (libfuse3, low-level API) served by kilnd that shows each
// attached volume as one regular file, so that a loop device over the file gives the kernel a
// block device backed by the volume engine: reads fetch lazily from snapshots, writes are
// tracked dirty, fsync reaches Volume::Flush, and discard (fallocate punch-hole or zero-range,
// which the loop device sends for fstrim/blkdiscard) becomes Volume::WriteZeroes, so trimmed
// space costs nothing in snapshots.
//
// The mount is flat: "<mountpoint>/<name>" per volume, mode 0600, owned by root. Files are
// opened with direct I/O (FOPEN_DIRECT_IO): the guest's page cache above the loop device is the
// only cache, the volume's data file below is the store; a second copy in the FUSE file's page
// cache would only waste memory. Requests are up to 1 MiB (max_write, max_pages) and served by
// a pool of threads, so the loop device's queue depth reaches the volume.
//
// Names: [A-Za-z0-9._-], 1..128 characters. A file cannot be created, removed, renamed or
// resized through the mount; only Add and Remove change the listing, and only a volume's Grow
// (then Resized) its size.
//
// Thread-safety: Add, Remove, Resized and the accessors may be called from any thread while the
// mount serves requests.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "volume/volume.h"

namespace kiln {

struct VolumeFsOptions {
  int threads = 16;  // request threads (the loop device keeps many requests in flight)
  // Largest read or write the kernel sends in one request.
  uint32_t max_request_bytes = 1 << 20;
};

class VolumeFs {
 public:
  // Mounts an empty VolumeFs on `mountpoint` (an existing empty directory) and starts serving.
  // Needs root (or fusermount3) and /dev/fuse: FailedPrecondition with the reason otherwise.
  static Result<std::unique_ptr<VolumeFs>> Mount(const std::string& mountpoint,
                                                 VolumeFsOptions options = {});
  // Unmounts (lazily if still busy) and stops the request threads.
  ~VolumeFs();

  const std::string& mountpoint() const;
  // "<mountpoint>/<name>".
  std::string PathOf(const std::string& name) const;

  // Shows `volume` as file `name`. `volume` must stay open until Remove returns. AlreadyExists
  // if the name is taken, InvalidArgument for a bad name.
  Status Add(const std::string& name, Volume* volume);
  // Hides the file: FailedPrecondition while it is open (a loop device holds it), NotFound if
  // absent. After it returns no request touches the volume.
  Status Remove(const std::string& name);
  // Tells the kernel that file `name` changed size (its volume grew, Volume::Grow): when it
  // returns, the kernel's size of the file is the volume's, so a stat() shows it and a loop
  // device over the file can take it (LoopDevice::RefreshCapacity). NotFound if absent; an
  // IoError if the kernel would not take the new size.
  Status Resized(const std::string& name);

  class Impl;

 private:
  explicit VolumeFs(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln
