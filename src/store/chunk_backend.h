// ChunkBackend: where encoded chunk frames live, keyed by ChunkId. Knows nothing of
// compression, hashing or keys: it stores and returns opaque bytes. LocalDirBackend keeps one
// file per chunk; an S3 backend (later) one object per chunk.
//
// Durability: Put is atomic (a reader or a crash sees no frame or the whole frame) and durable
// when it returns. Thread-safety: all methods are safe to call concurrently; two concurrent
// Puts of the same id both succeed and leave one copy.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/bytes.h"
#include "base/status.h"
#include "env/file_system.h"
#include "store/chunk_id.h"

namespace kiln {

class ChunkBackend {
 public:
  virtual ~ChunkBackend() = default;
  virtual Status Put(const ChunkId& id, ByteView frame) = 0;
  virtual Result<Bytes> Get(const ChunkId& id) = 0;  // NotFound if absent
  // At most the first `max_bytes` of the frame (Stats reads only headers). NotFound if absent.
  // The default reads the whole frame; backends that can read a range override it.
  virtual Result<Bytes> GetPrefix(const ChunkId& id, size_t max_bytes) {
    ASSIGN_OR_RETURN(Bytes frame, Get(id));
    if (frame.size() > max_bytes) frame.resize(max_bytes);
    return frame;
  }
  virtual Result<bool> Has(const ChunkId& id) = 0;
  virtual Status Delete(const ChunkId& id) = 0;  // OK if absent
  // Calls fn(id, stored_size) once per frame.
  virtual Status List(const std::function<void(const ChunkId&, uint64_t)>& fn) = 0;
};

// One file per chunk under `root`: root/<first two hex digits>/<64 hex digits>.
// Format and write protocol: docs/formats/chunk-store.md.
//
// Put writes a temp file in the shard, syncs it, renames it into place and syncs the shard
// directory; a Put of an id already present writes nothing. Delete is not durable by itself: a
// crash may bring a deleted chunk back (harmless garbage that the next GC removes again); the
// next Put into that shard makes the removal durable. One process owns a root at a time: Open
// removes every temp file it finds, including one a live writer elsewhere would still rename.
class LocalDirBackend : public ChunkBackend {
 public:
  // Creates root and its 256 shard directories if missing (durably), and removes temporary
  // files a crash left behind.
  static Result<std::unique_ptr<LocalDirBackend>> Open(FileSystem& fs, std::string root);

  Status Put(const ChunkId& id, ByteView frame) override;
  Result<Bytes> Get(const ChunkId& id) override;
  Result<Bytes> GetPrefix(const ChunkId& id, size_t max_bytes) override;
  Result<bool> Has(const ChunkId& id) override;
  Status Delete(const ChunkId& id) override;
  Status List(const std::function<void(const ChunkId&, uint64_t)>& fn) override;

  std::string PathOf(const ChunkId& id) const;  // for tests that damage a chunk on purpose

 private:
  LocalDirBackend(FileSystem& fs, std::string root, uint64_t temp_nonce)
      : fs_(fs), root_(std::move(root)), temp_nonce_(temp_nonce) {}
  Status CreateShards();
  Status RemoveTempFiles();
  std::string ShardOf(const ChunkId& id) const;

  FileSystem& fs_;
  const std::string root_;
  // Temp names are "<id>.tmp-<nonce>-<counter>": the random nonce keeps two backends (even in
  // two processes) off each other's names, the counter keeps this one's threads apart.
  const uint64_t temp_nonce_;
  std::atomic<uint64_t> temp_counter_{0};
};

}  // namespace kiln
