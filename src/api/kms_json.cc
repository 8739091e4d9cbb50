#include "api/kms_json.h"

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>

namespace kiln {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

Status KmsFail(const char* type, std::string message) {
  return InvalidArgumentError(std::move(message)).WithEc2Code(type);
}

Status SerializationFail(std::string message) {
  return KmsFail("SerializationException", std::move(message));
}

// AWS's wording for a broken model constraint; `member` in lowerCamelCase as AWS names it.
Status ConstraintFail(std::string_view value, std::string_view member,
                      std::string_view constraint) {
  return KmsFail("ValidationException", "1 validation error detected: Value " + std::string(value) +
                                            " at '" + std::string(member) +
                                            "' failed to satisfy constraint: Member must " +
                                            std::string(constraint));
}

// The deepest nesting of arrays and objects, counted outside strings. nlohmann's parser does
// not recurse, but a cap keeps hostile bodies cheap and KMS's deepest request (CreateKey's
// Tags) is three levels.
int MaxDepth(std::string_view body) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

Result<Json> ParseObject(std::string_view body) {
  if (body.empty()) return Json::object();
  if (MaxDepth(body) > kMaxJsonDepth) return SerializationFail("The request body nests too deeply");
  Json doc = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return SerializationFail("The request body is not valid JSON");
  if (!doc.is_object()) return SerializationFail("The request body must be a JSON object");
  return doc;
}

// Typed reads of a request's members; absent and null members read as absent.
class Members {
 public:
  explicit Members(const Json& object) : object_(object) {}

  const Json* Find(const char* name) const {
    auto it = object_.find(name);
    return it == object_.end() || it->is_null() ? nullptr : &*it;
  }

  Result<std::optional<std::string>> String(const char* name) const {
    const Json* v = Find(name);
    if (!v) return std::optional<std::string>();
    if (!v->is_string()) return WrongType(name, "a string");
    return std::optional<std::string>(v->get_ref<const std::string&>());
  }

  Result<std::string> RequiredString(const char* name, std::string_view member) const {
    ASSIGN_OR_RETURN(std::optional<std::string> v, String(name));
    if (!v) return ConstraintFail("null", member, "not be null");
    return std::move(*v);
  }

  Result<std::optional<int64_t>> Integer(const char* name) const {
    const Json* v = Find(name);
    if (!v) return std::optional<int64_t>();
    if (v->is_number_unsigned()) {
      const uint64_t u = v->get<uint64_t>();
      return std::optional<int64_t>(u > INT64_MAX ? INT64_MAX : static_cast<int64_t>(u));
    }
    if (!v->is_number_integer()) return WrongType(name, "an integer");
    return std::optional<int64_t>(v->get<int64_t>());
  }

  Result<std::optional<bool>> Boolean(const char* name) const {
    const Json* v = Find(name);
    if (!v) return std::optional<bool>();
    if (!v->is_boolean()) return WrongType(name, "a boolean");
    return std::optional<bool>(v->get<bool>());
  }

  // The number of elements of a list member (0 when absent).
  Result<size_t> ListSize(const char* name) const {
    const Json* v = Find(name);
    if (!v) return size_t{0};
    if (!v->is_array()) return WrongType(name, "a list");
    return v->size();
  }

 private:
  static Status WrongType(const char* name, const char* expected) {
    return SerializationFail(std::string("Member ") + name + " must be " + expected);
  }

  const Json& object_;
};

// Counts code points of a MarkerType ([\u0020-\u00FF]*); -1 if a character is outside it.
int64_t MarkerLength(std::string_view s) {
  int64_t n = 0;
  for (size_t i = 0; i < s.size(); ++n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x80) {
      ++i;
    } else if ((c == 0xC2 || c == 0xC3) && i + 1 < s.size() &&
               (static_cast<unsigned char>(s[i + 1]) & 0xC0) == 0x80) {
      i += 2;
    } else {
      return -1;
    }
  }
  return n;
}

Status ReadPaging(const Members& m, int& limit, std::optional<std::string>& marker) {
  ASSIGN_OR_RETURN(std::optional<int64_t> l, m.Integer("Limit"));
  if (l) {
    const std::string shown = "'" + std::to_string(*l) + "'";
    if (*l < 1) return ConstraintFail(shown, "limit", "have value greater than or equal to 1");
    if (*l > 1000) return ConstraintFail(shown, "limit", "have value less than or equal to 1000");
    limit = static_cast<int>(*l);
  }
  ASSIGN_OR_RETURN(marker, m.String("Marker"));
  if (marker) {
    const int64_t n = MarkerLength(*marker);
    if (n < 0) {
      return ConstraintFail("'" + *marker + "'", "marker",
                            "satisfy regular expression pattern: [\\u0020-\\u00FF]*");
    }
    if (n < 1) return ConstraintFail("''", "marker", "have length greater than or equal to 1");
    if (n > 1024) {
      return ConstraintFail("'" + *marker + "'", "marker",
                            "have length less than or equal to 1024");
    }
  }
  return Status::Ok();
}

