// `kiln-bench launch`: how fast instances come up (issue 4). One run prepares images in a
// cache under the work dir (kept between runs, since a 16 GiB image takes minutes to make):
//   - base: the base image (images/make-base-image.sh, 8 GiB ext4, busybox), imported;
//   - data-<N>: the base on a volume of 8 GiB + N whose root holds a file of N bytes of
//     incompressible data (written inside an instance from /dev/urandom), snapshotted;
//   - base-<big>: the base on a volume of `big_volume` bytes, its file system grown at a first
//     boot, snapshotted (an image of a large, mostly empty disk).
// Then, for each image, `runs` times: restore a volume from the image (lazy: nothing is read
// yet), register and start an instance with user data `echo user-data: done` and time
//   launch-to-running      restore + Register + Start returned (init started)
//   launch-to-up           ... until the console shows the image's "minimal-linux: up"
//   launch-to-user-data    ... until the console shows "user-data: done"
//   fetched                what the boot read from the image (VolumeStats), showing laziness
//   stop                   Runtime::Stop (guest shutdown, unmount, flush)
//   start                  Start again until "minimal-linux: up" shows a second time
// and terminate. It prints each run, then a summary with medians, maxima and each image's
// ratio to base; the goal is that images of 16 GiB of data and of a 64 GiB disk launch within
// 1.5x of base (lazy loading makes the launch independent of the image's size).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace kiln::bench {

struct BootBenchOptions {
  std::string work_dir = "/var/tmp/kiln-bench-launch";
  std::vector<uint64_t> data_sizes = {1ULL << 30, 16ULL << 30};
  uint64_t big_volume = 64ULL << 30;
  int runs = 5;
  bool rebuild = false;         // remake the cached images
  std::string make_base_image;  // path of images/make-base-image.sh
};

// What this host lacks to boot instances (root, /dev/fuse, loop devices), or "".
std::string MissingBootPrerequisite();

Status RunBootBench(const BootBenchOptions& options);

}  // namespace kiln::bench
