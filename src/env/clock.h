// Clock: time as kiln's code sees it. Production uses the system clocks; tests pass a
// ManualClock so nothing depends on wall-clock time.
//
// Thread-safety: implementations are safe for concurrent use.
#pragma once

#include <atomic>
#include <cstdint>

namespace kiln {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time in microseconds since an arbitrary origin: for durations and deadlines.
  virtual uint64_t NowMicros() = 0;
  // Wall-clock time in microseconds since the Unix epoch: for timestamps users see.
  virtual uint64_t WallMicros() = 0;
};

// The process's real clocks (CLOCK_MONOTONIC, CLOCK_REALTIME).
Clock& SystemClock();

// A clock that moves only when told. Starts at `start` for both readings.
class ManualClock : public Clock {
 public:
  explicit ManualClock(uint64_t start = 1'700'000'000'000'000) : now_(start) {}
  uint64_t NowMicros() override { return now_.load(); }
  uint64_t WallMicros() override { return now_.load(); }
  void Advance(uint64_t micros) { now_ += micros; }

 private:
  std::atomic<uint64_t> now_;
};

}  // namespace kiln
