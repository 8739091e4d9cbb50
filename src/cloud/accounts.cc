#include "cloud/accounts.h"

#include <spdlog/spdlog.h>

#include <cctype>

#include "catalog/ids.h"
#include "cloud/cloud.h"
#include "image/image_import.h"

namespace kiln {
namespace {

constexpr char kDefaultAccountName[] = "default";

std::string Profile(const std::string& name, const Credential& c) {
  return "[" + name + "]\naws_access_key_id = " + c.access_key_id +
         "\naws_secret_access_key = " + c.secret_access_key + "\naccount_id = " + c.account_id +
         "\n";
}

bool ValidAccountName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

// Adds the account (and, unless `alias` is set, a key pair) in one transaction.
Result<Credential> InsertAccount(Catalog& catalog, const std::string& name,
                                 const std::string& alias, const std::string& now) {
  ASSIGN_OR_RETURN(Transaction tx, catalog.Begin());
  ASSIGN_OR_RETURN(std::string account_id, NewAccountId());
  RETURN_IF_ERROR(tx.accounts().Insert(
      Account{.account_id = account_id, .name = name, .alias = alias, .created = now}));
  Credential cred{.account_id = account_id};
  if (alias.empty()) {
    ASSIGN_OR_RETURN(cred.access_key_id, NewAccessKeyId());
    ASSIGN_OR_RETURN(cred.secret_access_key, NewSecretAccessKey());
    RETURN_IF_ERROR(tx.accounts().InsertCredential(cred));
  }
  RETURN_IF_ERROR(tx.Commit());
  return cred;
}

// Appends `text` to DATA_DIR/credentials (created 0600) and syncs it.
Status AppendCredentials(const std::string& data_dir, const std::string& text) {
  const std::string path = JoinPath(data_dir, "credentials");
  PosixFileSystem fs;
  std::string content;
  if (Result<Bytes> old = ReadFile(fs, path); old.ok()) {
    content.assign(old->begin(), old->end());
    if (!content.empty() && content.back() != '\n') content += "\n";
    if (!content.empty()) content += "\n";
  }
  content += text;
  return WriteFileAtomicPrivate(
      fs, path, ByteView(reinterpret_cast<const uint8_t*>(content.data()), content.size()));
}

}  // namespace

Result<std::string> CreateAccount(Catalog& catalog, const std::string& data_dir,
                                  const std::string& name) {
  if (!ValidAccountName(name)) {
    return InvalidArgumentError("account name must be 1..64 of [A-Za-z0-9_-]: " + name);
  }
  if (catalog.accounts().FindByName(name).ok()) {
    return AlreadyExistsError("account " + name + " exists");
  }
  ASSIGN_OR_RETURN(Credential cred,
                   InsertAccount(catalog, name, "", Ec2Timestamp(SystemClock().WallMicros())));
  const std::string text = Profile(name, cred);
  RETURN_IF_ERROR(AppendCredentials(data_dir, text));
  return text;
}

Status EnsureAccounts(Cloud& cloud) {
  Catalog& catalog = cloud.catalog();
  if (!catalog.accounts().FindByAlias(kSystemAccountName).ok()) {
    RETURN_IF_ERROR(
        InsertAccount(catalog, "kiln-system", kSystemAccountName, cloud.Now()).status());
  }
  Result<Account> account = catalog.accounts().FindByName(kDefaultAccountName);
  if (!account.ok()) {
    ASSIGN_OR_RETURN(Credential cred, InsertAccount(catalog, kDefaultAccountName, "", cloud.Now()));
    spdlog::info("created account {} (profile default in {}/credentials)", cred.account_id,
                 cloud.options().data_dir);
    return AppendCredentials(cloud.options().data_dir, Profile(kDefaultAccountName, cred));
  }
  // A crash between the account's insert and the file's write left the profile out: write it.
  ASSIGN_OR_RETURN(std::vector<Credential> creds,
                   catalog.accounts().ListCredentials(account->account_id));
  if (creds.empty()) return InternalError("account default has no keys");
  PosixFileSystem fs;
  Result<Bytes> file = ReadFile(fs, JoinPath(cloud.options().data_dir, "credentials"));
  const std::string text = file.ok() ? std::string(file->begin(), file->end()) : "";
  if (text.find(creds[0].access_key_id) != std::string::npos) return Status::Ok();
  return AppendCredentials(cloud.options().data_dir, Profile(kDefaultAccountName, creds[0]));
}

namespace {

// Imports the raw ext4 image as a public snapshot of the system account.
Result<Snapshot> ImportBaseSnapshot(Cloud& cloud, const std::string& owner,
                                    const std::string& path) {
  ASSIGN_OR_RETURN(std::string snap_id, NewId("snap"));
  ImportOptions io;
  io.scratch_dir = cloud.storage().scratch_dir();
  ASSIGN_OR_RETURN(ImportResult r, ImportRawImage(cloud.storage().fs(), cloud.storage().snapshots(),
                                                  cloud.storage().store(), path, snap_id, io));
  return Snapshot{.snapshot_id = snap_id,
                  .owner_id = owner,
                  .volume_id = "vol-ffffffffffffffff0",
                  .volume_size = static_cast<int64_t>(r.volume_size / kGiB),
                  .state = SnapshotState::kCompleted,
                  .progress = 100,
                  .description = std::string("Root of ") + kBaseImageName,
                  .start_time = cloud.Now(),
                  .storage_key = snap_id};
}

Image BaseImage(const std::string& id, const std::string& owner, const std::string& name,
                const std::string& now) {
  return Image{.image_id = id,
               .owner_id = owner,
               .name = name,
               .description = "kiln's minimal Linux: busybox-static on ext4",
               .state = ImageState::kAvailable,
               .architecture = "x86_64",
               .root_device_name = "/dev/xvda",
               .root_device_type = "ebs",
               .virtualization_type = "hvm",
               .image_type = "machine",
               .is_public = true,
               .creation_date = now};
}

}  // namespace

Status EnsureBaseImages(Cloud& cloud) {
  Catalog& catalog = cloud.catalog();
  ASSIGN_OR_RETURN(Account system, catalog.accounts().FindByAlias(kSystemAccountName));
  const bool have_ebs = catalog.images().FindByName(system.account_id, kBaseImageName).ok();
  const bool have_is =
      catalog.images().FindByName(system.account_id, kBaseImageInstanceStoreName).ok();
  if (have_ebs && have_is) return Status::Ok();
  const std::string path = JoinPath(cloud.options().images_dir, "minimal-linux-x86_64.ext4");
  spdlog::info("registering the base images from {}", path);
  ASSIGN_OR_RETURN(Snapshot snap, ImportBaseSnapshot(cloud, system.account_id, path));
  ASSIGN_OR_RETURN(Transaction tx, catalog.Begin());
  RETURN_IF_ERROR(tx.snapshots().Insert(snap));
  RETURN_IF_ERROR(tx.snapshots().AddCreateVolumePermission({snap.snapshot_id, "all", ""}));
  if (!have_ebs) {
    ASSIGN_OR_RETURN(std::string id, NewId("ami"));
    Image image = BaseImage(id, system.account_id, kBaseImageName, cloud.Now());
    image.block_device_mappings.push_back(BlockDeviceMapping{.device_name = "/dev/xvda",
                                                             .snapshot_id = snap.snapshot_id,
                                                             .volume_size = 8,
                                                             .volume_type = "gp2"});
    RETURN_IF_ERROR(tx.images().Insert(image));
  }
  if (!have_is) {
    // Instance-store-backed: the root is copied to a local disk at launch (issue 6); the
    // snapshot is named by its root mapping's virtual name so launches can find it.
    ASSIGN_OR_RETURN(std::string id, NewId("ami"));
    Image image = BaseImage(id, system.account_id, kBaseImageInstanceStoreName, cloud.Now());
    image.root_device_type = "instance-store";
    image.description = "kiln's minimal Linux, instance-store-backed";
    image.block_device_mappings.push_back(BlockDeviceMapping{
        .device_name = "/dev/xvda", .snapshot_id = snap.snapshot_id, .virtual_name = "ephemeral0"});
    RETURN_IF_ERROR(tx.images().Insert(image));
  }
  return tx.Commit();
}

}  // namespace kiln
