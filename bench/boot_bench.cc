#include "bench/boot_bench.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>

#include "bench/bench_util.h"
#include "bench/kiln_rig.h"
#include "env/clock.h"
#include "env/file_system.h"
#include "env/posix_file_system.h"
#include "env/subprocess.h"
#include "image/image_import.h"
#include "runtime/container_runtime.h"
#include "store/block_map.h"

namespace kiln::bench {
namespace {

constexpr uint64_t kBaseSize = 8ULL << 30;
constexpr char kUserData[] = "#!/bin/sh\necho user-data: done\n";

struct Image {
  std::string id;     // its snapshot
  uint64_t data = 0;  // bytes of data in its root file system
  uint64_t volume = 0;
};

struct Sample {
  double running_ms = 0, up_ms = 0, user_data_ms = 0, stop_ms = 0, start_ms = 0;
  uint64_t fetched = 0;
};

// "16GiB", "64MiB": a size as a snapshot id can carry it.
std::string SizeTag(uint64_t bytes) {
  if (bytes % (1ULL << 30) == 0) return std::to_string(bytes >> 30) + "GiB";
  return std::to_string(bytes >> 20) + "MiB";
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double Max(const std::vector<double>& v) {
  return v.empty() ? 0 : *std::max_element(v.begin(), v.end());
}

int Occurrences(const std::string& log, const std::string& text) {
  int n = 0;
  for (size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++n;
  return n;
}

class Bench {
 public:
  Bench(const BootBenchOptions& o, KilnRig& rig, ContainerRuntime& rt)
      : o_(o), rig_(rig), rt_(rt) {}

  Status Prepare(const Image& image);
  Result<Sample> Measure(const Image& image);

 private:
  // Unique across runs (the run's start time, then a count): the runtime keeps an instance's
  // console log and first-boot record across registrations of one id, so reusing an id an
  // interrupted run left (its Terminate never ran) would find the old run's console lines at
  // once and skip the user data.
  std::string NextId() {
    char id[32];
    std::snprintf(id, sizeof id, "i-%08x%09x", run_tag_, ++instances_);
    return id;
  }
  // Registers a new instance booting from `root`.
  Result<std::string> Register(Volume& root, const std::string& user_data) {
    InstanceConfig config;
    config.instance_id = NextId();
    config.volumes = {{"/dev/xvda", "vol-" + config.instance_id.substr(2), &root}};
    config.user_data = user_data;
    RETURN_IF_ERROR(rt_.Register(config));
    return config.instance_id;
  }
  double Ms(uint64_t since) { return Millis(SystemClock().NowMicros() - since); }
  // Polls the console every 2 ms until `text` has appeared `times` times.
  Status WaitConsole(const std::string& id, const std::string& text, int times, int timeout_s);

  const BootBenchOptions& o_;
  KilnRig& rig_;
  ContainerRuntime& rt_;
  const uint32_t run_tag_ = static_cast<uint32_t>(std::time(nullptr));
  unsigned instances_ = 0;
};

Status Bench::WaitConsole(const std::string& id, const std::string& text, int times,
                          int timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  for (;;) {
    ASSIGN_OR_RETURN(std::string log, rt_.ConsoleOutput(id));
    if (Occurrences(log, text) >= times) return Status::Ok();
    if (std::chrono::steady_clock::now() > deadline) {
      return DeadlineExceededError("instance " + id + " did not print '" + text + "': " + log);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

// An image: the base on a volume of image.volume bytes, booted once (which grows its file
// system) with user data that writes image.data bytes of /dev/urandom into /data, snapshotted.
Status Bench::Prepare(const Image& image) {
  SnapshotStore& snaps = rig_.snapshots();
  if (snaps.Load(image.id).ok()) {
    if (!o_.rebuild) return Status::Ok();
    RETURN_IF_ERROR(snaps.Delete(image.id));
  }
  std::printf("preparing %s: %s volume, %s of data ...\n", image.id.c_str(),
              FormatBytes(image.volume).c_str(), FormatBytes(image.data).c_str());
  std::fflush(stdout);
  const uint64_t t0 = SystemClock().NowMicros();
  const std::string dir = rig_.VolumeDir("prepare-" + image.id);
  RETURN_IF_ERROR(RemoveTree(rig_.fs(), dir));
  ASSIGN_OR_RETURN(auto volume, snaps.CreateVolume("base", dir, image.volume));
  std::string user_data = "#!/bin/sh\n";
  if (image.data > 0) {
    user_data += "dd if=/dev/urandom of=/data bs=1M count=" + std::to_string(image.data >> 20) +
                 " conv=fsync 2>&1 | tail -1\n";
  }
  user_data += "echo user-data: done\n";
  ASSIGN_OR_RETURN(const std::string id, Register(*volume, user_data));
  Status s = rt_.Start(id);
  if (s.ok()) s = WaitConsole(id, "user-data: done", 1, 3600);
  Status stopped = rt_.Terminate(id);
  if (s.ok()) s = stopped;
  if (s.ok()) s = rig_.Snapshot(*volume, image.id, "").status();
  Status closed = volume->Close();
  if (s.ok()) s = closed;
  RETURN_IF_ERROR(s.Annotate("preparing " + image.id));
  std::printf("  prepared in %.1f s\n", Millis(SystemClock().NowMicros() - t0) / 1000);
  return RemoveTree(rig_.fs(), dir);
}

Result<Sample> Bench::Measure(const Image& image) {
  const std::string dir = rig_.VolumeDir("launch");
  RETURN_IF_ERROR(RemoveTree(rig_.fs(), dir));
  Sample sample;
  const uint64_t t0 = SystemClock().NowMicros();
  ASSIGN_OR_RETURN(auto volume, rig_.snapshots().CreateVolume(image.id, dir));
  ASSIGN_OR_RETURN(const std::string id, Register(*volume, kUserData));
  Status s = rt_.Start(id);
  sample.running_ms = Ms(t0);
  if (s.ok()) s = WaitConsole(id, "minimal-linux: up", 1, 120);
  sample.up_ms = Ms(t0);
  if (s.ok()) s = WaitConsole(id, "user-data: done", 1, 120);
  sample.user_data_ms = Ms(t0);
  const VolumeStats stats = volume->Stats();
  sample.fetched = (stats.base_blocks - stats.base_blocks_missing) * kBlockSize;
  uint64_t t = SystemClock().NowMicros();
  if (s.ok()) s = rt_.Stop(id);
  sample.stop_ms = Ms(t);
  t = SystemClock().NowMicros();
  if (s.ok()) s = rt_.Start(id);
  if (s.ok()) s = WaitConsole(id, "minimal-linux: up", 2, 120);
  sample.start_ms = Ms(t);
  Status ended = rt_.Terminate(id);
  if (s.ok()) s = ended;
  Status closed = volume->Close();
  if (s.ok()) s = closed;
  RETURN_IF_ERROR(s.Annotate("launching from " + image.id));
  RETURN_IF_ERROR(RemoveTree(rig_.fs(), dir));
  return sample;
}

void PrintMachine(FileSystem& fs, const BootBenchOptions& o) {
  utsname u{};
  uname(&u);
  std::printf("kiln-bench launch: kernel %s, %ld cores, load %s\n", u.release,
              sysconf(_SC_NPROCESSORS_ONLN), LoadAverage(fs).c_str());
  std::printf("work dir %s, %d runs per image\n\n", o.work_dir.c_str(), o.runs);
}

}  // namespace

std::string MissingBootPrerequisite() {
  if (::geteuid() != 0) return "not root";
  if (::access("/dev/fuse", R_OK | W_OK) != 0) return "no /dev/fuse";
  if (::access("/dev/loop-control", R_OK | W_OK) != 0) return "no /dev/loop-control";
  return "";
}

Status RunBootBench(const BootBenchOptions& o) {
  PosixFileSystem fs;
  RETURN_IF_ERROR(CreateDirs(fs, o.work_dir));
  // One run per work dir at a time; the lock goes with the process.
  const int lock = ::open(o.work_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (lock < 0 || ::flock(lock, LOCK_EX | LOCK_NB) != 0) {
    return FailedPreconditionError("another kiln-bench launch is using " + o.work_dir);
  }
  PrintMachine(fs, o);
  const std::string cache = JoinPath(o.work_dir, "cache");
  ASSIGN_OR_RETURN(auto rig, KilnRig::Open(fs, SystemClock(), cache, 0));
  // A run that was interrupted left instances, loops or mounts: Open reclaims them.
  ContainerRuntimeOptions ro;
  ro.state_dir = JoinPath(o.work_dir, "runtime");
  ro.stop_grace_ms = 10000;
  ASSIGN_OR_RETURN(auto rt, ContainerRuntime::Open(ro));
  if (!rig->snapshots().Load("base").ok()) {
    const std::string raw = JoinPath(cache, "base.ext4");
    RETURN_IF_ERROR(RunChecked({o.make_base_image, raw, "8G"}).status());
    ImportOptions io;
    io.scratch_dir = JoinPath(cache, "import");
    RETURN_IF_ERROR(ImportRawImage(fs, rig->snapshots(), rig->store(), raw, "base", io).status());
    RETURN_IF_ERROR(RemoveTree(fs, raw));
  }
  std::vector<Image> images = {{"base", 0, kBaseSize}};
  for (uint64_t n : o.data_sizes) {
    images.push_back({"data-" + SizeTag(n), n, kBaseSize + n});
  }
  images.push_back({"base-" + SizeTag(o.big_volume), 0, o.big_volume});
  Bench bench(o, *rig, *rt);
  for (const Image& image : images) {
    if (image.id != "base") RETURN_IF_ERROR(bench.Prepare(image));
  }
  std::printf("\n%-14s %4s %10s %10s %12s %10s %9s %9s\n", "image", "run", "running ms", "up ms",
              "user-data ms", "fetched", "stop ms", "start ms");
  std::vector<std::vector<Sample>> all(images.size());
  for (int run = 0; run < o.runs; ++run) {
    for (size_t i = 0; i < images.size(); ++i) {
      ASSIGN_OR_RETURN(Sample s, bench.Measure(images[i]));
      std::printf("%-14s %4d %10.1f %10.1f %12.1f %10s %9.1f %9.1f\n", images[i].id.c_str(),
                  run + 1, s.running_ms, s.up_ms, s.user_data_ms, FormatBytes(s.fetched).c_str(),
                  s.stop_ms, s.start_ms);
      std::fflush(stdout);
      all[i].push_back(s);
    }
  }
  std::printf("\nsummary (median / max over %d runs; ratio = median / base's median)\n", o.runs);
  std::printf("%-14s %10s %18s %18s %8s %9s %9s %10s\n", "image", "volume", "launch-running",
              "launch-user-data", "ratio", "stop", "start", "goal <=1.5x");
  double base_ud = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    std::vector<double> run, ud, stop, start;
    for (const Sample& s : all[i]) {
      run.push_back(s.running_ms);
      ud.push_back(s.user_data_ms);
      stop.push_back(s.stop_ms);
      start.push_back(s.start_ms);
    }
    if (i == 0) base_ud = Median(ud);
    const double ratio = base_ud > 0 ? Median(ud) / base_ud : 0;
    char launch[32], user[32];
    std::snprintf(launch, sizeof launch, "%.1f / %.1f ms", Median(run), Max(run));
    std::snprintf(user, sizeof user, "%.1f / %.1f ms", Median(ud), Max(ud));
    std::printf("%-14s %10s %18s %18s %7.2fx %7.0fms %7.0fms %10s\n", images[i].id.c_str(),
                FormatBytes(images[i].volume).c_str(), launch, user, ratio, Median(stop),
                Median(start), i == 0 ? "-" : (ratio <= 1.5 ? "MET" : "NOT MET"));
  }
  std::printf("\nload at the end: %s\n", LoadAverage(fs).c_str());
  rt.reset();
  ::close(lock);
  return Status::Ok();
}

}  // namespace kiln::bench
