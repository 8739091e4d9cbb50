// Image import: turns a disk image into a snapshot of the storage engine, the form every image
// has in kiln (a registered image is a block device mapping of snapshots). kilnd imports the
// base images built at build time this way (images/make-base-image.sh), and a user can bring a
// root filesystem of their own: a raw ext4 image, a directory, or a tarball (such as one made
// by debootstrap), the last two made into ext4 with `mke2fs -d` (a tarball unpacked first).
//
// Only non-zero 512 KiB blocks are read and stored (holes are skipped with SEEK_DATA where the
// file system has it), so an 8 GiB sparse image with 70 MiB of data costs 70 MiB of work.
//
// Errors: InvalidArgument for an image that holds no ext4 file system (no ext4 superblock),
// one whose file system is larger than the image, or an empty or oversized (> 16 TiB) file;
// NotFound for a missing source; AlreadyExists if the snapshot id is taken. On any error
// nothing is left behind (no snapshot, no scratch volume).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/status.h"
#include "snapshot/snapshot_store.h"

namespace kiln {

struct ImportOptions {
  // Directory for the scratch volume the import goes through (removed at the end).
  std::string scratch_dir;
  // For an encrypted image: the keys of a new lineage (KmsKeyring::NewLineage) and its sealed
  // store. Null for an unencrypted one.
  const LineageKeys* keys = nullptr;
  ChunkStore* sealed_store = nullptr;
  // Called with bytes copied so far and the total of non-hole bytes; may be empty.
  std::function<void(uint64_t done, uint64_t total)> progress;
};

struct ImportResult {
  uint64_t volume_size = 0;
  uint64_t bytes_read = 0;     // data (non-hole) bytes read from the image
  uint64_t blocks_stored = 0;  // non-zero blocks in the snapshot
};

// What the first superblock of an ext4 image says.
struct Ext4Info {
  uint64_t block_size = 0;
  uint64_t blocks = 0;
  uint64_t bytes() const { return block_size * blocks; }
};
// Reads the ext4 superblock of `path`: InvalidArgument if there is none.
Result<Ext4Info> ProbeExt4(const std::string& path);

// Imports raw image `path` (an ext4 file system image) as snapshot `id` of `snaps`, the volume
// size being the file's size. `store` is the unencrypted chunk store.
Result<ImportResult> ImportRawImage(FileSystem& fs, SnapshotStore& snaps, ChunkStore& store,
                                    const std::string& path, const std::string& id,
                                    const ImportOptions& options);

// Makes an ext4 image of `size` bytes from a root file system directory or tarball (.tar,
// .tar.gz, ...: unpacked with tar first) with mke2fs -d in the scratch directory, then imports
// it as ImportRawImage does. InvalidArgument if the tarball does not unpack or mke2fs fails
// (the tree does not fit, ...).
Result<ImportResult> ImportRootfs(FileSystem& fs, SnapshotStore& snaps, ChunkStore& store,
                                  const std::string& source, uint64_t size, const std::string& id,
                                  const ImportOptions& options);

}  // namespace kiln
