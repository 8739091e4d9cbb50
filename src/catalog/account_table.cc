#include "catalog/account_table.h"

#include "catalog/db.h"
#include "catalog/table_util.h"

namespace kiln {

using catalog_internal::Db;
using catalog_internal::Stmt;
namespace ci = catalog_internal;

namespace {

constexpr char kAccountColumns[] = "account_id, name, alias, created";
constexpr ci::ListSpec kAccountList = {"accounts", "account_id", kAccountColumns, false, ""};

Account ReadAccount(const Stmt& s) { return {s.Text(0), s.Text(1), s.Text(2), s.Text(3)}; }
Credential ReadCredential(const Stmt& s) { return {s.Text(0), s.Text(1), s.Text(2)}; }

Result<Account> GetAccountBy(Db& db, const char* column, const std::string& value) {
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare(std::string("SELECT ") + kAccountColumns +
                                         " FROM accounts WHERE " + column + " = ?"));
  ASSIGN_OR_RETURN(bool row, stmt.Bind(value).Step());
  if (!row) return NotFoundError(std::string("no account with ") + column + " '" + value + "'");
  return ReadAccount(stmt);
}

bool IsAccessKeyId(const std::string& id) {
  if (id.size() != 20 || id.compare(0, 4, "AKIA") != 0) return false;
  for (char c : id) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

// The row's columns for `account_id`: the settings with one of them changed by the caller.
Status WriteEbsDefaults(Db& db, const std::string& account_id, const EbsEncryptionDefaults& d) {
  return ci::Change(db,
                    "INSERT INTO ebs_encryption_defaults "
                    "(account_id, encrypted_by_default, kms_key_id) VALUES (?, ?, ?) "
                    "ON CONFLICT (account_id) DO UPDATE SET "
                    "encrypted_by_default = excluded.encrypted_by_default, "
                    "kms_key_id = excluded.kms_key_id",
                    account_id, d.encrypted_by_default, d.kms_key_id)
      .status();
}

Result<EbsEncryptionDefaults> ReadEbsDefaults(Db& db, const std::string& account_id) {
  ASSIGN_OR_RETURN(bool exists,
                   ci::Exists(db, "SELECT 1 FROM accounts WHERE account_id = ?", account_id));
  if (!exists) return ci::NotFoundFor("account", account_id);
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare("SELECT encrypted_by_default, kms_key_id "
                                         "FROM ebs_encryption_defaults WHERE account_id = ?"));
  ASSIGN_OR_RETURN(bool row, stmt.Bind(account_id).Step());
  if (!row) return EbsEncryptionDefaults{};
  return EbsEncryptionDefaults{stmt.Bool(0), stmt.Text(1)};
}

// Reads the settings, lets `change` edit them, and writes them back, in one write.
template <typename F>
Status UpdateEbsDefaults(TableContext ctx, const std::string& account_id, F change) {
  Db& db = *ctx.db;
  return db.Write(ctx, [&]() -> Status {
    ASSIGN_OR_RETURN(EbsEncryptionDefaults d, ReadEbsDefaults(db, account_id));
    change(d);
    return WriteEbsDefaults(db, account_id, d);
  });
}

}  // namespace

Status AccountTable::Insert(const Account& account) {
  RETURN_IF_ERROR(ci::CheckAccountId(account.account_id, "account id"));
  if (account.name.empty()) return InvalidArgumentError("an account needs a name");
  Db& db = *ctx_.db;
  return db.Write(ctx_, [&]() -> Status {
    Status s = ci::Change(db,
                          "INSERT INTO accounts (account_id, name, alias, created) "
                          "VALUES (?, ?, ?, ?)",
                          account.account_id, account.name, account.alias, account.created)
                   .status();
    if (s.code() != Code::kAlreadyExists) return s;
    return AlreadyExistsError("account " + account.account_id + " (name '" + account.name +
                              "', alias '" + account.alias + "'): the id, name or alias is taken");
  });
}

