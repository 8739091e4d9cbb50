#include "bench/storage_bench.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <thread>

#include "bench/bench_util.h"
#include "bench/kiln_rig.h"
#include "bench/machine_limits.h"
#include "bench/report.h"
#include "bench/restic_peer.h"
#include "bench/test_data.h"
#include "env/posix_file_system.h"

namespace kiln::bench {
namespace {

constexpr uint64_t kSparseSize = 64ULL << 30;
constexpr uint64_t kMinSize = 64ULL << 20;
constexpr uint64_t kMaxDiskTest = 1ULL << 30;
constexpr int kDerivedVolumes = 20;
constexpr int kLazyReads = 50;
constexpr uint64_t kLazyReadBytes = 4096;
constexpr uint64_t kIncrementalSeed = 2;
constexpr uint64_t kSparseSeed = 3;
constexpr uint64_t kDerivedSeedBase = 100;

uint64_t OnePercent(uint64_t blocks) { return std::max<uint64_t>(1, blocks / 100); }

FullFigures FullOf(const TimedSnapshot& t, uint64_t size) {
  FullFigures f;
  f.micros = t.micros;
  f.logical_bytes = size;
  f.blocks = BlockCount(size);
  f.zero_blocks = t.info.progress.zero_blocks;
  f.nonzero_bytes = t.info.mapped_blocks * kBlockSize;
  f.chunks_stored = t.info.progress.chunks_stored;
  f.bytes_stored = t.info.progress.bytes_stored;
  return f;
}

// The size this machine has room for: the requested one, halved until roughly 5x (4x with the
// image already cached; one more for the encrypted volumes) fits in the free space, with a
// message when it had to shrink.
Result<uint64_t> ChooseSize(FileSystem& fs, const StorageBenchOptions& o, std::string* notes) {
  ASSIGN_OR_RETURN(uint64_t free_bytes, fs.FreeBytes(o.work_dir));
  uint64_t size = o.size;
  auto need = [&](uint64_t s) {
    bool cached = Exists(fs, TestImagePath(o.work_dir, s) + ".info");
    return s * ((cached ? 4 : 5) + (o.skip_encrypted ? 0 : 1));
  };
  while (need(size) > free_bytes && size / 2 >= kMinSize) size /= 2;
  if (need(size) > free_bytes) {
    return FailedPreconditionError(fmt::format("{} free in {}; even {} needs about {}",
                                               FormatBytes(free_bytes), o.work_dir,
                                               FormatBytes(size), FormatBytes(need(size))));
  }
  fmt::print("Free disk in {}: {} (this run needs about {})\n", o.work_dir, FormatBytes(free_bytes),
             FormatBytes(need(size)));
  if (size != o.size) {
    *notes +=
        fmt::format("size scaled down from {} to {}: only {} free in {}. ", FormatBytes(o.size),
                    FormatBytes(size), FormatBytes(free_bytes), o.work_dir);
    fmt::print("NOTE: scaling the size down from {} to {}: not enough free disk for {}\n",
               FormatBytes(o.size), FormatBytes(size), FormatBytes(o.size));
  }
  return size;
}

class StorageRun {
 public:
  StorageRun(FileSystem& fs, const StorageBenchOptions& o, std::string run_dir)
      : fs_(fs),
        clock_(SystemClock()),
        o_(o),
        run_dir_(std::move(run_dir)),
        caches_(o.drop_caches) {}

  Status Run(BenchReport& report, const std::string& image);

 private:
  Status FullSnapshot(BenchReport& r, const std::string& image);
  Status EncryptedFull(BenchReport& r, const std::string& image);
  Status PeerFull(BenchReport& r, const std::string& image);
  Status Incremental(BenchReport& r);
  Status Unchanged(BenchReport& r);
  Status Restore(BenchReport& r);
  Status EncryptedRestore(BenchReport& r);
  // Volumes <prefix><size> from `snapshot` at `size` (the snapshot's) and at 64 GiB, timed to
  // ready; then a lazy first read of blocks of the first and hydration of the second.
  Status RestoreAndRead(const std::string& snapshot, const std::string& prefix, uint64_t size,
                        std::vector<RestoreFigures>& restore, LazyReadFigures& lazy);
  Status LazyReads(Volume& volume, LazyReadFigures& lazy);
  Status Hydrate(Volume& volume, LazyReadFigures& lazy);
  Status Dedup(BenchReport& r);

