// The key pair actions: CreateKeyPair, ImportKeyPair, DescribeKeyPairs, DeleteKeyPair, with
// EC2's parameters, errors and response shapes (botocore's 2016-11-15 model).
//
//   CreateKeyPair   KeyName*, KeyType (rsa | ed25519, default rsa), KeyFormat (pem; ppk is
//                   InvalidParameterValue: not supported), TagSpecification.N (key-pair only).
//                   Makes the key (ssh_keys.h), stores only its public half, and returns the
//                   private key once as keyMaterial.
//   ImportKeyPair   KeyName*, PublicKeyMaterial* (base64 of one OpenSSH public key line, as
//                   botocore sends a blob), TagSpecification.N. Bad material: InvalidKey.Format.
//   DescribeKeyPairs KeyName.N, KeyPairId.N, IncludePublicKey, Filter.N (key-pair-id, key-name,
//                   fingerprint, key-type, tag:KEY, tag-key, tag-value; `*` `?` wildcards). A
//                   listed name or id the caller has no key pair of: InvalidKeyPair.NotFound.
//   DeleteKeyPair   KeyName or KeyPairId (one is required: MissingParameter). Deleting a key
//                   pair that does not exist succeeds, as EC2 does. Answers <return>true</return>
//                   and the deleted key pair's id.
//
// Key names: 1..255 ASCII characters (MissingParameter when absent, InvalidParameterValue
// otherwise), unique per account (InvalidKeyPair.Duplicate). Each account sees and deletes only
// its own key pairs; another account's key pair is absent to it.
//
// The returned handlers use `catalog` and `clock` (CreateTime stamps), which must outlive them.
// Thread-safety: handlers may run concurrently (the catalog serializes them).
#pragma once

#include <vector>

#include "api/action.h"
#include "catalog/catalog.h"
#include "env/clock.h"

namespace kiln {

std::vector<Action> KeyPairActions(Catalog& catalog, Clock& clock = SystemClock());

}  // namespace kiln
