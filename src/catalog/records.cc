#include "catalog/records.h"

#include <time.h>

#include <array>
#include <cstdio>
#include <utility>

namespace kiln {
namespace {

// Names of each state enum, indexed by its value: ToString and the Parse functions share them.
constexpr std::array<std::string_view, 4> kImageStates = {"pending", "available", "failed",
                                                          "deregistered"};
constexpr std::array<std::string_view, 3> kSnapshotStates = {"pending", "completed", "error"};
constexpr std::array<std::string_view, 6> kVolumeStates = {"creating", "available", "in-use",
                                                           "deleting", "deleted",   "error"};
constexpr std::array<std::string_view, 4> kAttachmentStates = {"attaching", "attached", "detaching",
                                                               "detached"};
constexpr std::array<std::string_view, 6> kInstanceStates = {
    "pending", "running", "shutting-down", "terminated", "stopping", "stopped"};
constexpr std::array<std::string_view, 4> kJobStates = {"queued", "running", "done", "failed"};

template <typename E, size_t N>
Result<E> Parse(const std::array<std::string_view, N>& names, std::string_view s,
                const char* what) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<E>(i);
  }
  return InvalidArgumentError(std::string("unknown ") + what + " state '" + std::string(s) + "'");
}

}  // namespace

std::string Ec2Timestamp(uint64_t wall_micros) {
  time_t seconds = static_cast<time_t>(wall_micros / 1'000'000);
  struct tm tm;
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(wall_micros / 1000 % 1000));
  return buf;
}

std::string_view ToString(ImageState s) { return kImageStates[static_cast<size_t>(s)]; }
std::string_view ToString(SnapshotState s) { return kSnapshotStates[static_cast<size_t>(s)]; }
std::string_view ToString(VolumeState s) { return kVolumeStates[static_cast<size_t>(s)]; }
std::string_view ToString(AttachmentState s) { return kAttachmentStates[static_cast<size_t>(s)]; }
std::string_view ToString(InstanceState s) { return kInstanceStates[static_cast<size_t>(s)]; }
std::string_view ToString(JobState s) { return kJobStates[static_cast<size_t>(s)]; }

Result<ImageState> ParseImageState(std::string_view s) {
  return Parse<ImageState>(kImageStates, s, "image");
}
Result<SnapshotState> ParseSnapshotState(std::string_view s) {
  return Parse<SnapshotState>(kSnapshotStates, s, "snapshot");
}
Result<VolumeState> ParseVolumeState(std::string_view s) {
  return Parse<VolumeState>(kVolumeStates, s, "volume");
}
Result<AttachmentState> ParseAttachmentState(std::string_view s) {
  return Parse<AttachmentState>(kAttachmentStates, s, "attachment");
}
Result<InstanceState> ParseInstanceState(std::string_view s) {
  return Parse<InstanceState>(kInstanceStates, s, "instance");
}
Result<JobState> ParseJobState(std::string_view s) { return Parse<JobState>(kJobStates, s, "job"); }

int InstanceStateCode(InstanceState s) {
  switch (s) {
    case InstanceState::kPending:
      return 0;
    case InstanceState::kRunning:
      return 16;
    case InstanceState::kShuttingDown:
      return 32;
    case InstanceState::kTerminated:
      return 48;
    case InstanceState::kStopping:
      return 64;
    case InstanceState::kStopped:
      return 80;
  }
  return -1;  // not reached: every enumerator is handled
}

}  // namespace kiln
