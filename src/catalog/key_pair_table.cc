#include "catalog/key_pair_table.h"

#include "catalog/db.h"
#include "catalog/table_util.h"

namespace kiln {

using catalog_internal::Db;
using catalog_internal::Stmt;
namespace ci = catalog_internal;

namespace {

constexpr char kKeyPairColumns[] =
    "key_pair_id, owner_id, key_name, key_type, fingerprint, public_key, created";
constexpr ci::ListSpec kKeyPairList = {"key_pairs", "key_pair_id", kKeyPairColumns, true, ""};

KeyPair ReadKeyPair(const Stmt& s) {
  return KeyPair{s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4), s.Text(5), s.Text(6)};
}

Result<KeyPair> GetOne(Db& db, const std::string& where, const std::string& a,
                       const std::string& b) {
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare(std::string("SELECT ") + kKeyPairColumns +
                                         " FROM key_pairs WHERE " + where));
  stmt.Bind(a);
  if (!b.empty()) stmt.Bind(b);
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return NotFoundError("no key pair");
  return ReadKeyPair(stmt);
}

Status InsertKeyPair(Db& db, const KeyPair& k) {
  Status s = ci::Change(db,
                        "INSERT INTO key_pairs (key_pair_id, owner_id, key_name, key_type, "
                        "fingerprint, public_key, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        k.key_pair_id, k.owner_id, k.key_name, k.key_type, k.fingerprint,
                        k.public_key, k.created)
                 .status();
  if (s.code() == Code::kAlreadyExists) {
    return AlreadyExistsError("The keypair " + k.key_name + " already exists (or key pair id " +
                              k.key_pair_id + " is taken)");
  }
  if (s.code() == Code::kFailedPrecondition) {
    return FailedPreconditionError("owner " + k.owner_id + " of key pair " + k.key_name +
                                   " does not exist");
  }
  return s;
}

}  // namespace

Status KeyPairTable::Insert(const KeyPair& key_pair) {
  RETURN_IF_ERROR(ci::CheckId("key", key_pair.key_pair_id, "key pair id"));
  RETURN_IF_ERROR(ci::CheckAccountId(key_pair.owner_id, "key pair owner"));
  if (key_pair.key_name.empty()) return InvalidArgumentError("a key pair needs a name");
  return ctx_.db->Write(ctx_, [&] { return InsertKeyPair(*ctx_.db, key_pair); });
}

Result<KeyPair> KeyPairTable::Get(const std::string& key_pair_id) {
  return ctx_.db->Read(ctx_, [&]() -> Result<KeyPair> {
    Result<KeyPair> found = GetOne(*ctx_.db, "key_pair_id = ?", key_pair_id, "");
    if (found.status().code() == Code::kNotFound) return ci::NotFoundFor("key pair", key_pair_id);
    return found;
  });
}

Result<KeyPair> KeyPairTable::FindByName(const std::string& owner_id, const std::string& key_name) {
  if (key_name.empty()) return NotFoundError("a key pair name is never empty");
  return ctx_.db->Read(ctx_, [&]() -> Result<KeyPair> {
    Result<KeyPair> found = GetOne(*ctx_.db, "owner_id = ? AND key_name = ?", owner_id, key_name);
    if (found.status().code() == Code::kNotFound) {
      return NotFoundError("The key pair '" + key_name + "' does not exist");
    }
    return found;
  });
}

Result<std::vector<KeyPair>> KeyPairTable::List(const ListQuery& query) {
  Db& db = *ctx_.db;
  return db.Read(ctx_, [&]() -> Result<std::vector<KeyPair>> {
    ASSIGN_OR_RETURN(Stmt stmt, ci::PrepareList(db, kKeyPairList, query));
    return ci::ReadAll<KeyPair>(stmt, ReadKeyPair);
  });
}

Status KeyPairTable::Delete(const std::string& key_pair_id) {
  Db& db = *ctx_.db;
  return db.Write(ctx_, [&]() -> Status {
    ASSIGN_OR_RETURN(int64_t changed,
                     ci::Change(db, "DELETE FROM key_pairs WHERE key_pair_id = ?", key_pair_id));
    if (changed == 0) return ci::NotFoundFor("key pair", key_pair_id);
    return ci::DeleteTagsOf(db, key_pair_id);
  });
}

}  // namespace kiln