// An enum member of CreateKey: absent or `supported` is fine; another value of the model's
// `known` set is a key kiln does not make; anything else breaks the model.
template <size_t N>
Status CheckEnum(const Members& m, const char* name, std::string_view member,
                 std::string_view supported, const std::array<std::string_view, N>& known) {
  ASSIGN_OR_RETURN(std::optional<std::string> v, m.String(name));
  if (!v || *v == supported) return Status::Ok();
  std::string set;
  for (std::string_view k : known) {
    if (k == *v) {
      return KmsFail("UnsupportedOperationException", std::string(name) + " " + *v +
                                                          " is not supported: kiln makes " +
                                                          std::string(supported) + " keys only");
    }
    set += (set.empty() ? "" : ", ") + std::string(k);
  }
  return ConstraintFail("'" + *v + "'", member, "satisfy enum value set: [" + set + "]");
}

constexpr std::array<std::string_view, 4> kKeyUsages = {"SIGN_VERIFY", "ENCRYPT_DECRYPT",
                                                        "GENERATE_VERIFY_MAC", "KEY_AGREEMENT"};
constexpr std::array<std::string_view, 17> kKeySpecs = {"RSA_2048",
                                                        "RSA_3072",
                                                        "RSA_4096",
                                                        "ECC_NIST_P256",
                                                        "ECC_NIST_P384",
                                                        "ECC_NIST_P521",
                                                        "ECC_SECG_P256K1",
                                                        "SYMMETRIC_DEFAULT",
                                                        "HMAC_224",
                                                        "HMAC_256",
                                                        "HMAC_384",
                                                        "HMAC_512",
                                                        "SM2",
                                                        "ML_DSA_44",
                                                        "ML_DSA_65",
                                                        "ML_DSA_87",
                                                        "ECC_NIST_EDWARDS25519"};
constexpr std::array<std::string_view, 4> kOrigins = {"AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM",
                                                      "EXTERNAL_KEY_STORE"};

Status Unsupported(const char* what) {
  return KmsFail("UnsupportedOperationException", std::string(what) + " is not supported by kiln");
}

Result<KmsRequest> ParseCreateKey(const Members& m) {
  KmsCreateKey r;
  ASSIGN_OR_RETURN(std::optional<std::string> description, m.String("Description"));
  r.description = description.value_or("");
  ASSIGN_OR_RETURN(std::optional<std::string> policy, m.String("Policy"));
  if (policy && policy->empty()) {
    return ConstraintFail("''", "policy", "have length greater than or equal to 1");
  }
  RETURN_IF_ERROR(CheckEnum(m, "KeyUsage", "keyUsage", kKeyUsageEncryptDecrypt, kKeyUsages));
  RETURN_IF_ERROR(CheckEnum(m, "KeySpec", "keySpec", kKeySpecSymmetricDefault, kKeySpecs));
  RETURN_IF_ERROR(CheckEnum(m, "CustomerMasterKeySpec", "customerMasterKeySpec",
                            kKeySpecSymmetricDefault, kKeySpecs));
  RETURN_IF_ERROR(CheckEnum(m, "Origin", "origin", kOriginAwsKms, kOrigins));
  ASSIGN_OR_RETURN(std::optional<std::string> store, m.String("CustomKeyStoreId"));
  if (store) return Unsupported("A custom key store");
  ASSIGN_OR_RETURN(std::optional<std::string> xks, m.String("XksKeyId"));
  if (xks) return Unsupported("An external key store key");
  ASSIGN_OR_RETURN(std::optional<bool> multi_region, m.Boolean("MultiRegion"));
  if (multi_region.value_or(false)) return Unsupported("A multi-Region key");
  ASSIGN_OR_RETURN(std::optional<bool> bypass, m.Boolean("BypassPolicyLockoutSafetyCheck"));
  (void)bypass;  // no key policies, so no lockout to guard against
  ASSIGN_OR_RETURN(size_t tags, m.ListSize("Tags"));
  if (tags > 0) return Unsupported("Tagging a KMS key");
  return KmsRequest(std::move(r));
}

Result<KmsRequest> ParseDescribeKey(const Members& m) {
  KmsDescribeKey r;
  ASSIGN_OR_RETURN(r.key_id, m.RequiredString("KeyId", "keyId"));
  // Grant tokens only matter for grants, which kiln does not have.
  ASSIGN_OR_RETURN(size_t grant_tokens, m.ListSize("GrantTokens"));
  if (grant_tokens > 10) {
    return ConstraintFail("'" + std::to_string(grant_tokens) + " tokens'", "grantTokens",
                          "have length less than or equal to 10");
  }
  return KmsRequest(std::move(r));
}

Result<KmsRequest> ParseListKeys(const Members& m) {
  KmsListKeys r;
  RETURN_IF_ERROR(ReadPaging(m, r.limit, r.marker));
  return KmsRequest(std::move(r));
}

