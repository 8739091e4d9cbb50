// kiln-bench: kiln's benchmark programs. `kiln-bench storage` measures the storage engine
// (issues 2 and 3; see bench/storage_bench.h); `kiln-bench blockdev` measures volumes as block
// devices through FUSE and loop devices (issue 4; see bench/blockdev_bench.h); `kiln-bench
// launch` how fast instances come up from images of growing size (issue 4; bench/boot_bench.h).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "bench/bench_util.h"
#include "bench/blockdev_bench.h"
#include "bench/boot_bench.h"
#include "bench/storage_bench.h"

namespace {

struct StorageFlags {
  kiln::bench::StorageBenchOptions options;
  std::string size = "1GiB";
  bool no_drop = false;
};

struct BlockdevFlags {
  kiln::bench::BlockdevBenchOptions options;
  std::string size = "2GiB";
  std::string max_request = "1MiB";
  bool no_drop = false;
  bool loop_buffered = false;
};

CLI::App* AddStorage(CLI::App& app, StorageFlags& f) {
  CLI::App* cmd = app.add_subcommand(
      "storage", "snapshot, restore and dedup figures of the storage engine vs limits and restic");
  kiln::bench::StorageBenchOptions& o = f.options;
  cmd->add_option("--size", f.size, "test image and volume size: 512MiB, 1GiB, 4GiB...")
      ->capture_default_str();
  cmd->add_option("--work-dir", o.work_dir, "where the image is cached and the run works")
      ->capture_default_str();
  cmd->add_option("--threads", o.threads, "snapshot worker threads (0: library default)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--json", o.json_path, "also write the figures to this JSON file");
  cmd->add_flag("--keep", o.keep, "keep the run's volumes, chunks and repositories");
  cmd->add_flag("--skip-peer", o.skip_peer, "do not run restic");
  cmd->add_flag("--skip-encrypted", o.skip_encrypted,
                "do not measure encrypted volumes and the crypto limits");
  cmd->add_flag("--no-drop-caches", f.no_drop, "never drop the page cache before timed reads");
  return cmd;
}

CLI::App* AddBlockdev(CLI::App& app, BlockdevFlags& f) {
  CLI::App* cmd = app.add_subcommand(
      "blockdev", "fio through FUSE files and loop devices over kiln volumes vs a plain file");
  kiln::bench::BlockdevBenchOptions& o = f.options;
  cmd->add_option("--size", f.size, "size of each target: 64MiB, 2GiB...")->capture_default_str();
  cmd->add_option("--work-dir", o.work_dir, "where the run works (on the file system to measure)")
      ->capture_default_str();
  cmd->add_option("--runtime", o.runtime_seconds, "seconds each fio job runs at most")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--json", o.json_path, "also write the figures to this JSON file");
  cmd->add_flag("--keep", o.keep, "keep the run's directory");
  cmd->add_flag("--skip-encrypted", o.skip_encrypted, "do not measure encrypted volumes");
  cmd->add_flag("--no-drop-caches", f.no_drop, "never drop the page cache before a job");
  cmd->add_option("--fuse-threads", o.fuse.threads, "FUSE request threads (VolumeFsOptions)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-request", f.max_request,
                  "largest FUSE read or write request (VolumeFsOptions), 4KiB..1MiB")
      ->capture_default_str();
  cmd->add_flag("--loop-buffered", f.loop_buffered,
                "do not ask the loop devices for direct I/O (LoopOptions)");
  return cmd;
}

struct BootFlags {
  kiln::bench::BootBenchOptions options;
  std::string data_sizes = "1GiB,16GiB";
  std::string big_volume = "64GiB";
};

CLI::App* AddBoot(CLI::App& app, BootFlags& f) {
  CLI::App* cmd = app.add_subcommand(
      "launch", "launch-to-running and user-data-done for images of growing size, stop, start");
  kiln::bench::BootBenchOptions& o = f.options;
  cmd->add_option("--work-dir", o.work_dir, "where images are cached and instances run")
      ->capture_default_str();
  cmd->add_option("--data-sizes", f.data_sizes, "data in the data images' root, comma-separated")
      ->capture_default_str();
  cmd->add_option("--big-volume", f.big_volume, "root volume size of the large, empty image")
      ->capture_default_str();
  cmd->add_option("--runs", o.runs, "launches per image")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--rebuild", o.rebuild, "remake the cached images");
  return cmd;
}

// Bad flags exit 2, failed runs 1.
int Fail(const char* what, const std::string& message, int code = 1) {
  std::fprintf(stderr, "kiln-bench %s: %s\n", what, message.c_str());
  return code;
}

int RunStorage(StorageFlags& f) {
  f.options.drop_caches = !f.no_drop;
  auto size = kiln::bench::ParseSize(f.size);
  if (!size.ok()) return Fail("storage", "--size: " + size.status().message(), 2);
  f.options.size = *size;
  kiln::Status s = kiln::bench::RunStorageBench(f.options);
  return s.ok() ? 0 : Fail("storage", s.ToString());
}

int RunBlockdev(BlockdevFlags& f) {
  kiln::bench::BlockdevBenchOptions& o = f.options;
  o.drop_caches = !f.no_drop;
  o.loop_direct_io = !f.loop_buffered;
  auto size = kiln::bench::ParseSize(f.size);
  if (!size.ok()) return Fail("blockdev", "--size: " + size.status().message(), 2);
  if (*size % (1 << 20) != 0) return Fail("blockdev", "--size: a whole number of MiB", 2);
  o.size = *size;
  auto request = kiln::bench::ParseSize(f.max_request);
  if (!request.ok() || *request < 4096 || *request > (1 << 20)) {
    return Fail("blockdev", "--max-request: between 4KiB and 1MiB", 2);
  }
  o.fuse.max_request_bytes = static_cast<uint32_t>(*request);
  const std::string missing = kiln::bench::MissingBlockdevPrerequisite();
  if (!missing.empty()) {
    std::fprintf(stderr, "kiln-bench blockdev: needs root, /dev/fuse, loop devices and fio: %s\n",
                 missing.c_str());
    return kiln::bench::kMissingPrerequisiteExit;
  }
  kiln::Status s = kiln::bench::RunBlockdevBench(o);
  return s.ok() ? 0 : Fail("blockdev", s.ToString());
}

int RunBoot(BootFlags& f) {
  kiln::bench::BootBenchOptions& o = f.options;
  o.data_sizes.clear();
  for (size_t at = 0; at <= f.data_sizes.size();) {
    const size_t comma = std::min(f.data_sizes.find(',', at), f.data_sizes.size());
    auto size = kiln::bench::ParseSize(f.data_sizes.substr(at, comma - at));
    if (!size.ok() || *size % (1 << 20) != 0) {
      return Fail("launch", "--data-sizes: whole MiB sizes, comma-separated", 2);
    }
    o.data_sizes.push_back(*size);
    at = comma + 1;
  }
  auto big = kiln::bench::ParseSize(f.big_volume);
  if (!big.ok() || *big < (8ULL << 30) || *big % (1 << 20) != 0) {
    return Fail("launch", "--big-volume: whole MiB, at least the base image's 8GiB", 2);
  }
  o.big_volume = *big;
  o.make_base_image = KILN_MAKE_BASE_IMAGE;
  const std::string missing = kiln::bench::MissingBootPrerequisite();
  if (!missing.empty()) {
    std::fprintf(stderr, "kiln-bench launch: needs root, /dev/fuse and loop devices: %s\n",
                 missing.c_str());
    return kiln::bench::kMissingPrerequisiteExit;
  }
  kiln::Status s = kiln::bench::RunBootBench(o);
  return s.ok() ? 0 : Fail("launch", s.ToString());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kiln-bench: kiln's benchmarks"};
  app.require_subcommand(1);
  StorageFlags storage_flags;
  BlockdevFlags blockdev_flags;
  CLI::App* storage = AddStorage(app, storage_flags);
  CLI::App* blockdev = AddBlockdev(app, blockdev_flags);
  BootFlags boot_flags;
  CLI::App* boot = AddBoot(app, boot_flags);
  CLI11_PARSE(app, argc, argv);
  if (storage->parsed()) return RunStorage(storage_flags);
  if (blockdev->parsed()) return RunBlockdev(blockdev_flags);
  if (boot->parsed()) return RunBoot(boot_flags);
  return 2;
}
