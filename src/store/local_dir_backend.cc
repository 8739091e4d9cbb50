#include <random>
#include <string>

#include "store/chunk_backend.h"

namespace kiln {
namespace {

constexpr std::string_view kTempMarker = ".tmp-";

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// True for exactly the names Put gives to finished chunk files.
bool IsChunkName(std::string_view name) {
  if (name.size() != 64) return false;
  for (char c : name) {
    if (!IsLowerHex(c)) return false;
  }
  return true;
}

std::string ShardName(int i) {
  static constexpr char kDigits[] = "0123456789abcdef";
  return std::string{kDigits[i >> 4], kDigits[i & 15]};
}

uint64_t RandomNonce() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

}  // namespace

Result<std::unique_ptr<LocalDirBackend>> LocalDirBackend::Open(FileSystem& fs, std::string root) {
  RETURN_IF_ERROR(CreateDirs(fs, root));
  std::unique_ptr<LocalDirBackend> backend(new LocalDirBackend(fs, std::move(root), RandomNonce()));
  RETURN_IF_ERROR(backend->CreateShards());
  RETURN_IF_ERROR(backend->RemoveTempFiles());
  return backend;
}

Status LocalDirBackend::CreateShards() {
  bool created = false;
  for (int i = 0; i < 256; ++i) {
    Status s = fs_.CreateDir(JoinPath(root_, ShardName(i)));
    if (s.ok()) {
      created = true;
    } else if (s.code() != Code::kAlreadyExists) {
      return s;
    }
  }
  // One directory sync covers all 256 creations; a crash before it only means the next Open
  // creates the missing ones again.
  return created ? fs_.SyncDir(root_) : Status::Ok();
}

Status LocalDirBackend::RemoveTempFiles() {
  // A removal need not be durable: a temp file that comes back after a crash is removed by the
  // next Open.
  for (int i = 0; i < 256; ++i) {
    const std::string shard = JoinPath(root_, ShardName(i));
    ASSIGN_OR_RETURN(std::vector<std::string> names, fs_.ListDir(shard));
    for (const std::string& name : names) {
      if (name.find(kTempMarker) == std::string::npos) continue;
      Status s = fs_.Remove(JoinPath(shard, name));
      if (!s.ok() && s.code() != Code::kNotFound) return s;
    }
  }
  return Status::Ok();
}

std::string LocalDirBackend::ShardOf(const ChunkId& id) const {
  return JoinPath(root_, ShardName(id.bytes[0]));
}

std::string LocalDirBackend::PathOf(const ChunkId& id) const {
  return JoinPath(ShardOf(id), id.ToHex());
}

Status LocalDirBackend::Put(const ChunkId& id, ByteView frame) {
  ASSIGN_OR_RETURN(bool present, Has(id));
  if (present) return Status::Ok();
  const std::string path = PathOf(id);
  const std::string temp = path + std::string(kTempMarker) + std::to_string(temp_nonce_) + "-" +
                           std::to_string(temp_counter_.fetch_add(1, std::memory_order_relaxed));
  Status s;
  {
    Result<std::unique_ptr<File>> file = fs_.Open(temp, OpenMode::kCreateExclusive);
    if (!file.ok()) return file.status();
    s = (*file)->WriteAt(0, frame);
    if (s.ok()) s = (*file)->Sync();
  }
  // Concurrent Puts of one id each rename their own complete temp file; the last rename wins
  // and both leave the same chunk.
  if (s.ok()) s = fs_.Rename(temp, path);
  if (!s.ok()) {
    fs_.Remove(temp).IgnoreError();
    return s.Annotate("put chunk " + id.ToHex());
  }
  return fs_.SyncDir(ShardOf(id));
}

Result<Bytes> LocalDirBackend::Get(const ChunkId& id) { return ReadFile(fs_, PathOf(id)); }

Result<Bytes> LocalDirBackend::GetPrefix(const ChunkId& id, size_t max_bytes) {
  ASSIGN_OR_RETURN(std::unique_ptr<File> file, fs_.Open(PathOf(id), OpenMode::kRead));
  Bytes out(max_bytes);
  ASSIGN_OR_RETURN(size_t n, file->ReadAt(0, out));
  out.resize(n);
  return out;
}

Result<bool> LocalDirBackend::Has(const ChunkId& id) {
  Result<FileInfo> info = fs_.Stat(PathOf(id));
  if (info.ok()) return true;
  if (info.status().code() == Code::kNotFound) return false;
  return info.status();
}

Status LocalDirBackend::Delete(const ChunkId& id) {
  Status s = fs_.Remove(PathOf(id));
  if (s.code() == Code::kNotFound) return Status::Ok();
  return s;
}

Status LocalDirBackend::List(const std::function<void(const ChunkId&, uint64_t)>& fn) {
  for (int i = 0; i < 256; ++i) {
    const std::string shard = JoinPath(root_, ShardName(i));
    ASSIGN_OR_RETURN(std::vector<std::string> names, fs_.ListDir(shard));
    for (const std::string& name : names) {
      if (!IsChunkName(name) || name.compare(0, 2, ShardName(i)) != 0) continue;
      Result<FileInfo> info = fs_.Stat(JoinPath(shard, name));
      if (!info.ok() && info.status().code() == Code::kNotFound) continue;  // deleted meanwhile
      if (!info.ok()) return info.status();
      ASSIGN_OR_RETURN(ChunkId id, ChunkId::FromHex(name));
      fn(id, info->size);
    }
  }
  return Status::Ok();
}

}  // namespace kiln
