// Test-only: the host prerequisites of tests that use the kernel (FUSE, loop devices, mounts,
// namespaces). Missing ones skip the test with the reason on a developer's host, and fail it
// under CI (CI=true), where a skip would hide that nothing was tested.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace kiln::fuse_testing {

// The first missing prerequisite, or "" when the host has them all.
inline std::string MissingHostFeature() {
  if (::geteuid() != 0) return "not root";
  if (::access("/dev/fuse", R_OK | W_OK) != 0) return "no /dev/fuse";
  if (::access("/dev/loop-control", R_OK | W_OK) != 0) return "no /dev/loop-control";
  return "";
}

inline bool UnderCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::strcmp(ci, "true") == 0;
}

}  // namespace kiln::fuse_testing

#define KILN_REQUIRE_HOST_FEATURES()                                               \
  do {                                                                             \
    const std::string missing = ::kiln::fuse_testing::MissingHostFeature();        \
    if (!missing.empty()) {                                                        \
      if (::kiln::fuse_testing::UnderCi()) FAIL() << "CI host lacks: " << missing; \
      GTEST_SKIP() << "needs root, /dev/fuse and loop devices: " << missing;       \
    }                                                                              \
  } while (0)