Result<Account> AccountTable::Get(const std::string& account_id) {
  return ctx_.db->Read(ctx_, [&] { return GetAccountBy(*ctx_.db, "account_id", account_id); });
}

Result<Account> AccountTable::FindByName(const std::string& name) {
  return ctx_.db->Read(ctx_, [&] { return GetAccountBy(*ctx_.db, "name", name); });
}

Result<Account> AccountTable::FindByAlias(const std::string& alias) {
  if (alias.empty()) return NotFoundError("no account has an empty alias");
  return ctx_.db->Read(ctx_, [&] { return GetAccountBy(*ctx_.db, "alias", alias); });
}

Result<std::vector<Account>> AccountTable::List(const ListQuery& query) {
  Db& db = *ctx_.db;
  return db.Read(ctx_, [&]() -> Result<std::vector<Account>> {
    ASSIGN_OR_RETURN(Stmt stmt, ci::PrepareList(db, kAccountList, query));
    return ci::ReadAll<Account>(stmt, ReadAccount);
  });
}

Status AccountTable::InsertCredential(const Credential& credential) {
  if (!IsAccessKeyId(credential.access_key_id)) {
    return InvalidArgumentError("access key id '" + credential.access_key_id +
                                "' is not AKIA + 16 of [A-Z0-9]");
  }
  if (credential.secret_access_key.size() != 40) {
    return InvalidArgumentError("a secret access key has 40 characters");
  }
  Db& db = *ctx_.db;
  return db.Write(ctx_, [&]() -> Status {
    return ci::Change(db,
                      "INSERT INTO credentials (access_key_id, secret_access_key, account_id) "
                      "VALUES (?, ?, ?)",
                      credential.access_key_id, credential.secret_access_key, credential.account_id)
        .status()
        .Annotate("insert credential " + credential.access_key_id + " of account " +
                  credential.account_id);
  });
}

Result<Credential> AccountTable::GetCredential(const std::string& access_key_id) {
  Db& db = *ctx_.db;
  return db.Read(ctx_, [&]() -> Result<Credential> {
    ASSIGN_OR_RETURN(Stmt stmt, db.Prepare("SELECT access_key_id, secret_access_key, account_id "
                                           "FROM credentials WHERE access_key_id = ?"));
    ASSIGN_OR_RETURN(bool row, stmt.Bind(access_key_id).Step());
    if (!row) return ci::NotFoundFor("access key", access_key_id);
    return ReadCredential(stmt);
  });
}

Result<std::vector<Credential>> AccountTable::ListCredentials(const std::string& account_id) {
  Db& db = *ctx_.db;
  return db.Read(ctx_, [&]() -> Result<std::vector<Credential>> {
    ASSIGN_OR_RETURN(Stmt stmt, db.Prepare("SELECT access_key_id, secret_access_key, account_id "
                                           "FROM credentials WHERE account_id = ? "
                                           "ORDER BY access_key_id"));
    stmt.Bind(account_id);
    return ci::ReadAll<Credential>(stmt, ReadCredential);
  });
}

Result<EbsEncryptionDefaults> AccountTable::GetEbsEncryptionDefaults(
    const std::string& account_id) {
  return ctx_.db->Read(ctx_, [&] { return ReadEbsDefaults(*ctx_.db, account_id); });
}

Status AccountTable::SetEbsEncryptionByDefault(const std::string& account_id, bool enabled) {
  return UpdateEbsDefaults(ctx_, account_id,
                           [&](EbsEncryptionDefaults& d) { d.encrypted_by_default = enabled; });
}

Status AccountTable::SetEbsDefaultKmsKeyId(const std::string& account_id,
                                           const std::string& kms_key_arn) {
  return UpdateEbsDefaults(ctx_, account_id,
                           [&](EbsEncryptionDefaults& d) { d.kms_key_id = kms_key_arn; });
}

}  // namespace kiln
