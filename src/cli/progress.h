// Live progress of long work (image creation, a launch): lines keyed by what they describe
// (the instance, each snapshot, the image). On a terminal the block of lines is redrawn in
// place with progress bars; otherwise a line is printed whenever a key's text changes (one line
// per phase or percent change), so logs and tests read a plain sequence.
//
// Ctrl-C while waiting stops the waiting, not the work: InterruptGuard catches SIGINT for its
// lifetime, SleepUnlessInterrupted reports it, and InterruptedWaiting is the Status to return
// (exit status 130 with a line saying how to keep watching).
// Thread-safety: one thread; the SIGINT flag is a lock-free atomic.
#pragma once

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace kiln::cli {

struct ProgressLine {
  std::string key;    // stable identity of the line ("image", "snap-...")
  std::string label;  // "snapshot snap-1 (/dev/xvda)"
  std::string value;  // "45%", "pending"
  int percent = -1;   // 0..100 draws a bar on a terminal; -1 none
};

class ProgressDisplay {
 public:
  // `out` is not owned; `in_place` redraws (a terminal), else plain lines.
  ProgressDisplay(std::FILE* out, bool in_place, bool color)
      : out_(out), in_place_(in_place), color_(color) {}
  void Update(const std::vector<ProgressLine>& lines);
  void Finish() { std::fflush(out_); }

 private:
  std::FILE* out_;
  bool in_place_;
  bool color_;
  size_t drawn_ = 0;                          // lines drawn last time (in place)
  std::map<std::string, std::string> shown_;  // key -> plain text printed (plain mode)
};

// Installs a SIGINT handler that only sets a flag (and clears the flag); restores the previous
// handler on destruction.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
};

bool Interrupted();
// Sleeps up to `d` in small steps; false as soon as SIGINT was seen.
bool SleepUnlessInterrupted(std::chrono::milliseconds d);

// Aborted, message "stopped waiting: <how to keep watching>" (exit status 130).
Status InterruptedWaiting(const std::string& how_to_watch);

}  // namespace kiln::cli
