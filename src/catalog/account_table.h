// AccountTable: accounts and their access keys. Obtain it from Catalog or Transaction
// (catalog.h, which also states the errors and thread-safety all tables share).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "catalog/records.h"
#include "catalog/table_context.h"

namespace kiln {

class AccountTable {
 public:
  explicit AccountTable(TableContext ctx) : ctx_(ctx) {}

  // Adds an account. InvalidArgument unless account_id is 12 digits and name is non-empty;
  // AlreadyExists if the id, the name, or a non-empty alias is taken.
  Status Insert(const Account& account);
  // NotFound if there is no such account.
  Result<Account> Get(const std::string& account_id);
  // The account with this name / non-empty alias; NotFound if none.
  Result<Account> FindByName(const std::string& name);
  Result<Account> FindByAlias(const std::string& alias);
  // Accounts by id (owner_id and visible_to must be empty: InvalidArgument).
  Result<std::vector<Account>> List(const ListQuery& query);

  // Adds an access key for an existing account. InvalidArgument unless the key id is "AKIA" +
  // 16 of [A-Z0-9] and the secret 40 characters; AlreadyExists if the key id is taken;
  // FailedPrecondition if the account does not exist.
  Status InsertCredential(const Credential& credential);
  // The credential of an access key id (SigV4's lookup); NotFound if unknown.
  Result<Credential> GetCredential(const std::string& access_key_id);
  // The account's access keys, by key id.
  Result<std::vector<Credential>> ListCredentials(const std::string& account_id);

 private:
  TableContext ctx_;
};

}  // namespace kiln
