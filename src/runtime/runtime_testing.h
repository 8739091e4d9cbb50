// Test-only helpers shared by the runtime's tests.
#pragma once

#include <errno.h>
#include <unistd.h>

#include <string>

namespace kiln::runtime_testing {

// How many times `needle` occurs in `haystack` (overlaps counted): lines in a console log.
inline int Count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// Everything readable from `fd` until end of file (or an error): an Exec'd command's output.
inline std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace kiln::runtime_testing