Result<KmsRequest> ParseCreateAlias(const Members& m) {
  KmsCreateAlias r;
  ASSIGN_OR_RETURN(r.alias_name, m.RequiredString("AliasName", "aliasName"));
  ASSIGN_OR_RETURN(r.target_key_id, m.RequiredString("TargetKeyId", "targetKeyId"));
  return KmsRequest(std::move(r));
}

Result<KmsRequest> ParseListAliases(const Members& m) {
  KmsListAliases r;
  ASSIGN_OR_RETURN(r.key_id, m.String("KeyId"));
  RETURN_IF_ERROR(ReadPaging(m, r.limit, r.marker));
  return KmsRequest(std::move(r));
}

double EpochSeconds(uint64_t micros) { return static_cast<double>(micros) / 1e6; }

std::string Dump(const OrderedJson& j) {
  // Replace, not throw, should a string hold invalid UTF-8 (inputs were parsed as UTF-8, but a
  // stored description is only as good as the key file).
  return j.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

OrderedJson PageJson(const char* list_name, OrderedJson list,
                     const std::optional<std::string>& next_marker) {
  OrderedJson out;
  out[list_name] = std::move(list);
  if (next_marker) out["NextMarker"] = *next_marker;
  out["Truncated"] = next_marker.has_value();
  return out;
}

}  // namespace

const char* KmsOperationName(const KmsRequest& request) {
  static constexpr const char* kNames[] = {"CreateKey", "DescribeKey", "ListKeys", "CreateAlias",
                                           "ListAliases"};
  return kNames[request.index()];
}

Result<KmsRequest> ParseKmsRequest(std::string_view target, std::string_view body) {
  using Parser = Result<KmsRequest> (*)(const Members&);
  static constexpr std::pair<std::string_view, Parser> kOperations[] = {
      {"CreateKey", ParseCreateKey},
      {"DescribeKey", ParseDescribeKey},
      {"ListKeys", ParseListKeys},
      {"CreateAlias", ParseCreateAlias},
      {"ListAliases", ParseListAliases}};
  Parser parser = nullptr;
  if (target.starts_with(kKmsTargetPrefix)) {
    const std::string_view op = target.substr(kKmsTargetPrefix.size());
    for (const auto& [name, p] : kOperations) {
      if (name == op) parser = p;
    }
  }
  if (!parser) return KmsFail("UnknownOperationException", "Unknown operation");
  ASSIGN_OR_RETURN(Json doc, ParseObject(body));
  return parser(Members(doc));
}

std::string KeyMetadataResponseJson(const KeyMetadata& key) {
  OrderedJson m;
  m["AWSAccountId"] = key.account_id;
  m["KeyId"] = key.key_id;
  m["Arn"] = key.arn;
  m["CreationDate"] = EpochSeconds(key.creation_micros);
  m["Enabled"] = key.enabled();
  m["Description"] = key.description;
  m["KeyUsage"] = kKeyUsageEncryptDecrypt;
  m["KeyState"] = KeyStateName(key.state);
  m["Origin"] = kOriginAwsKms;
  m["KeyManager"] = KeyManagerName(key.key_manager);
  m["CustomerMasterKeySpec"] = kKeySpecSymmetricDefault;
  m["KeySpec"] = kKeySpecSymmetricDefault;
  m["EncryptionAlgorithms"] = OrderedJson::array({kEncryptionAlgorithmSymmetricDefault});
  m["MultiRegion"] = false;
  OrderedJson out;
  out["KeyMetadata"] = std::move(m);
  return Dump(out);
}

std::string ListKeysResponseJson(const std::vector<KeyListEntry>& keys,
                                 const std::optional<std::string>& next_marker) {
  OrderedJson list = OrderedJson::array();
  for (const KeyListEntry& k : keys) {
    OrderedJson e;
    e["KeyId"] = k.key_id;
    e["KeyArn"] = k.key_arn;
    list.push_back(std::move(e));
  }
  return Dump(PageJson("Keys", std::move(list), next_marker));
}

std::string ListAliasesResponseJson(const std::vector<AliasEntry>& aliases,
                                    const std::optional<std::string>& next_marker) {
  OrderedJson list = OrderedJson::array();
  for (const AliasEntry& a : aliases) {
    OrderedJson e;
    e["AliasName"] = a.alias_name;
    e["AliasArn"] = a.alias_arn;
    if (a.target_key_id) e["TargetKeyId"] = *a.target_key_id;
    if (a.creation_micros) {
      e["CreationDate"] = EpochSeconds(*a.creation_micros);
      e["LastUpdatedDate"] = EpochSeconds(*a.creation_micros);
    }
    list.push_back(std::move(e));
  }
  return Dump(PageJson("Aliases", std::move(list), next_marker));
}

std::string KmsErrorJson(std::string_view type, std::string_view message) {
  OrderedJson out;
  out["__type"] = std::string(type);
  out["message"] = std::string(message);
  return Dump(out);
}

}  // namespace kiln
