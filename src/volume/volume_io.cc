// Reads, writes, lazy fetch and hydration of a Volume (see volume_impl.h for the locking).
#include <algorithm>
#include <chrono>
#include <shared_mutex>
#include <thread>

#include "volume/volume_impl.h"

namespace kiln {

Status Volume::Impl::CheckOpen() const {
  if (closed_.load()) return FailedPreconditionError("volume " + dir_ + " is closed");
  return Status::Ok();
}

Status Volume::Impl::CheckRange(uint64_t offset, uint64_t len) const {
  const uint64_t size = size_.load();
  if (offset > size || len > size - offset) {
    return InvalidArgumentError("range [" + std::to_string(offset) + ", +" + std::to_string(len) +
                                ") is past the end of volume " + dir_ + " (" +
                                std::to_string(size) + " bytes)");
  }
  return Status::Ok();
}

uint64_t Volume::Impl::BlockBytes(uint64_t block) const {
  return std::min(kBlockSize, size_.load() - block * kBlockSize);
}

Status Volume::Impl::ReadData(uint64_t block, uint64_t begin, MutableByteView out) {
  ASSIGN_OR_RETURN(size_t n, DataFile(block).ReadAt(DataOffset(block, begin), out));
  std::fill(out.begin() + n, out.end(), 0);  // past the end of the file reads as a hole
  return Status::Ok();
}

Result<Bytes> Volume::Impl::FetchChunk(uint64_t block, const ChunkId& id) {
  auto got = store_.Get(id);  // verified against its id by the store
  const std::string what =
      "volume " + dir_ + " block " + std::to_string(block) + " chunk " + id.ToHex();
  if (!got.ok()) return got.status().Annotate("fetching " + what);
  if (got->size() > kBlockSize) {
    return CorruptionError(what + " is " + std::to_string(got->size()) +
                           " bytes, more than a block");
  }
  got->resize(kBlockSize, 0);  // a short chunk is a block whose tail is zeros
  return std::move(got).value();
}

Status Volume::Impl::MaterializeLocked(uint64_t block, const std::optional<ChunkId>& chunk,
                                       Bytes* content) {
  const uint64_t len = BlockBytes(block);
  if (!chunk) {
    // The file may still hold a write that was never flushed and lost its present bit in a
    // crash; the block reads as zeros, so the file must too.
    RETURN_IF_ERROR(DataFile(block).PunchHole(DataOffset(block, 0), len));
    if (content) content->assign(kBlockSize, 0);
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(Bytes data, FetchChunk(block, *chunk));
  RETURN_IF_ERROR(DataFile(block).WriteAt(DataOffset(block, 0), ByteView(data).first(len)));
  if (content) *content = std::move(data);
  return Status::Ok();
}

Status Volume::Impl::ReadFullBlockLocked(uint64_t block, Bytes& out) {
  out.assign(kBlockSize, 0);
  if (present_.Test(block)) {
    return ReadData(block, 0, MutableByteView(out).first(BlockBytes(block)));
  }
  const std::optional<ChunkId> chunk = base()->Find(block);
  if (!chunk) return Status::Ok();
  RETURN_IF_ERROR(MaterializeLocked(block, chunk, &out));
  present_.Set(block);
  return Status::Ok();
}

Status Volume::Impl::ReadBlock(uint64_t block, uint64_t begin, MutableByteView out) {
  if (present_.Test(block)) return ReadData(block, begin, out);
  const std::optional<ChunkId> chunk = base()->Find(block);
  if (!chunk) {
    // Not present and zero in the base: nothing to fetch. A concurrent first write to the
    // block is ordered after this read.
    std::fill(out.begin(), out.end(), 0);
    return Status::Ok();
  }
  std::lock_guard lock(BlockLock(block));
  if (present_.Test(block)) return ReadData(block, begin, out);
  Bytes content;
  RETURN_IF_ERROR(MaterializeLocked(block, chunk, &content));
  present_.Set(block);  // only now: a lock-free reader must never see a half-written block
  std::copy_n(content.begin() + begin, out.size(), out.begin());
  return Status::Ok();
}

Status Volume::Impl::Read(uint64_t offset, MutableByteView out) {
  RETURN_IF_ERROR(CheckOpen());
  RETURN_IF_ERROR(CheckRange(offset, out.size()));
  std::shared_lock epoch(epoch_);
  for (uint64_t done = 0; done < out.size();) {
    const uint64_t pos = offset + done;
    const uint64_t len = std::min(kBlockSize - pos % kBlockSize, out.size() - done);
    RETURN_IF_ERROR(ReadBlock(pos / kBlockSize, pos % kBlockSize, out.subspan(done, len)));
    done += len;
  }
  return Status::Ok();
}

Status Volume::Impl::Apply(const BlockWrite& w) {
  File& file = DataFile(w.block);
  const uint64_t offset = DataOffset(w.block, w.begin);
  if (w.data.empty()) return file.PunchHole(offset, w.len);
  return file.WriteAt(offset, w.data);
}

Status Volume::Impl::WriteBlockLocked(const BlockWrite& w) {
  if (!present_.Test(w.block)) {
    // A write covering the whole block needs nothing of what was there; any other first
    // write starts from the block's base content.
    const bool whole = w.begin == 0 && w.len == BlockBytes(w.block);
    if (!whole) RETURN_IF_ERROR(MaterializeLocked(w.block, base()->Find(w.block), nullptr));
  }
  dirty_.Set(w.block);
  RETURN_IF_ERROR(Apply(w));
  present_.Set(w.block);
  return Status::Ok();
}

Status Volume::Impl::WriteBlock(const BlockWrite& w) {
  VolumeCapture::State* capture = capture_.get();  // fixed while we hold the epoch
  const bool pending = capture != nullptr && capture->pending.Test(w.block);
  if (!pending && present_.Test(w.block)) {
    // The common case: a local block no capture needs. Positional writes need no lock.
    dirty_.Set(w.block);
    return Apply(w);
  }
  Bytes old;
  bool claimed = false;
  Status status;
  {
    std::lock_guard lock(BlockLock(w.block));
    if (capture != nullptr && capture->pending.Test(w.block)) {
      // Copy-on-write: the capture takes the block as it was before this write.
      RETURN_IF_ERROR(ReadFullBlockLocked(w.block, old));
      capture->pending.Clear(w.block);
      capture->claimed.fetch_add(1);
      claimed = true;
    }
    status = WriteBlockLocked(w);
  }
  // Delivered whatever became of the write: the block is claimed and the sink is owed it.
  if (claimed) Deliver(*capture, w.block, old);
  return status;
}

Status Volume::Impl::Write(uint64_t offset, ByteView data) {
  RETURN_IF_ERROR(CheckOpen());
  RETURN_IF_ERROR(CheckRange(offset, data.size()));
  std::shared_lock epoch(epoch_);
  for (uint64_t done = 0; done < data.size();) {
    const uint64_t pos = offset + done;
    const uint64_t len = std::min(kBlockSize - pos % kBlockSize, data.size() - done);
    RETURN_IF_ERROR(WriteBlock({pos / kBlockSize, pos % kBlockSize, len, data.subspan(done, len)}));
    done += len;
  }
  return Status::Ok();
}

Status Volume::Impl::WriteZeroes(uint64_t offset, uint64_t len) {
  RETURN_IF_ERROR(CheckOpen());
  RETURN_IF_ERROR(CheckRange(offset, len));
  std::shared_lock epoch(epoch_);
  // Every piece is a punched hole: whole blocks are deallocated, and the file system zeroes
  // (and deallocates what it can of) partial ones.
  for (uint64_t done = 0; done < len;) {
    const uint64_t pos = offset + done;
    const uint64_t n = std::min(kBlockSize - pos % kBlockSize, len - done);
    RETURN_IF_ERROR(WriteBlock({pos / kBlockSize, pos % kBlockSize, n, ByteView()}));
    done += n;
  }
  return Status::Ok();
}

Status Volume::Impl::HydrateBlock(uint64_t block) {
  std::shared_lock epoch(epoch_);
  RETURN_IF_ERROR(CheckOpen());
  if (present_.Test(block)) return Status::Ok();
  std::lock_guard lock(BlockLock(block));
  if (present_.Test(block)) return Status::Ok();
  const std::optional<ChunkId> chunk = base()->Find(block);
  if (!chunk) return Status::Ok();
  RETURN_IF_ERROR(MaterializeLocked(block, chunk, nullptr));
  present_.Set(block);
  return Status::Ok();
}

Status Volume::Impl::Hydrate(uint64_t rate_bytes_per_sec,
                             const std::function<bool(uint64_t done, uint64_t total)>& progress) {
  RETURN_IF_ERROR(CheckOpen());
  // The blocks to fetch, fixed now; the epoch is then taken per block so that a long
  // hydration never holds off a snapshot.
  Bitmap todo;
  {
    std::shared_lock epoch(epoch_);
    const std::shared_ptr<const BlockMap> base = this->base();
    todo = Bitmap(present_.size());
    for (const BlockMap::Entry& e : base->entries()) {
      if (e.block < todo.size() && !present_.Test(e.block)) todo.Set(e.block);
    }
  }
  const uint64_t total = todo.Count();
  const auto start = std::chrono::steady_clock::now();
  uint64_t done = 0;
  for (uint64_t b = todo.NextSet(0); b < todo.size(); b = todo.NextSet(b + 1)) {
    RETURN_IF_ERROR(HydrateBlock(b));
    ++done;
    if (rate_bytes_per_sec > 0) {
      // Pacing against the steady clock: block n may not finish before n blocks' worth of
      // the allowed rate has elapsed since the start.
      const std::chrono::duration<double> due(static_cast<double>(done * kBlockSize) /
                                              static_cast<double>(rate_bytes_per_sec));
      std::this_thread::sleep_until(
          start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(due));
    }
    if (progress && !progress(done, total)) {
      return AbortedError("hydration of volume " + dir_ + " stopped at " + std::to_string(done) +
                          " of " + std::to_string(total) + " blocks");
    }
  }
  return Status::Ok();
}

}  // namespace kiln
