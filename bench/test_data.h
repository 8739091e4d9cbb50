// The benchmark's test data: an ext4 filesystem image of a given size, filled to about 55% with
// files from the host's /usr, so a snapshot sees what a real root volume holds (executables,
// libraries, text, compressed archives, free space) rather than synthetic patterns.
//
// The image is cached in the work directory (image-<bytes>.ext4 with a sidecar .info that is
// written last, so a half-made image is never reused) and reused by later runs; the same host
// gives the same image. Made without mounting: the files are copied to a staging directory and
// `mke2fs -t ext4 -d <dir>` lays them into the image (e2fsprogs 1.47.0 reads only directories
// with -d; tarballs came in 1.47.1).
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "env/file_system.h"

namespace kiln::bench {

struct TestImage {
  std::string path;
  uint64_t size = 0;
  bool reused = false;      // taken from the cache rather than made now
  std::string description;  // how it was made, for the report
};

// The image path a run of `size` bytes uses in `work_dir`, made or not.
std::string TestImagePath(const std::string& work_dir, uint64_t size);

// Returns the cached image for `size` or makes it (needs tar and mke2fs, and about 1.2x `size`
// of free space while it works). `size` must be a multiple of 1 MiB, at least 32 MiB.
Result<TestImage> PrepareTestImage(FileSystem& fs, const std::string& work_dir, uint64_t size);

}  // namespace kiln::bench
