#include "cli/progress.h"

#include <signal.h>

#include <atomic>
#include <thread>

#include "cli/format.h"

namespace kiln::cli {
namespace {

std::atomic<bool> g_interrupted{false};
struct sigaction g_previous;

void OnSigint(int) { g_interrupted.store(true); }

std::string Plain(const ProgressLine& l) { return l.label + ": " + l.value; }

}  // namespace

void ProgressDisplay::Update(const std::vector<ProgressLine>& lines) {
  if (!in_place_) {
    for (const ProgressLine& l : lines) {
      const std::string text = Plain(l);
      auto it = shown_.find(l.key);
      if (it != shown_.end() && it->second == text) continue;
      shown_[l.key] = text;
      std::fprintf(out_, "%s\n", text.c_str());
    }
    std::fflush(out_);
    return;
  }
  size_t width = 0;
  for (const ProgressLine& l : lines) width = std::max(width, l.label.size());
  std::string frame;
  if (drawn_ > 0) frame += "\033[" + std::to_string(drawn_) + "A";
  for (const ProgressLine& l : lines) {
    std::string line = l.label + std::string(width - l.label.size() + 2, ' ');
    if (l.percent >= 0) line += ProgressBar(l.percent, 30) + " ";
    line += color_ ? Colorize(l.value, StateColor(l.value)) : l.value;
    frame += "\r\033[2K" + line + "\n";
  }
  // Lines that disappeared are cleared.
  for (size_t i = lines.size(); i < drawn_; ++i) frame += "\r\033[2K\n";
  if (drawn_ > lines.size()) frame += "\033[" + std::to_string(drawn_ - lines.size()) + "A";
  drawn_ = lines.size();
  std::fwrite(frame.data(), 1, frame.size(), out_);
  std::fflush(out_);
}

InterruptGuard::InterruptGuard() {
  g_interrupted.store(false);
  struct sigaction sa = {};
  sa.sa_handler = OnSigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, &g_previous);
}

InterruptGuard::~InterruptGuard() { sigaction(SIGINT, &g_previous, nullptr); }

bool Interrupted() { return g_interrupted.load(); }

bool SleepUnlessInterrupted(std::chrono::milliseconds d) {
  const auto deadline = std::chrono::steady_clock::now() + d;
  while (!Interrupted()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return true;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        deadline - now, std::chrono::milliseconds(50)));
  }
  return false;
}

Status InterruptedWaiting(const std::string& how_to_watch) {
  return AbortedError("stopped waiting (the work goes on): " + how_to_watch);
}

}  // namespace kiln::cli
