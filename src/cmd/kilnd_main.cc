// kilnd: the daemon. For now it opens (creating on first start) the storage engine under
// --data-dir and reports what is there; the EC2 API server arrives with issue 5.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "env/posix_file_system.h"
#include "snapshot/snapshot_store.h"
#include "store/content_chunk_store.h"

namespace {

int Fail(const kiln::Status& s) {
  std::fprintf(stderr, "kilnd: %s\n", s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kilnd: the kiln daemon"};
  std::string data_dir;
  std::string listen = "127.0.0.1:8787";
  app.add_option("--data-dir", data_dir, "where kiln keeps everything")->required();
  app.add_option("--listen", listen, "HOST:PORT of the EC2 API");
  CLI11_PARSE(app, argc, argv);

  kiln::PosixFileSystem fs;
  if (auto s = kiln::CreateDirs(fs, data_dir); !s.ok()) return Fail(s);
  auto backend = kiln::LocalDirBackend::Open(fs, kiln::JoinPath(data_dir, "chunks"));
  if (!backend.ok()) return Fail(backend.status());
  kiln::ContentChunkStore store(**backend);
  auto snapshots = kiln::SnapshotStore::Open(fs, store, kiln::JoinPath(data_dir, "snapshots"));
  if (!snapshots.ok()) return Fail(snapshots.status());
  auto stats = store.Stats();
  if (!stats.ok()) return Fail(stats.status());
  auto ids = (*snapshots)->List();
  if (!ids.ok()) return Fail(ids.status());
  std::printf("kilnd: storage engine at %s: %zu snapshots, %llu chunks, %llu bytes stored for %llu logical\n",
              data_dir.c_str(), ids->size(), static_cast<unsigned long long>(stats->chunks),
              static_cast<unsigned long long>(stats->stored_bytes),
              static_cast<unsigned long long>(stats->logical_bytes));
  std::printf("kilnd: the EC2 API (to listen on %s) is not built yet; see README.md.\n", listen.c_str());
  return 0;
}
