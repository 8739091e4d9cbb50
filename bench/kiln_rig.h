// The kiln storage engine as the benchmark drives it: a chunk store over a local directory, a
// snapshot store and volumes, all under one run directory, plus the few operations every phase
// of the benchmark repeats (load an image into a volume, change blocks, take a timed snapshot).
// Encrypted volumes (issue 3) come from a key service in run_dir/kms and a keyring over the same
// chunk backend; the one snapshot store serves both kinds.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "env/clock.h"
#include "env/file_system.h"
#include "kms/key_service.h"
#include "snapshot/kms_keyring.h"
#include "snapshot/snapshot_store.h"
#include "store/content_chunk_store.h"
#include "volume/volume.h"

namespace kiln::bench {

struct TimedSnapshot {
  uint64_t micros = 0;  // SnapshotStore::Start + SnapshotJob::Run
  SnapshotInfo info;
};

class KilnRig {
 public:
  // Opens (creating) run_dir/chunks, run_dir/kms, run_dir/snapshots and run_dir/volumes.
  // `threads` is SnapshotOptions::threads for every snapshot.
  static Result<std::unique_ptr<KilnRig>> Open(FileSystem& fs, Clock& clock,
                                               const std::string& run_dir, int threads);

  FileSystem& fs() { return fs_; }
  Clock& clock() { return clock_; }
  ChunkStore& store() { return *store_; }
  SnapshotStore& snapshots() { return *snapshots_; }
  std::string VolumeDir(const std::string& name) const;

  // A new empty volume named `name` of `size` bytes.
  Result<std::unique_ptr<Volume>> CreateVolume(const std::string& name, uint64_t size);
  // The same, encrypted under a new lineage whose data key is wrapped by the benchmark account's
  // default EBS key (alias/aws/ebs), as EBS encryption by default does. The volume keeps its own
  // copy of the keys; the rig keeps none.
  Result<std::unique_ptr<Volume>> CreateEncryptedVolume(const std::string& name, uint64_t size);
  // Snapshot `id` of `volume` (parent recorded as `parent`), timed.
  Result<TimedSnapshot> Snapshot(Volume& volume, const std::string& id, const std::string& parent);

 private:
  KilnRig(FileSystem& fs, Clock& clock, std::string run_dir, int threads)
      : fs_(fs), clock_(clock), run_dir_(std::move(run_dir)), threads_(threads) {}

  FileSystem& fs_;
  Clock& clock_;
  const std::string run_dir_;
  const int threads_;
  std::unique_ptr<LocalDirBackend> backend_;
  std::unique_ptr<ContentChunkStore> store_;
  std::unique_ptr<KeyService> kms_;
  std::unique_ptr<KmsKeyring> keyring_;
  std::unique_ptr<SnapshotStore> snapshots_;
};

// Writes the whole file `image` into `volume` from offset 0, zero blocks included (as `dd` of
// an image onto a disk would: every block ends up dirty), then flushes.
Status WriteImage(FileSystem& fs, const std::string& image, Volume& volume);

// Copies `from` to `to`, leaving all-zero 512 KiB blocks as holes (cp --sparse=always).
Status CopySparse(FileSystem& fs, const std::string& from, const std::string& to);

// Overwrites each of `blocks` (block indexes) of `volume` with new compressible content drawn
// from `seed` and the block index, then flushes. When `mirror` is given, writes the same bytes
// at the same offsets there and syncs it (restic's copy of the image).
Status ChangeBlocks(Volume& volume, const std::vector<uint64_t>& blocks, uint64_t seed,
                    File* mirror);

}  // namespace kiln::bench
