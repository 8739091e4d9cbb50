// Test-only helpers shared by the runtime's tests.
#pragma once

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

}  // namespace kiln::runtime_testing
