#include "bench/kiln_rig.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "bench/bench_util.h"

namespace kiln::bench {
namespace {

constexpr uint64_t kCopyPiece = 8 << 20;  // image bytes moved per Write call
constexpr char kAccount[] = "123456789012";
constexpr char kDefaultEbsAlias[] = "alias/aws/ebs";

}  // namespace

Result<std::unique_ptr<KilnRig>> KilnRig::Open(FileSystem& fs, Clock& clock,
                                               const std::string& run_dir, int threads) {
  std::unique_ptr<KilnRig> rig(new KilnRig(fs, clock, run_dir, threads));
  RETURN_IF_ERROR(CreateDirs(fs, JoinPath(run_dir, "volumes")));
  ASSIGN_OR_RETURN(rig->backend_, LocalDirBackend::Open(fs, JoinPath(run_dir, "chunks")));
  rig->store_ = std::make_unique<ContentChunkStore>(*rig->backend_);
  ASSIGN_OR_RETURN(rig->kms_, KeyService::Open(fs, clock, JoinPath(run_dir, "kms")));
  rig->keyring_ = std::make_unique<KmsKeyring>(*rig->kms_, *rig->backend_);
  ASSIGN_OR_RETURN(
      rig->snapshots_,
      SnapshotStore::Open(fs, *rig->store_, JoinPath(run_dir, "snapshots"), rig->keyring_.get()));
  return rig;
}

std::string KilnRig::VolumeDir(const std::string& name) const {
  return JoinPath(JoinPath(run_dir_, "volumes"), name);
}

Result<std::unique_ptr<Volume>> KilnRig::CreateVolume(const std::string& name, uint64_t size) {
  return Volume::Create(fs_, *store_, VolumeDir(name), size);
}

Result<std::unique_ptr<Volume>> KilnRig::CreateEncryptedVolume(const std::string& name,
                                                               uint64_t size) {
  ASSIGN_OR_RETURN(LineageKeys keys, keyring_->NewLineage(kAccount, kDefaultEbsAlias));
  Result<ChunkStore*> sealed = keyring_->Store(keys.lineage);
  Result<std::unique_ptr<Volume>> volume =
      sealed.ok() ? Volume::Create(fs_, **sealed, VolumeDir(name), size, {}, &keys)
                  : Result<std::unique_ptr<Volume>>(sealed.status());
  OPENSSL_cleanse(&keys, sizeof keys);
  return volume;
}

Result<TimedSnapshot> KilnRig::Snapshot(Volume& volume, const std::string& id,
                                        const std::string& parent) {
  SnapshotOptions options;
  options.threads = threads_;
  options.parent_id = parent;
  TimedSnapshot t;
  Stopwatch watch(clock_);
  ASSIGN_OR_RETURN(auto job, snapshots_->Start(volume, id, options));
  ASSIGN_OR_RETURN(t.info, job->Run());
  t.micros = watch.ElapsedMicros();
  return t;
}

Status WriteImage(FileSystem& fs, const std::string& image, Volume& volume) {
  ASSIGN_OR_RETURN(auto file, fs.Open(image, OpenMode::kRead));
  ASSIGN_OR_RETURN(uint64_t size, file->Size());
  if (size > volume.size()) return InvalidArgumentError(image + " is larger than the volume");
  Bytes piece(kCopyPiece);
  for (uint64_t off = 0; off < size; off += kCopyPiece) {
    size_t len = static_cast<size_t>(std::min(kCopyPiece, size - off));
    RETURN_IF_ERROR(ReadExactly(*file, off, MutableByteView(piece.data(), len)));
    RETURN_IF_ERROR(volume.Write(off, ByteView(piece.data(), len)));
  }
  return volume.Flush();
}

Status CopySparse(FileSystem& fs, const std::string& from, const std::string& to) {
  ASSIGN_OR_RETURN(auto in, fs.Open(from, OpenMode::kRead));
  ASSIGN_OR_RETURN(auto out, fs.Open(to, OpenMode::kTruncate));
  ASSIGN_OR_RETURN(uint64_t size, in->Size());
  Bytes block(kBlockSize);
  for (uint64_t off = 0; off < size; off += kBlockSize) {
    size_t len = static_cast<size_t>(std::min<uint64_t>(kBlockSize, size - off));
    MutableByteView view(block.data(), len);
    RETURN_IF_ERROR(ReadExactly(*in, off, view));
    if (!IsAllZero(view)) RETURN_IF_ERROR(out->WriteAt(off, view));
  }
  RETURN_IF_ERROR(out->Truncate(size));
  return out->Sync();
}

Status ChangeBlocks(Volume& volume, const std::vector<uint64_t>& blocks, uint64_t seed,
                    File* mirror) {
  Bytes data(kBlockSize);
  for (uint64_t block : blocks) {
    const uint64_t off = block * kBlockSize;
    size_t len = static_cast<size_t>(std::min<uint64_t>(kBlockSize, volume.size() - off));
    MutableByteView view(data.data(), len);
    FillCompressible(seed * 1'000'003 + block, view);
    RETURN_IF_ERROR(volume.Write(off, view));
    if (mirror != nullptr) RETURN_IF_ERROR(mirror->WriteAt(off, view));
  }
  if (mirror != nullptr) RETURN_IF_ERROR(mirror->Sync());
  return volume.Flush();
}

}  // namespace kiln::bench
