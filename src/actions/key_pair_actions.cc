#include "actions/key_pair_actions.h"

#include <algorithm>
#include <set>

#include "actions/action_common.h"
#include "actions/ssh_keys.h"
#include "actions/tag_specs.h"
#include "catalog/ids.h"
#include "crypto/base64.h"
#include "ec2/xml_writer.h"

namespace kiln {
namespace {

using actions::Ec2Error;
using actions::Filter;

Status KeyNotFound(const std::string& name) {
  return Ec2Error("InvalidKeyPair.NotFound", "The key pair '" + name + "' does not exist");
}

Result<std::string> KeyNameParam(const QueryParams& params) {
  ASSIGN_OR_RETURN(std::string name, actions::Required(params, "KeyName"));
  const bool ascii = std::all_of(name.begin(), name.end(),
                                 [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (name.size() > 255 || !ascii) {
    return Ec2Error("InvalidParameterValue",
                    "Value for parameter KeyName is invalid: a key name is 1 to 255 ASCII "
                    "characters");
  }
  return name;
}

// Stores the key pair and its tags together: a Duplicate leaves nothing behind.
Status InsertKeyPair(Catalog& catalog, const KeyPair& key, const std::vector<Tag>& tags) {
  ASSIGN_OR_RETURN(Transaction tx, catalog.Begin());
  Status inserted = tx.key_pairs().Insert(key);
  if (inserted.code() == Code::kAlreadyExists) {
    return Ec2Error("InvalidKeyPair.Duplicate",
                    "The keypair '" + key.key_name + "' already exists.");
  }
  RETURN_IF_ERROR(inserted);
  if (!tags.empty())
    RETURN_IF_ERROR(tx.tags().Set(key.key_pair_id, actions::TagsOn(tags, key.key_pair_id)));
  return tx.Commit();
}

Status CheckNameFree(Catalog& catalog, const Caller& caller, const std::string& name) {
  Result<KeyPair> existing = catalog.key_pairs().FindByName(caller.account_id, name);
  if (existing.ok()) {
    return Ec2Error("InvalidKeyPair.Duplicate", "The keypair '" + name + "' already exists.");
  }
  return existing.status().code() == Code::kNotFound ? Status::Ok() : existing.status();
}

Result<std::string> CreateKeyPair(Catalog& catalog, Clock& clock, const ActionRequest& req) {
  const QueryParams& p = req.params;
  ASSIGN_OR_RETURN(std::string name, KeyNameParam(p));
  const std::string key_type = p.Get("KeyType").value_or("rsa");
  if (key_type != "rsa" && key_type != "ed25519") {
    return Ec2Error(
        "InvalidParameterValue",
        "Value (" + key_type + ") for parameter KeyType is invalid. Expected: 'rsa' or 'ed25519'.");
  }
  const std::string key_format = p.Get("KeyFormat").value_or("pem");
  if (key_format != "pem") {
    return Ec2Error(
        "InvalidParameterValue",
        "Value (" + key_format + ") for parameter KeyFormat is invalid. kiln supports only 'pem'.");
  }
  ASSIGN_OR_RETURN(std::vector<Tag> tags, actions::TagsFor(p, "key-pair", {"key-pair"}));
  // Checked before generating: making an RSA key takes tens of milliseconds.
  RETURN_IF_ERROR(CheckNameFree(catalog, req.caller, name));
  ASSIGN_OR_RETURN(actions::GeneratedKeyPair made, actions::GenerateKeyPair(key_type));
  ASSIGN_OR_RETURN(std::string id, NewId("key"));
  const KeyPair key{.key_pair_id = id,
                    .owner_id = req.caller.account_id,
                    .key_name = name,
                    .key_type = key_type,
                    .fingerprint = made.fingerprint,
                    .public_key = made.public_key + " " + name,
                    .created = Ec2Timestamp(clock.WallMicros())};
  RETURN_IF_ERROR(InsertKeyPair(catalog, key, tags));
  XmlWriter w("CreateKeyPairResponse", req.request_id);
  w.Field("keyPairId", id).Field("keyName", name).Field("keyFingerprint", key.fingerprint);
  w.Field("keyMaterial", made.private_key);
  actions::WriteTagSet(w, tags);
  return std::move(w).Finish();
}

Result<std::string> ImportKeyPair(Catalog& catalog, Clock& clock, const ActionRequest& req) {
  const QueryParams& p = req.params;
  ASSIGN_OR_RETURN(std::string name, KeyNameParam(p));
  ASSIGN_OR_RETURN(std::string material, actions::Required(p, "PublicKeyMaterial"));
  ASSIGN_OR_RETURN(std::vector<Tag> tags, actions::TagsFor(p, "key-pair", {"key-pair"}));
  Result<Bytes> line = Base64Decode(material);
  if (!line.ok()) {
    return Ec2Error("InvalidKey.Format",
                    "Key is not in valid OpenSSH public key format (PublicKeyMaterial is not "
                    "base64)");
  }
  ASSIGN_OR_RETURN(actions::ImportedPublicKey key, actions::ParseOpenSshPublicKey(AsString(*line)));
  ASSIGN_OR_RETURN(std::string id, NewId("key"));
  const KeyPair record{.key_pair_id = id,
                       .owner_id = req.caller.account_id,
                       .key_name = name,
                       .key_type = key.key_type,
                       .fingerprint = key.fingerprint,
                       .public_key = key.public_key,
                       .created = Ec2Timestamp(clock.WallMicros())};
  RETURN_IF_ERROR(InsertKeyPair(catalog, record, tags));
  XmlWriter w("ImportKeyPairResponse", req.request_id);
  w.Field("keyFingerprint", record.fingerprint).Field("keyName", name).Field("keyPairId", id);
  actions::WriteTagSet(w, tags);
  return std::move(w).Finish();
}

// --- DescribeKeyPairs ---

bool MatchTagFilter(const Filter& f, const std::vector<Tag>& tags) {
  if (f.name == "tag-key") {
    return std::any_of(tags.begin(), tags.end(),
                       [&](const Tag& t) { return actions::MatchesAny(f.values, t.key); });
  }
  if (f.name == "tag-value") {
    return std::any_of(tags.begin(), tags.end(),
                       [&](const Tag& t) { return actions::MatchesAny(f.values, t.value); });
  }
  const std::string_view key = std::string_view(f.name).substr(4);  // "tag:KEY"
  return std::any_of(tags.begin(), tags.end(), [&](const Tag& t) {
    return t.key == key && actions::MatchesAny(f.values, t.value);
  });
}

bool MatchKeyPair(const KeyPair& k, const std::vector<Tag>& tags,
                  const std::vector<Filter>& filters) {
  for (const Filter& f : filters) {
    bool ok;
    if (f.name == "key-pair-id")
      ok = actions::MatchesAny(f.values, k.key_pair_id);
    else if (f.name == "key-name")
      ok = actions::MatchesAny(f.values, k.key_name);
    else if (f.name == "fingerprint")
      ok = actions::MatchesAny(f.values, k.fingerprint);
    else if (f.name == "key-type")
      ok = actions::MatchesAny(f.values, k.key_type);
    else
      ok = MatchTagFilter(f, tags);
    if (!ok) return false;
  }
  return true;
}

// The caller's key pairs that the KeyName.N / KeyPairId.N lists select (all when both are
// empty); InvalidKeyPair.NotFound for a listed one the caller does not have.
Result<std::vector<KeyPair>> SelectKeyPairs(Catalog& catalog, const Caller& caller,
                                            const QueryParams& p) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, p.List("KeyName"));
  ASSIGN_OR_RETURN(std::vector<std::string> ids, p.List("KeyPairId"));
  ASSIGN_OR_RETURN(std::vector<KeyPair> owned,
                   catalog.key_pairs().List(ListQuery{.owner_id = caller.account_id}));
  const std::set<std::string> name_set(names.begin(), names.end()), id_set(ids.begin(), ids.end());
  for (const std::string& name : names) {
    if (std::none_of(owned.begin(), owned.end(),
                     [&](const KeyPair& k) { return k.key_name == name; }))
      return KeyNotFound(name);
  }
  for (const std::string& id : ids) {
    if (std::none_of(owned.begin(), owned.end(),
                     [&](const KeyPair& k) { return k.key_pair_id == id; }))
      return Ec2Error("InvalidKeyPair.NotFound", "The key pair ID '" + id + "' does not exist");
  }
  if (names.empty() && ids.empty()) return owned;
  std::erase_if(owned, [&](const KeyPair& k) {
    return !name_set.contains(k.key_name) && !id_set.contains(k.key_pair_id);
  });
  return owned;
}

void WriteKeyPair(XmlWriter& w, const KeyPair& k, const std::vector<Tag>& tags, bool public_key) {
  w.Open("item");
  w.Field("keyPairId", k.key_pair_id).Field("keyName", k.key_name);
  w.Field("keyFingerprint", k.fingerprint).Field("keyType", k.key_type);
  actions::WriteTagSet(w, tags);
  if (public_key) w.Field("publicKey", k.public_key);
  w.FieldIfSet("createTime", k.created);
  w.Close();
}

Result<std::string> DescribeKeyPairs(Catalog& catalog, const ActionRequest& req) {
  const QueryParams& p = req.params;
  ASSIGN_OR_RETURN(bool include_public_key, actions::BoolParam(p, "IncludePublicKey", false));
  ASSIGN_OR_RETURN(std::vector<Filter> filters, actions::ParseFilters(p));
  RETURN_IF_ERROR(actions::CheckFilterNames(
      filters, {"key-pair-id", "key-name", "fingerprint", "key-type", "tag-key", "tag-value"},
      /*allow_tag_key=*/true));
  ASSIGN_OR_RETURN(std::vector<KeyPair> keys, SelectKeyPairs(catalog, req.caller, p));
  XmlWriter w("DescribeKeyPairsResponse", req.request_id);
  w.Open("keySet");
  for (const KeyPair& k : keys) {
    ASSIGN_OR_RETURN(std::vector<Tag> tags, catalog.tags().List(k.key_pair_id));
    if (MatchKeyPair(k, tags, filters)) WriteKeyPair(w, k, tags, include_public_key);
  }
  w.Close();
  return std::move(w).Finish();
}

// --- DeleteKeyPair ---

Result<std::string> DeleteKeyPair(Catalog& catalog, const ActionRequest& req) {
  const std::optional<std::string> name = req.params.Get("KeyName");
  const std::optional<std::string> id = req.params.Get("KeyPairId");
  if (!name && !id) {
    return Ec2Error("MissingParameter",
                    "The request must contain the parameter KeyName or KeyPairId");
  }
  if (id && !IsResourceId("key", *id)) {
    return Ec2Error("InvalidParameterValue", "Invalid id: \"" + *id + "\" (expecting \"key-...\")");
  }
  Result<KeyPair> found = id ? catalog.key_pairs().Get(*id)
                             : catalog.key_pairs().FindByName(req.caller.account_id, *name);
  const bool mine =
      found.ok() && found->owner_id == req.caller.account_id && (!name || found->key_name == *name);
  if (!found.ok() && found.status().code() != Code::kNotFound) return found.status();
  XmlWriter w("DeleteKeyPairResponse", req.request_id);
  w.Field("return", true);
  if (mine) {
    // A concurrent delete of the same key pair is not an error: it is gone either way.
    Status deleted = catalog.key_pairs().Delete(found->key_pair_id);
    if (!deleted.ok() && deleted.code() != Code::kNotFound) return deleted;
    w.Field("keyPairId", found->key_pair_id);
  }
  return std::move(w).Finish();
}

}  // namespace

std::vector<Action> KeyPairActions(Catalog& catalog, Clock& clock) {
  const std::vector<std::string> tag_specs = {"TagSpecification.N.ResourceType",
                                              "TagSpecification.N.Tag.N.Key",
                                              "TagSpecification.N.Tag.N.Value"};
  auto with_tags = [&](std::vector<std::string> params) {
    params.insert(params.end(), tag_specs.begin(), tag_specs.end());
    return params;
  };
  Catalog* c = &catalog;
  Clock* k = &clock;
  return {
      {"CreateKeyPair", with_tags({"KeyName", "KeyType", "KeyFormat"}),
       [c, k](const ActionRequest& r) { return CreateKeyPair(*c, *k, r); }},
      {"ImportKeyPair", with_tags({"KeyName", "PublicKeyMaterial"}),
       [c, k](const ActionRequest& r) { return ImportKeyPair(*c, *k, r); }},
      {"DescribeKeyPairs",
       {"KeyName.N", "KeyPairId.N", "IncludePublicKey", "Filter.N.Name", "Filter.N.Value.N"},
       [c](const ActionRequest& r) { return DescribeKeyPairs(*c, r); }},
      {"DeleteKeyPair",
       {"KeyName", "KeyPairId"},
       [c](const ActionRequest& r) { return DeleteKeyPair(*c, r); }},
  };
}

}  // namespace kiln