  FileSystem& fs_;
  Clock& clock_;
  const StorageBenchOptions& o_;
  const std::string run_dir_;
  CacheDropper caches_;
  std::unique_ptr<KilnRig> rig_;
  std::unique_ptr<Volume> base_;
  std::optional<ResticPeer> peer_;
  std::unique_ptr<File> peer_file_;  // restic's copy of the image, changed with the volume
};

Status StorageRun::Run(BenchReport& r, const std::string& image) {
  ASSIGN_OR_RETURN(rig_, KilnRig::Open(fs_, clock_, run_dir_, o_.threads));
  // Each encrypted measurement runs right after its unencrypted twin: the machine is shared,
  // and neighbours in time see the most similar load.
  RETURN_IF_ERROR(FullSnapshot(r, image));
  if (!o_.skip_encrypted) RETURN_IF_ERROR(EncryptedFull(r, image));
  if (!o_.skip_peer) RETURN_IF_ERROR(PeerFull(r, image));
  RETURN_IF_ERROR(Incremental(r));
  RETURN_IF_ERROR(Unchanged(r));
  RETURN_IF_ERROR(Restore(r));
  if (!o_.skip_encrypted) RETURN_IF_ERROR(EncryptedRestore(r));
  RETURN_IF_ERROR(Dedup(r));
  RETURN_IF_ERROR(base_->Close());
  base_.reset();
  if (!caches_.note().empty()) r.notes += caches_.note() + ". ";
  return Status::Ok();
}

Status StorageRun::FullSnapshot(BenchReport& r, const std::string& image) {
  ASSIGN_OR_RETURN(base_, rig_->CreateVolume("base", r.size));
  fmt::print(
      "\nWriting the image into a new {} volume (every block, zeros included, then "
      "Flush)...\n",
      FormatBytes(r.size));
  RETURN_IF_ERROR(WriteImage(fs_, image, *base_));
  caches_.Drop();
  ASSIGN_OR_RETURN(TimedSnapshot t, rig_->Snapshot(*base_, "full", ""));
  r.full = FullOf(t, r.size);
  PrintFull(r.full, r.limits);
  return Status::Ok();
}

// The same image, written the same way into an encrypted volume (so it rests on disk as XTS
// sectors with tags), then snapshotted the same way into sealed chunks.
Status StorageRun::EncryptedFull(BenchReport& r, const std::string& image) {
  r.encrypted.emplace();
  ASSIGN_OR_RETURN(auto volume, rig_->CreateEncryptedVolume("encrypted-base", r.size));
  fmt::print("\nWriting the image into a new {} encrypted volume (as above)...\n",
             FormatBytes(r.size));
  RETURN_IF_ERROR(WriteImage(fs_, image, *volume));
  caches_.Drop();
  ASSIGN_OR_RETURN(TimedSnapshot t, rig_->Snapshot(*volume, "encrypted-full", ""));
  r.encrypted->full = FullOf(t, r.size);
  PrintEncryptedFull(r.encrypted->full, r.full, r.limits);
  return volume->Close();
}

Status StorageRun::PeerFull(BenchReport& r, const std::string& image) {
  const std::string copy = JoinPath(run_dir_, "restic-volume.img");
  RETURN_IF_ERROR(CopySparse(fs_, image, copy));
  ASSIGN_OR_RETURN(peer_file_, fs_.Open(copy, OpenMode::kReadWrite));
  ASSIGN_OR_RETURN(ResticPeer peer, ResticPeer::Init(fs_, clock_, JoinPath(run_dir_, "restic")));
  peer_ = std::move(peer);
  caches_.Drop();
  ASSIGN_OR_RETURN(ResticBackup b, peer_->Backup(copy));
  r.peer = PeerFigures{peer_->version(), peer_->settings(), b.micros, b.repo_bytes, 0, 0};
  PrintPeerFull(*r.peer, r.full);
  return Status::Ok();
}

Status StorageRun::Incremental(BenchReport& r) {
  auto blocks = PickBlocks(kIncrementalSeed, BlockCount(r.size), OnePercent(BlockCount(r.size)));
  RETURN_IF_ERROR(ChangeBlocks(*base_, blocks, kIncrementalSeed, peer_file_.get()));
  caches_.Drop();
  ASSIGN_OR_RETURN(TimedSnapshot t, rig_->Snapshot(*base_, "incremental", "full"));
  IncrementalFigures& i = r.incremental;
  i.blocks_changed = blocks.size();
  i.micros = t.micros;
  i.chunks_stored = t.info.progress.chunks_stored;
  i.bytes_stored = t.info.progress.bytes_stored;
  if (peer_) {
    caches_.Drop();
    ASSIGN_OR_RETURN(ResticBackup b, peer_->Backup(JoinPath(run_dir_, "restic-volume.img")));
    r.peer->incremental_micros = b.micros;
    r.peer->incremental_repo_bytes = b.repo_bytes - r.peer->full_repo_bytes;
  }
  PrintIncremental(i, r.full, r.peer);
  return Status::Ok();
}

Status StorageRun::Unchanged(BenchReport& r) {
  fmt::print("\nUnchanged snapshots (nothing dirty since the last snapshot)\n");
  ASSIGN_OR_RETURN(TimedSnapshot t, rig_->Snapshot(*base_, "unchanged", "incremental"));
  r.unchanged.push_back({r.size, t.micros});
  PrintUnchanged(r.unchanged.back());

  ASSIGN_OR_RETURN(auto sparse, rig_->CreateVolume("sparse64", kSparseSize));
  auto blocks = PickBlocks(kSparseSeed, BlockCount(kSparseSize), 8);
  RETURN_IF_ERROR(ChangeBlocks(*sparse, blocks, kSparseSeed, nullptr));
  ASSIGN_OR_RETURN(t, rig_->Snapshot(*sparse, "sparse64-first", ""));
  ASSIGN_OR_RETURN(t, rig_->Snapshot(*sparse, "sparse64-unchanged", "sparse64-first"));
  r.unchanged.push_back({kSparseSize, t.micros});
  PrintUnchanged(r.unchanged.back());
  return sparse->Close();
}

Status StorageRun::Restore(BenchReport& r) {
  fmt::print("\nCreate volume from snapshot \"full\", lazy loading, hydration\n");
  RETURN_IF_ERROR(RestoreAndRead("full", "restored-", r.size, r.restore, r.lazy));
  PrintLazy(r.lazy);
  return Status::Ok();
}

Status StorageRun::EncryptedRestore(BenchReport& r) {
  fmt::print(
      "\nCreate volume from encrypted snapshot \"encrypted-full\" (encrypted volumes), lazy "
      "loading, hydration\n");
  EncryptedFigures& e = *r.encrypted;
  RETURN_IF_ERROR(
      RestoreAndRead("encrypted-full", "encrypted-restored-", r.size, e.restore, e.lazy));
  PrintEncryptedLazy(e.lazy, r.lazy, r.limits);
  return Status::Ok();
}

Status StorageRun::RestoreAndRead(const std::string& snapshot, const std::string& prefix,
                                  uint64_t size, std::vector<RestoreFigures>& restore,
                                  LazyReadFigures& lazy) {
  std::vector<std::unique_ptr<Volume>> volumes;
  for (uint64_t s : {size, kSparseSize}) {
    Stopwatch watch(clock_);
    ASSIGN_OR_RETURN(auto v, rig_->snapshots().CreateVolume(
                                 snapshot, rig_->VolumeDir(prefix + std::to_string(s)), s));
    restore.push_back({s, watch.ElapsedMicros()});
    PrintRestore(restore.back(), snapshot);
    volumes.push_back(std::move(v));
  }
  RETURN_IF_ERROR(LazyReads(*volumes[0], lazy));
  RETURN_IF_ERROR(Hydrate(*volumes[1], lazy));
  for (auto& v : volumes) RETURN_IF_ERROR(v->Close());
  return Status::Ok();
}

// A 4 KiB read at the start of each of kLazyReads random non-zero blocks that are not local
// yet; each read fetches, verifies and stores its whole chunk before it returns.
Status StorageRun::LazyReads(Volume& volume, LazyReadFigures& lazy) {
  std::shared_ptr<const BlockMap> map = volume.base();
  const auto& entries = map->entries();
  if (entries.empty()) return Status::Ok();
  auto picks = PickBlocks(kIncrementalSeed, entries.size(), kLazyReads);
  caches_.Drop();
  Bytes buf(kLazyReadBytes);
  for (uint64_t pick : picks) {
    Stopwatch watch(clock_);
    RETURN_IF_ERROR(volume.Read(entries[pick].block * kBlockSize, buf));
    lazy.micros.push_back(watch.ElapsedMicros());
  }
  return Status::Ok();
}

Status StorageRun::Hydrate(Volume& volume, LazyReadFigures& lazy) {
  lazy.hydrate_bytes = volume.Stats().base_blocks_missing * kBlockSize;
  caches_.Drop();
  Stopwatch watch(clock_);
  RETURN_IF_ERROR(volume.Hydrate(0, [](uint64_t, uint64_t) { return true; }));
  lazy.hydrate_micros = watch.ElapsedMicros();
  if (volume.Stats().base_blocks_missing != 0) {
    return InternalError("hydration left blocks missing");
  }
  return Status::Ok();
}

Status StorageRun::Dedup(BenchReport& r) {
  DedupFigures& d = r.dedup;
  d.volumes = kDerivedVolumes;
  d.blocks_changed_each = OnePercent(BlockCount(r.size));
  d.base_bytes = r.full.bytes_stored;
  d.logical_bytes = r.size * (kDerivedVolumes + 1);
  for (int i = 0; i < kDerivedVolumes; ++i) {
    const std::string name = fmt::format("derived-{:02}", i);
    ASSIGN_OR_RETURN(auto v, rig_->snapshots().CreateVolume("full", rig_->VolumeDir(name)));
    const uint64_t seed = kDerivedSeedBase + static_cast<uint64_t>(i);
    auto blocks = PickBlocks(seed, BlockCount(r.size), d.blocks_changed_each);
    RETURN_IF_ERROR(ChangeBlocks(*v, blocks, seed, nullptr));
    ASSIGN_OR_RETURN(TimedSnapshot t, rig_->Snapshot(*v, name, "full"));
    d.derived_bytes += t.info.progress.bytes_stored;
    d.snapshot_micros_total += t.micros;
    RETURN_IF_ERROR(v->Close());
  }
  PrintDedup(d);
  return Status::Ok();
}

int CoresUsed(int threads) {
  int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return threads <= 0 ? hw : std::min(threads, hw);
}

Status PrepareAndMeasure(FileSystem& fs, const StorageBenchOptions& o, const std::string& run_dir,
                         BenchReport& r, std::string* image) {
  ASSIGN_OR_RETURN(r.size, ChooseSize(fs, o, &r.notes));
  fmt::print("\nTest data: preparing the {} image...\n", FormatBytes(r.size));
  ASSIGN_OR_RETURN(TestImage img, PrepareTestImage(fs, o.work_dir, r.size));
  r.image_description = img.description;
  *image = img.path;
  fmt::print("  {} {}\n  {}\n", img.reused ? "reusing cached" : "made", img.path, img.description);
  RETURN_IF_ERROR(RemoveTree(fs, run_dir));  // a previous run's leftovers (--keep, or a crash)
  RETURN_IF_ERROR(CreateDirs(fs, run_dir));
  ASSIGN_OR_RETURN(r.limits,
                   MeasureMachineLimits(fs, img.path, run_dir, std::min(kMaxDiskTest, r.size),
                                        CoresUsed(o.threads), !o.skip_encrypted));
  PrintLimits(r.limits);
  return Status::Ok();
}

}  // namespace

Status RunStorageBench(const StorageBenchOptions& o) {
  PosixFileSystem fs;
  RETURN_IF_ERROR(CreateDirs(fs, o.work_dir));
  const std::string run_dir = JoinPath(o.work_dir, "run");
  BenchReport r;
  r.work_dir = o.work_dir;
  r.threads = o.threads;
  fmt::print(
      "kiln-bench storage: work dir {}, snapshot threads {}, {} hardware threads, load "
      "average {}\n",
      o.work_dir,
      o.threads == 0 ? "default (SnapshotOptions: 8 x hardware threads)"
                     : std::to_string(o.threads),
      std::thread::hardware_concurrency(), LoadAverage(fs));
  r.notes += "1-minute load average at start " + LoadAverage(fs) + ". ";
  std::string image;
  Status s = PrepareAndMeasure(fs, o, run_dir, r, &image);
  if (s.ok()) {
    StorageRun run(fs, o, run_dir);
    s = run.Run(r, image);
  }  // the run's volumes and stores are closed here, before their files go
  if (s.ok()) {
    r.notes += "Load average at end " + LoadAverage(fs) + ". ";
    if (o.skip_peer) r.notes += "restic skipped (--skip-peer). ";
    if (o.skip_encrypted) r.notes += "encrypted part skipped (--skip-encrypted). ";
    PrintGoals(r);
    if (!r.notes.empty()) fmt::print("\nNotes: {}\n", r.notes);
    if (!o.json_path.empty()) s = WriteJson(fs, o.json_path, r);
  }
  if (o.keep) {
    fmt::print("\nKept the run's state in {} (--keep)\n", run_dir);
  } else {
    Status removed = RemoveTree(fs, run_dir);
    if (s.ok()) s = removed;
  }
  return s;
}

}  // namespace kiln::bench
