// KeyPairTable: key pairs (public keys only; kiln never stores a private key). Obtain it from
// Catalog or Transaction (catalog.h states the errors and thread-safety all tables share).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "catalog/records.h"
#include "catalog/table_context.h"

namespace kiln {

class KeyPairTable {
 public:
  explicit KeyPairTable(TableContext ctx) : ctx_(ctx) {}

  // Adds a key pair. InvalidArgument for a malformed id or owner or an empty name;
  // AlreadyExists if the id is taken or the owner has a key pair of this name (the API's
  // InvalidKeyPair.Duplicate); FailedPrecondition if the owner does not exist.
  Status Insert(const KeyPair& key_pair);
  // NotFound if there is no such key pair.
  Result<KeyPair> Get(const std::string& key_pair_id);
  // The owner's key pair of this name; NotFound if none.
  Result<KeyPair> FindByName(const std::string& owner_id, const std::string& key_name);
  // Key pairs by id, filtered as `query` says (visible_to: InvalidArgument).
  Result<std::vector<KeyPair>> List(const ListQuery& query);
  // Removes the key pair and its tags; NotFound if absent.
  Status Delete(const std::string& key_pair_id);

 private:
  TableContext ctx_;
};

}  // namespace kiln
