// ChunkBackend: where encoded chunk frames live, keyed by ChunkId. Knows nothing of
// compression, hashing or keys: it stores and returns opaque bytes. LocalDirBackend keeps one
// file per chunk; an S3 backend (later) one object per chunk.
//
// Durability: Put is atomic (a reader or a crash sees no frame or the whole frame) and durable
// when it returns. Thread-safety: all methods are safe to call concurrently; two concurrent
// Puts of the same id both succeed and leave one copy.
#pragma once

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
  virtual Result<bool> Has(const ChunkId& id) = 0;
  virtual Status Delete(const ChunkId& id) = 0;  // OK if absent
  // Calls fn(id, stored_size) once per frame.
  virtual Status List(const std::function<void(const ChunkId&, uint64_t)>& fn) = 0;
};

// One file per chunk under `root`: root/<first two hex digits>/<64 hex digits>.
// Format and write protocol: docs/formats/chunk-store.md.
class LocalDirBackend : public ChunkBackend {
 public:
  // Creates root and its 256 shard directories if missing (durably), and removes temporary
  // files a crash left behind.
  static Result<std::unique_ptr<LocalDirBackend>> Open(FileSystem& fs, std::string root);

  Status Put(const ChunkId& id, ByteView frame) override;
  Result<Bytes> Get(const ChunkId& id) override;
  Result<bool> Has(const ChunkId& id) override;
  Status Delete(const ChunkId& id) override;
  Status List(const std::function<void(const ChunkId&, uint64_t)>& fn) override;

  std::string PathOf(const ChunkId& id) const;  // for tests that damage a chunk on purpose

 private:
  LocalDirBackend(FileSystem& fs, std::string root) : fs_(fs), root_(std::move(root)) {}
  FileSystem& fs_;
  const std::string root_;
};

}  // namespace kiln
