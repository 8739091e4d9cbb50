// kiln-bench: kiln's benchmark programs. `kiln-bench storage` measures the storage engine
// (issues 2 and 3); see bench/storage_bench.h.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "bench/bench_util.h"
#include "bench/storage_bench.h"

int main(int argc, char** argv) {
  CLI::App app{"kiln-bench: kiln's benchmarks"};
  app.require_subcommand(1);
  CLI::App* storage = app.add_subcommand(
      "storage", "snapshot, restore and dedup figures of the storage engine vs limits and restic");
  kiln::bench::StorageBenchOptions options;
  std::string size = "1GiB";
  storage->add_option("--size", size, "test image and volume size: 512MiB, 1GiB, 4GiB...")
      ->capture_default_str();
  storage->add_option("--work-dir", options.work_dir, "where the image is cached and the run works")
      ->capture_default_str();
  storage->add_option("--threads", options.threads, "snapshot worker threads (0: library default)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  storage->add_option("--json", options.json_path, "also write the figures to this JSON file");
  storage->add_flag("--keep", options.keep, "keep the run's volumes, chunks and repositories");
  storage->add_flag("--skip-peer", options.skip_peer, "do not run restic");
  storage->add_flag("--skip-encrypted", options.skip_encrypted,
                    "do not measure encrypted volumes and the crypto limits");
  bool no_drop = false;
  storage->add_flag("--no-drop-caches", no_drop, "never drop the page cache before timed reads");
  CLI11_PARSE(app, argc, argv);
  options.drop_caches = !no_drop;

  auto parsed = kiln::bench::ParseSize(size);
  if (!parsed.ok()) {
    std::fprintf(stderr, "kiln-bench: --size: %s\n", parsed.status().message().c_str());
    return 2;
  }
  options.size = *parsed;
  kiln::Status s = kiln::bench::RunStorageBench(options);
  if (!s.ok()) {
    std::fprintf(stderr, "kiln-bench storage: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
