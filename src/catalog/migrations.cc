#include "catalog/migrations.h"

#include <string>

namespace kiln::catalog_internal {
namespace {

// PRAGMA application_id of a kiln catalog: "kiln" in ASCII (0x6b696c6e).
constexpr int64_t kApplicationId = 0x6b696c6e;

// Version 1: the schema the control plane starts with. src/catalog/README.md explains it.
constexpr const char* kSchemaV1 = R"sql(
PRAGMA application_id = 1802071150;

CREATE TABLE accounts (
  account_id TEXT PRIMARY KEY NOT NULL
    CHECK (length(account_id) = 12 AND account_id NOT GLOB '*[^0-9]*'),
  name TEXT NOT NULL UNIQUE CHECK (name <> ''),
  alias TEXT NOT NULL,
  created TEXT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX accounts_alias ON accounts(alias) WHERE alias <> '';

CREATE TABLE credentials (
  access_key_id TEXT PRIMARY KEY NOT NULL,
  secret_access_key TEXT NOT NULL,
  account_id TEXT NOT NULL REFERENCES accounts(account_id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX credentials_account ON credentials(account_id);

CREATE TABLE key_pairs (
  key_pair_id TEXT PRIMARY KEY NOT NULL,
  owner_id TEXT NOT NULL REFERENCES accounts(account_id),
  key_name TEXT NOT NULL CHECK (key_name <> ''),
  key_type TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  public_key TEXT NOT NULL,
  created TEXT NOT NULL,
  UNIQUE (owner_id, key_name)
) WITHOUT ROWID;

CREATE TABLE snapshots (
  snapshot_id TEXT PRIMARY KEY NOT NULL,
  owner_id TEXT NOT NULL REFERENCES accounts(account_id),
  volume_id TEXT NOT NULL,
  volume_size INTEGER NOT NULL CHECK (volume_size >= 0),
  state TEXT NOT NULL CHECK (state IN ('pending', 'completed', 'error')),
  progress INTEGER NOT NULL CHECK (progress BETWEEN 0 AND 100),
  description TEXT NOT NULL,
  start_time TEXT NOT NULL,
  encrypted INTEGER NOT NULL CHECK (encrypted IN (0, 1)),
  kms_key_id TEXT NOT NULL,
  state_message TEXT NOT NULL,
  storage_key TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX snapshots_owner ON snapshots(owner_id, snapshot_id);

CREATE TABLE create_volume_permissions (
  snapshot_id TEXT NOT NULL REFERENCES snapshots(snapshot_id) ON DELETE CASCADE,
  grantee TEXT NOT NULL
    CHECK (grantee = 'all' OR (length(grantee) = 12 AND grantee NOT GLOB '*[^0-9]*')),
  PRIMARY KEY (snapshot_id, grantee)
) WITHOUT ROWID;
CREATE INDEX create_volume_permissions_grantee ON create_volume_permissions(grantee, snapshot_id);

CREATE TABLE images (
  image_id TEXT PRIMARY KEY NOT NULL,
  owner_id TEXT NOT NULL REFERENCES accounts(account_id),
  name TEXT NOT NULL CHECK (name <> ''),
  description TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'available', 'failed', 'deregistered')),
  state_reason_code TEXT NOT NULL,
  state_reason_message TEXT NOT NULL,
  architecture TEXT NOT NULL,
  root_device_name TEXT NOT NULL,
  root_device_type TEXT NOT NULL,
  virtualization_type TEXT NOT NULL,
  image_type TEXT NOT NULL,
  platform TEXT NOT NULL,
  source_instance_id TEXT NOT NULL,
  creation_date TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX images_owner ON images(owner_id, image_id);
CREATE UNIQUE INDEX images_owner_name ON images(owner_id, name) WHERE state <> 'deregistered';

CREATE TABLE block_device_mappings (
  image_id TEXT NOT NULL REFERENCES images(image_id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  device_name TEXT NOT NULL CHECK (device_name <> ''),
  snapshot_id TEXT REFERENCES snapshots(snapshot_id) ON DELETE SET NULL,
  volume_size INTEGER NOT NULL CHECK (volume_size >= 0),
  volume_type TEXT NOT NULL,
  iops INTEGER NOT NULL,
  delete_on_termination INTEGER NOT NULL CHECK (delete_on_termination IN (0, 1)),
  encrypted INTEGER NOT NULL CHECK (encrypted IN (0, 1)),
  kms_key_id TEXT NOT NULL,
  no_device INTEGER NOT NULL CHECK (no_device IN (0, 1)),
  virtual_name TEXT NOT NULL,
  PRIMARY KEY (image_id, position),
  UNIQUE (image_id, device_name)
) WITHOUT ROWID;
CREATE INDEX block_device_mappings_snapshot ON block_device_mappings(snapshot_id)
  WHERE snapshot_id IS NOT NULL;

CREATE TABLE launch_permissions (
  image_id TEXT NOT NULL REFERENCES images(image_id) ON DELETE CASCADE,
  grantee TEXT NOT NULL
    CHECK (grantee = 'all' OR (length(grantee) = 12 AND grantee NOT GLOB '*[^0-9]*')),
  PRIMARY KEY (image_id, grantee)
) WITHOUT ROWID;
CREATE INDEX launch_permissions_grantee ON launch_permissions(grantee, image_id);

CREATE TABLE volumes (
  volume_id TEXT PRIMARY KEY NOT NULL,
  owner_id TEXT NOT NULL REFERENCES accounts(account_id),
  size INTEGER NOT NULL CHECK (size >= 0),
  snapshot_id TEXT NOT NULL,
  availability_zone TEXT NOT NULL,
  state TEXT NOT NULL
    CHECK (state IN ('creating', 'available', 'in-use', 'deleting', 'deleted', 'error')),
  volume_type TEXT NOT NULL,
  iops INTEGER NOT NULL,
  encrypted INTEGER NOT NULL CHECK (encrypted IN (0, 1)),
  kms_key_id TEXT NOT NULL,
  create_time TEXT NOT NULL,
  storage_dir TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX volumes_owner ON volumes(owner_id, volume_id);

CREATE TABLE reservations (
  reservation_id TEXT PRIMARY KEY NOT NULL,
  owner_id TEXT NOT NULL REFERENCES accounts(account_id),
  client_token TEXT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX reservations_client_token ON reservations(owner_id, client_token)
  WHERE client_token <> '';

CREATE TABLE instances (
  instance_id TEXT PRIMARY KEY NOT NULL,
  owner_id TEXT NOT NULL REFERENCES accounts(account_id),
  reservation_id TEXT NOT NULL REFERENCES reservations(reservation_id),
  image_id TEXT NOT NULL,
  instance_type TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN
    ('pending', 'running', 'shutting-down', 'terminated', 'stopping', 'stopped')),
  state_reason_code TEXT NOT NULL,
  state_reason_message TEXT NOT NULL,
  state_transition_reason TEXT NOT NULL,
  launch_time TEXT NOT NULL,
  user_data BLOB NOT NULL,
  key_name TEXT NOT NULL,
  availability_zone TEXT NOT NULL,
  root_device_name TEXT NOT NULL,
  root_device_type TEXT NOT NULL,
  ami_launch_index INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX instances_owner ON instances(owner_id, instance_id);
CREATE INDEX instances_reservation ON instances(reservation_id, ami_launch_index);

CREATE TABLE instance_store_disks (
  instance_id TEXT NOT NULL REFERENCES instances(instance_id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  device TEXT NOT NULL CHECK (device <> ''),
  size_gb INTEGER NOT NULL CHECK (size_gb >= 0),
  virtual_name TEXT NOT NULL,
  PRIMARY KEY (instance_id, position),
  UNIQUE (instance_id, device)
) WITHOUT ROWID;

CREATE TABLE attachments (
  volume_id TEXT PRIMARY KEY NOT NULL REFERENCES volumes(volume_id),
  instance_id TEXT NOT NULL REFERENCES instances(instance_id),
  device TEXT NOT NULL CHECK (device <> ''),
  state TEXT NOT NULL CHECK (state IN ('attaching', 'attached', 'detaching', 'detached')),
  attach_time TEXT NOT NULL,
  delete_on_termination INTEGER NOT NULL CHECK (delete_on_termination IN (0, 1))
) WITHOUT ROWID;
CREATE INDEX attachments_instance ON attachments(instance_id, device);
CREATE UNIQUE INDEX attachments_device ON attachments(instance_id, device)
  WHERE state <> 'detached';

CREATE TABLE tags (
  resource_id TEXT NOT NULL CHECK (resource_id <> ''),
  key TEXT NOT NULL CHECK (key <> ''),
  value TEXT NOT NULL,
  PRIMARY KEY (resource_id, key)
) WITHOUT ROWID;

CREATE TABLE jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind <> ''),
  resource_id TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL CHECK (attempts >= 0),
  error TEXT NOT NULL,
  created_micros INTEGER NOT NULL,
  updated_micros INTEGER NOT NULL
);
CREATE INDEX jobs_state ON jobs(state, seq);
CREATE INDEX jobs_resource ON jobs(resource_id, seq);
)sql";

// Version 2: networking. VPCs, subnets and security groups with their rules, and which groups
// an instance is in; an instance's VPC, subnet and shutdown behaviour. Instances made before
// it have none (empty text).
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE vpcs (
  vpc_id TEXT PRIMARY KEY NOT NULL,
  owner_id TEXT NOT NULL REFERENCES accounts(account_id),
  cidr_block TEXT NOT NULL CHECK (cidr_block <> ''),
  cidr_association_id TEXT NOT NULL,
  dhcp_options_id TEXT NOT NULL,
  is_default INTEGER NOT NULL CHECK (is_default IN (0, 1)),
  state TEXT NOT NULL CHECK (state IN ('pending', 'available'))
) WITHOUT ROWID;
CREATE INDEX vpcs_owner ON vpcs(owner_id, vpc_id);
CREATE UNIQUE INDEX vpcs_default ON vpcs(owner_id) WHERE is_default = 1;

CREATE TABLE subnets (
  subnet_id TEXT PRIMARY KEY NOT NULL,
  owner_id TEXT NOT NULL REFERENCES accounts(account_id),
  vpc_id TEXT NOT NULL REFERENCES vpcs(vpc_id),
  cidr_block TEXT NOT NULL CHECK (cidr_block <> ''),
  availability_zone TEXT NOT NULL CHECK (availability_zone <> ''),
  availability_zone_id TEXT NOT NULL,
  default_for_az INTEGER NOT NULL CHECK (default_for_az IN (0, 1)),
  map_public_ip_on_launch INTEGER NOT NULL CHECK (map_public_ip_on_launch IN (0, 1)),
  state TEXT NOT NULL CHECK (state IN ('pending', 'available'))
) WITHOUT ROWID;
CREATE INDEX subnets_owner ON subnets(owner_id, subnet_id);
CREATE INDEX subnets_vpc ON subnets(vpc_id);
CREATE UNIQUE INDEX subnets_default_for_az ON subnets(vpc_id, availability_zone)
  WHERE default_for_az = 1;

CREATE TABLE security_groups (
  group_id TEXT PRIMARY KEY NOT NULL,
  owner_id TEXT NOT NULL REFERENCES accounts(account_id),
  vpc_id TEXT NOT NULL REFERENCES vpcs(vpc_id),
  group_name TEXT NOT NULL CHECK (group_name <> ''),
  description TEXT NOT NULL,
  UNIQUE (vpc_id, group_name)
) WITHOUT ROWID;
CREATE INDEX security_groups_owner ON security_groups(owner_id, group_id);

CREATE TABLE security_group_rules (
  rule_id TEXT PRIMARY KEY NOT NULL,
  group_id TEXT NOT NULL REFERENCES security_groups(group_id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  is_egress INTEGER NOT NULL CHECK (is_egress IN (0, 1)),
  ip_protocol TEXT NOT NULL CHECK (ip_protocol <> ''),
  from_port INTEGER NOT NULL,
  to_port INTEGER NOT NULL,
  cidr_ipv4 TEXT NOT NULL,
  referenced_group_id TEXT NOT NULL,
  referenced_user_id TEXT NOT NULL,
  description TEXT NOT NULL,
  CHECK ((cidr_ipv4 = '') <> (referenced_group_id = ''))
) WITHOUT ROWID;
CREATE UNIQUE INDEX security_group_rules_permission ON security_group_rules
  (group_id, is_egress, ip_protocol, from_port, to_port, cidr_ipv4, referenced_group_id);
CREATE INDEX security_group_rules_group ON security_group_rules(group_id, position);
CREATE INDEX security_group_rules_referenced ON security_group_rules(referenced_group_id)
  WHERE referenced_group_id <> '';

CREATE TABLE instance_security_groups (
  instance_id TEXT NOT NULL REFERENCES instances(instance_id) ON DELETE CASCADE,
  group_id TEXT NOT NULL REFERENCES security_groups(group_id),
  position INTEGER NOT NULL,
  PRIMARY KEY (instance_id, group_id)
) WITHOUT ROWID;
CREATE INDEX instance_security_groups_group ON instance_security_groups(group_id);

ALTER TABLE instances ADD COLUMN vpc_id TEXT NOT NULL DEFAULT '';
ALTER TABLE instances ADD COLUMN subnet_id TEXT NOT NULL DEFAULT '';
ALTER TABLE instances ADD COLUMN shutdown_behavior TEXT NOT NULL DEFAULT ''
  CHECK (shutdown_behavior IN ('', 'stop', 'terminate'));
)sql";

// Version 3: each account's EBS encryption defaults (EnableEbsEncryptionByDefault,
// ModifyEbsDefaultKmsKeyId). An account without a row has EC2's defaults: encryption by default
// off, the default key alias/aws/ebs (kms_key_id '').
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE ebs_encryption_defaults (
  account_id TEXT PRIMARY KEY NOT NULL REFERENCES accounts(account_id),
  encrypted_by_default INTEGER NOT NULL CHECK (encrypted_by_default IN (0, 1)),
  kms_key_id TEXT NOT NULL
) WITHOUT ROWID;
)sql";

// Version 4: GetPasswordData's encrypted generated passwords, and volume initialization
// (hydration) records: the rate asked at creation (0: kiln's default) and whether it is done.
// Rows go with their instance or volume (launch_records_table.h).
constexpr const char* kSchemaV4 = R"sql(
CREATE TABLE password_data (
  instance_id TEXT PRIMARY KEY NOT NULL REFERENCES instances(instance_id) ON DELETE CASCADE,
  password_data TEXT NOT NULL CHECK (password_data <> ''),
  timestamp TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE volume_initialization (
  volume_id TEXT PRIMARY KEY NOT NULL REFERENCES volumes(volume_id) ON DELETE CASCADE,
  rate_mib_per_sec INTEGER NOT NULL CHECK (rate_mib_per_sec >= 0),
  initialized INTEGER NOT NULL CHECK (initialized IN (0, 1))
) WITHOUT ROWID;
)sql";

constexpr Migration kMigrations[] = {
    {1, "initial schema", kSchemaV1},
    {2, "networking", kSchemaV2},
    {3, "ebs encryption defaults", kSchemaV3},
    {4, "password data", kSchemaV4},
};

// Runs `f` in a write transaction of its own (the Db is not shared yet: no mutex needed).
template <typename F>
auto InTransaction(Db& db, F&& f) -> decltype(f()) {
  RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  auto result = f();
  if (StatusOf(result).ok()) {
    Status commit = db.Exec("COMMIT");
    if (commit.ok()) return result;
    db.Exec("ROLLBACK").IgnoreError();
    return commit;
  }
  db.Exec("ROLLBACK").IgnoreError();
  return result;
}

Result<int64_t> QueryInt(Db& db, const char* sql) {
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare(sql));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.Int(0) : 0;
}

// Refuses a file that some other program made: another application id, or tables without
// the migrations table.
Status CheckApplication(Db& db) {
  ASSIGN_OR_RETURN(int64_t id, QueryInt(db, "PRAGMA application_id"));
  if (id == kApplicationId) return Status::Ok();
  if (id != 0) {
    return FailedPreconditionError("not a kiln catalog (application_id " + std::to_string(id) +
                                   ")");
  }
  ASSIGN_OR_RETURN(int64_t tables, QueryInt(db,
                                            "SELECT count(*) FROM sqlite_schema WHERE type = "
                                            "'table' AND name <> 'schema_migrations'"));
  if (tables != 0) {
    return FailedPreconditionError("not a kiln catalog (a SQLite database with other tables)");
  }
  return Status::Ok();
}

// The version the file has, after checking the record against `migrations`.
Result<int> AppliedVersion(Db& db, std::span<const Migration> migrations) {
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare("SELECT version, name FROM schema_migrations "
                                         "ORDER BY version"));
  int version = 0;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return version;
    int64_t v = stmt.Int(0);
    if (v != version + 1) {
      return CorruptionError("schema_migrations skips from version " + std::to_string(version) +
                             " to " + std::to_string(v));
    }
    if (v > static_cast<int64_t>(migrations.size())) {
      return FailedPreconditionError(
          "the catalog has schema version " + std::to_string(v) + ", newer than this kiln knows (" +
          std::to_string(migrations.size()) + "): it was written by a newer kilnd");
    }
    if (stmt.Text(1) != migrations[v - 1].name) {
      return FailedPreconditionError("the catalog's schema version " + std::to_string(v) + " is '" +
                                     stmt.Text(1) + "', not '" + migrations[v - 1].name +
                                     "' as this kiln's");
    }
    version = static_cast<int>(v);
  }
}

// Applies `m` unless another process did meanwhile; inside the caller's transaction.
Status ApplyOne(Db& db, std::span<const Migration> migrations, const Migration& m) {
  ASSIGN_OR_RETURN(int version, AppliedVersion(db, migrations));
  if (version >= m.version) return Status::Ok();
  RETURN_IF_ERROR(db.Exec(m.sql).Annotate("migration " + std::to_string(m.version)));
  ASSIGN_OR_RETURN(Stmt record, db.Prepare("INSERT INTO schema_migrations "
                                           "(version, name, applied_micros) VALUES (?, ?, ?)"));
  return record.Bind(m.version, m.name, db.clock().WallMicros()).Run();
}

}  // namespace

std::span<const Migration> CatalogMigrations() { return kMigrations; }

Result<int> ApplyMigrations(Db& db, std::span<const Migration> migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i + 1)) {
      return InternalError("catalog migrations are not numbered 1..n");
    }
  }
  RETURN_IF_ERROR(CheckApplication(db));
  ASSIGN_OR_RETURN(int version, InTransaction(db, [&]() -> Result<int> {
                     RETURN_IF_ERROR(
                         db.Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                                 "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                                 "applied_micros INTEGER NOT NULL)"));
                     return AppliedVersion(db, migrations);
                   }));
  for (const Migration& m : migrations) {
    if (m.version <= version) continue;
    RETURN_IF_ERROR(InTransaction(db, [&] { return ApplyOne(db, migrations, m); }));
    version = m.version;
  }
  return version;
}

Result<std::unique_ptr<Catalog>> OpenCatalog(const std::string& path, Clock& clock,
                                             std::span<const Migration> migrations) {
  ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(path, clock));
  Result<int> version = ApplyMigrations(*db, migrations);
  if (!version.ok()) return version.status().Annotate("open catalog " + path);
  return std::make_unique<Catalog>(std::move(db), *version);
}

}  // namespace kiln::catalog_internal
