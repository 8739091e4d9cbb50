#include "env/clock.h"

#include <time.h>

namespace kiln {
namespace {

uint64_t ReadClock(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

class RealClock : public Clock {
 public:
  uint64_t NowMicros() override { return ReadClock(CLOCK_MONOTONIC); }
  uint64_t WallMicros() override { return ReadClock(CLOCK_REALTIME); }
};

}  // namespace

Clock& SystemClock() {
  static RealClock clock;  // stateless: sharing it is sharing nothing
  return clock;
}

}  // namespace kiln
