// SnapshotStore: point-in-time, incremental snapshots of volumes, kept as BlockMap files in a
// directory over a ChunkStore; restore, delete, diff and garbage collection.
//
// A snapshot is immutable once complete. It is the volume's base map (its previous snapshot,
// or the snapshot it was restored from) with the volume's dirty blocks replaced: only dirty
// blocks are read, hashed, compressed and stored; every other block is inherited by chunk id.
// Its map file is written only after every chunk it names is durable.
//
// Snapshots are independent: deleting one never affects another (a map holds every chunk id it
// needs, not a delta). CollectGarbage then frees exactly the chunks no live map references.
//
// Thread-safety: all methods may be called concurrently, including CollectGarbage while
// snapshots are being taken: a chunk an in-flight snapshot has put or reused is pinned until
// its map is durable, and never collected.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "env/file_system.h"
#include "snapshot/lineage_keyring.h"
#include "snapshot/snapshot_job.h"
#include "store/block_map.h"
#include "store/chunk_store.h"
#include "volume/volume.h"

namespace kiln {

struct GcRoots {
  // Map files that are live besides the store's own snapshots (e.g. closed volumes' base maps).
  std::vector<std::string> map_paths;
  // Maps held in memory that are live (open volumes' bases: Volume::base()).
  std::vector<std::shared_ptr<const BlockMap>> maps;
};

struct CopyOptions {
  // Re-seal the copy under this encrypted lineage (a new one: KmsKeyring::NewLineage): every
  // chunk is read (and opened, if the source is encrypted) and sealed again under these keys,
  // in a map of that lineage. This is how an unencrypted snapshot becomes encrypted, and an
  // encrypted one moves to another key. Without it, the copy is the source's map under the new
  // id: same lineage, chunks shared (an encrypted source's copy is encrypted the same way).
  // There is no way to make an unencrypted copy of an encrypted snapshot.
  const LineageKeys* encrypt_to = nullptr;
  int threads = 0;  // for re-sealing; 0 picks eight per hardware thread
  // Called from worker threads after each block re-sealed; returning false stops the copy
  // (Aborted). May be empty.
  std::function<bool(uint64_t done, uint64_t total)> progress;
};

struct GcStats {
  uint64_t live_chunks = 0;     // distinct chunks referenced by the roots
  uint64_t scanned_chunks = 0;  // chunks in the store when the sweep began
  uint64_t deleted_chunks = 0;
  uint64_t kept_pinned = 0;  // unreferenced but pinned by an in-flight snapshot
};

class SnapshotStore {
 public:
  // Opens (creating if missing) the snapshot directory `dir`; removes temporary files a crash
  // left. `store` is the unencrypted chunk store; encrypted lineages' stores and keys come from
  // `keyring` (may be null: then encrypted snapshots cannot be restored or copied,
  // FailedPrecondition). Every store must share one backend: garbage collection lists and
  // deletes through `store`, and chunk ids of all lineages live side by side. `fs`, `store` and
  // `keyring` must outlive the SnapshotStore.
  static Result<std::unique_ptr<SnapshotStore>> Open(FileSystem& fs, ChunkStore& store,
                                                     std::string dir,
                                                     LineageKeyring* keyring = nullptr);
  ~SnapshotStore();

  // Fixes the point in time of a snapshot of `volume` now and returns the job that captures it
  // (SnapshotJob::Run). The snapshot's chunks go to the volume's chunk store, so a snapshot of
  // an encrypted volume is sealed under the volume's lineage. `id` names the snapshot
  // ([A-Za-z0-9._-], 1..64 chars, unused: AlreadyExists otherwise). FailedPrecondition if the
  // volume has a capture in progress. `volume` must outlive the job.
  Result<std::unique_ptr<SnapshotJob>> Start(Volume& volume, const std::string& id,
                                             SnapshotOptions options = {});

