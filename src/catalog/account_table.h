// AccountTable: accounts and their access keys. Obtain it from Catalog or Transaction
// (catalog.h, which also states the errors and thread-safety all tables share).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "catalog/records.h"
#include "catalog/table_context.h"

namespace kiln {

// An account's EBS encryption settings (GetEbsEncryptionByDefault, GetEbsDefaultKmsKeyId).
struct EbsEncryptionDefaults {
  bool encrypted_by_default = false;  // EbsEncryptionByDefault: every new volume is encrypted
  std::string kms_key_id{};           // the default KMS key's ARN; "" = alias/aws/ebs
  bool operator==(const EbsEncryptionDefaults&) const = default;
};

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

  // The account's EBS encryption defaults; EC2's (off, alias/aws/ebs) until set. NotFound if
  // the account does not exist.
  Result<EbsEncryptionDefaults> GetEbsEncryptionDefaults(const std::string& account_id);
  // Turns encryption by default on or off, keeping the default key. NotFound for no account.
  Status SetEbsEncryptionByDefault(const std::string& account_id, bool enabled);
  // Sets the default KMS key (its ARN; "" goes back to alias/aws/ebs), keeping the on/off
  // setting. The caller has checked that the key exists. NotFound for no account.
  Status SetEbsDefaultKmsKeyId(const std::string& account_id, const std::string& kms_key_arn);

 private:
  TableContext ctx_;
};

}  // namespace kiln