  Result<BlockMap> Load(const std::string& id);  // NotFound, or Corruption
  std::string MapPath(const std::string& id) const;
  Result<std::vector<std::string>> List();  // ids of complete snapshots
  Status Delete(const std::string& id);     // NotFound if absent; chunks are freed by GC
  // Changed block indexes between two snapshots of one lineage (EBS ListChangedBlocks).
  Result<std::vector<uint64_t>> Diff(const std::string& a, const std::string& b);
  // Restore: a new volume in `dir` holding snapshot `id`, ready at once (lazy loading).
  // `size` 0 means the snapshot's size; smaller than the snapshot is InvalidArgument. A volume
  // from an encrypted snapshot is encrypted under the snapshot's lineage (keys from the
  // keyring).
  Result<std::unique_ptr<Volume>> CreateVolume(const std::string& id, const std::string& dir,
                                               uint64_t size = 0);
  // Opens the volume in `dir`, with its lineage's keys from the keyring if it is encrypted.
  Result<std::unique_ptr<Volume>> OpenVolume(const std::string& dir);

  // A new snapshot `id` holding what snapshot `source` holds (CopySnapshot), durable when it
  // returns; see CopyOptions for encryption. AlreadyExists if `id` is taken, NotFound if
  // `source` is. The source's chunks stay live during the copy even if it is deleted meanwhile.
  Result<BlockMap> Copy(const std::string& source, const std::string& id,
                        const CopyOptions& options = {});

  // Deletes every chunk that no snapshot of this store, no map in `roots` and no in-flight
  // snapshot references. A root or snapshot map that cannot be read stops the collection with
  // its error before anything is deleted.
  Result<GcStats> CollectGarbage(const GcRoots& roots = {});

  ChunkStore& chunk_store() { return store_; }
  // The store holding the chunks of maps of `lineage` (`encrypted` as the map says).
  Result<ChunkStore*> StoreFor(const LineageId& lineage, bool encrypted);

 private:
  friend class SnapshotJob;
  SnapshotStore(FileSystem& fs, ChunkStore& store, std::string dir, LineageKeyring* keyring);
  Result<LineageKeys> KeysFor(const LineageId& lineage);
  // Copy's re-sealing: every chunk of `map` put into `target`; returns the new map's entries.
  Result<std::vector<BlockMap::Entry>> Reseal(const BlockMap& map, ChunkStore& source,
                                              ChunkStore& target, const CopyOptions& options,
                                              std::vector<ChunkId>& pins);
  Status WriteNewMap(const std::string& id, const BlockMap& map);

  // Pins keep chunks of in-flight snapshots from collection (see CollectGarbage).
  void Pin(const ChunkId& id);
  void Unpin(const std::vector<ChunkId>& ids);
  // An in-flight snapshot's base map (or a copy's source) is live: its blocks will be inherited
  // by the new map. `owner` identifies the operation. AlreadyExists if another in-flight
  // operation makes the same id.
  Status RegisterBase(const void* owner, const std::string& id, const BlockMap* base);
  void UnregisterBase(const void* owner);

  FileSystem& fs_;
  ChunkStore& store_;
  const std::string dir_;
  LineageKeyring* const keyring_;

  std::mutex pin_mu_;
  std::unordered_map<ChunkId, int, ChunkIdHash> pinned_;  // guarded by pin_mu_
  bool gc_running_ = false;                               // guarded by pin_mu_
  std::unordered_set<ChunkId, ChunkIdHash> gc_touched_;   // pinned while a GC runs
  struct InFlight {
    std::string id;
    const BlockMap* base;
  };
  std::unordered_map<const void*, InFlight> in_flight_bases_;  // guarded by pin_mu_
  std::mutex gc_mu_;                                           // one collection at a time
  // Held shared while a map file is created or removed, exclusively while GC marks: the mark
  // phase sees one consistent set of maps (a map deleted after listing but before loading
  // would otherwise hide chunks that a map written after listing inherited).
  std::shared_mutex maps_mu_;
};

}  // namespace kiln
