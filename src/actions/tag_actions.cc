#include "actions/tag_actions.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <tuple>

#include "actions/action_common.h"
#include "actions/tag_specs.h"
#include "catalog/ids.h"
#include "ec2/xml_writer.h"

namespace kiln {
namespace {

using actions::Ec2Error;
using actions::Filter;

struct Taggable {
  std::string_view prefix;
  std::string_view resource_type;  // DescribeTags' resourceType
  std::string_view not_found_code;
};
constexpr Taggable kTaggables[] = {
    {"ami", "image", "InvalidAMIID.NotFound"},
    {"snap", "snapshot", "InvalidSnapshot.NotFound"},
    {"vol", "volume", "InvalidVolume.NotFound"},
    {"i", "instance", "InvalidInstanceID.NotFound"},
    {"key", "key-pair", "InvalidKeyPair.NotFound"},
};

const Taggable* KindOf(std::string_view id) {
  const size_t dash = id.find('-');
  if (dash == std::string_view::npos) return nullptr;
  for (const Taggable& t : kTaggables) {
    if (t.prefix == id.substr(0, dash) && IsResourceId(t.prefix, id)) return &t;
  }
  return nullptr;
}

// True if `account` owns the live resource `id` of kind `kind`; false if there is none or it is
// another account's (the two look the same to a caller).
template <typename Record>
Result<bool> OwnedRecord(Result<Record> r, const std::string& account) {
  if (!r.ok()) {
    if (r.status().code() == Code::kNotFound) return false;
    return r.status();
  }
  return r->owner_id == account;
}

Result<bool> Owns(const CatalogTables& t, const Taggable& kind, const std::string& id,
                  const std::string& account) {
  if (kind.prefix == "ami") {
    Result<Image> r = t.images().Get(id);
    if (r.ok() && r->state == ImageState::kDeregistered) return false;
    return OwnedRecord(std::move(r), account);
  }
  if (kind.prefix == "snap") return OwnedRecord(t.snapshots().Get(id), account);
  if (kind.prefix == "vol") {
    Result<EbsVolume> r = t.volumes().Get(id);
    if (r.ok() && r->state == VolumeState::kDeleted) return false;
    return OwnedRecord(std::move(r), account);
  }
  if (kind.prefix == "i") return OwnedRecord(t.instances().Get(id), account);
  return OwnedRecord(t.key_pairs().Get(id), account);
}

Status CheckOwned(const CatalogTables& t, const Caller& caller, const std::string& id) {
  const Taggable* kind = KindOf(id);
  if (kind == nullptr) return Ec2Error("InvalidID", "The ID '" + id + "' is not valid");
  ASSIGN_OR_RETURN(bool owned, Owns(t, *kind, id, caller.account_id));
  if (owned) return Status::Ok();
  return Ec2Error(kind->not_found_code,
                  "The " + std::string(kind->resource_type) + " ID '" + id + "' does not exist");
}

Result<std::vector<std::string>> ResourceIds(const QueryParams& p) {
  ASSIGN_OR_RETURN(std::vector<std::string> ids, p.List("ResourceId"));
  if (ids.empty()) {
    return Ec2Error("MissingParameter", "The request must contain the parameter ResourceId");
  }
  return ids;
}

std::string ReturnTrue(std::string_view action, std::string_view request_id) {
  XmlWriter w(std::string(action) + "Response", request_id);
  w.Field("return", true);
  return std::move(w).Finish();
}

// --- CreateTags ---

// The resource's tags after `adding` must stay within EC2's per-resource limit.
Status CheckLimit(Transaction& tx, const std::string& id, const std::vector<Tag>& adding) {
  ASSIGN_OR_RETURN(std::vector<Tag> existing, tx.tags().List(id));
  std::set<std::string> keys;
  for (const Tag& t : existing) keys.insert(t.key);
  for (const Tag& t : adding) keys.insert(t.key);
  if (keys.size() > actions::kMaxTagsPerResource) {
    return Ec2Error("TagLimitExceeded",
                    "The maximum number of tags per resource (50) is exceeded for " + id);
  }
  return Status::Ok();
}

Result<std::string> CreateTags(Catalog& catalog, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::vector<std::string> ids, ResourceIds(req.params));
  ASSIGN_OR_RETURN(std::vector<actions::TagParam> params,
                   actions::ParseTagParams(req.params, "Tag"));
  if (params.empty())
    return Ec2Error("MissingParameter", "The request must contain the parameter Tag");
  std::vector<Tag> tags;
  for (actions::TagParam& t : params)
    tags.push_back(Tag{.key = std::move(t.key), .value = std::move(t.value)});
  RETURN_IF_ERROR(actions::ValidateTags(tags));
  ASSIGN_OR_RETURN(Transaction tx, catalog.Begin());
  for (const std::string& id : ids) RETURN_IF_ERROR(CheckOwned(tx, req.caller, id));
  for (const std::string& id : ids) {
    RETURN_IF_ERROR(CheckLimit(tx, id, tags));
    RETURN_IF_ERROR(tx.tags().Set(id, actions::TagsOn(tags, id)));
  }
  RETURN_IF_ERROR(tx.Commit());
  return ReturnTrue("CreateTags", req.request_id);
}

// --- DeleteTags ---

Result<std::string> DeleteTags(Catalog& catalog, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::vector<std::string> ids, ResourceIds(req.params));
  ASSIGN_OR_RETURN(std::vector<actions::TagParam> tags, actions::ParseTagParams(req.params, "Tag"));
  for (const actions::TagParam& t : tags) {
    // Reuse the creation rules for the key alone (length, reserved prefix).
    RETURN_IF_ERROR(actions::ValidateTags({Tag{.key = t.key}}));
  }
  ASSIGN_OR_RETURN(Transaction tx, catalog.Begin());
  for (const std::string& id : ids) RETURN_IF_ERROR(CheckOwned(tx, req.caller, id));
  for (const std::string& id : ids) {
    if (tags.empty()) RETURN_IF_ERROR(tx.tags().DeleteAll(id));
    for (const actions::TagParam& t : tags) {
      RETURN_IF_ERROR(
          tx.tags().Delete(id, t.key, t.has_value ? std::optional(t.value) : std::nullopt));
    }
  }
  RETURN_IF_ERROR(tx.Commit());
  return ReturnTrue("DeleteTags", req.request_id);
}

// --- DescribeTags ---

// Where a page starts: after this (resource id, key). Encoded as hex of "id\nkey" (an id has
// no newline), opaque to clients.
struct TagCursor {
  std::string resource_id;
  std::string key;
};

std::string EncodeCursor(const Tag& t) { return HexEncode(AsBytes(t.resource_id + "\n" + t.key)); }

Result<std::optional<TagCursor>> DecodeCursor(const QueryParams& p) {
  std::optional<std::string> token = p.Get("NextToken");
  if (!token) return std::optional<TagCursor>();
  Result<Bytes> raw = HexDecode(*token);
  const size_t nl = raw.ok() ? AsString(*raw).find('\n') : std::string_view::npos;
  if (nl == std::string_view::npos) {
    return Ec2Error("InvalidPaginationToken",
                    "The specified pagination token is not valid or is expired");
  }
  const std::string_view text = AsString(*raw);
  return std::optional<TagCursor>(
      TagCursor{std::string(text.substr(0, nl)), std::string(text.substr(nl + 1))});
}

Result<int> MaxResults(const QueryParams& p) {
  std::optional<std::string> v = p.Get("MaxResults");
  if (!v) return 0;
  int n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size() || n < 5 || n > 1000) {
    return Ec2Error("InvalidParameterValue", "Value (" + *v +
                                                 ") for parameter MaxResults is invalid. Expected "
                                                 "a value from 5 to 1000.");
  }
  return n;
}

// The ids of every live resource the account owns, of every taggable kind.
Result<std::vector<std::string>> OwnedIds(Catalog& catalog, const std::string& account) {
  const ListQuery q{.owner_id = account};
  std::vector<std::string> ids;
  ASSIGN_OR_RETURN(std::vector<Image> images, catalog.images().List(q));
  for (const Image& r : images) {
    if (r.state != ImageState::kDeregistered) ids.push_back(r.image_id);
  }
  ASSIGN_OR_RETURN(std::vector<Snapshot> snapshots, catalog.snapshots().List(q));
  for (const Snapshot& r : snapshots) ids.push_back(r.snapshot_id);
  ASSIGN_OR_RETURN(std::vector<EbsVolume> volumes, catalog.volumes().List(q));
  for (const EbsVolume& r : volumes) {
    if (r.state != VolumeState::kDeleted) ids.push_back(r.volume_id);
  }
  ASSIGN_OR_RETURN(std::vector<Instance> instances, catalog.instances().List(q));
  for (const Instance& r : instances) ids.push_back(r.instance_id);
  ASSIGN_OR_RETURN(std::vector<KeyPair> keys, catalog.key_pairs().List(q));
  for (const KeyPair& r : keys) ids.push_back(r.key_pair_id);
  return ids;
}

bool MatchTag(const Tag& t, std::string_view type, const std::vector<Filter>& filters) {
  for (const Filter& f : filters) {
    bool ok;
    if (f.name == "key")
      ok = actions::MatchesAny(f.values, t.key);
    else if (f.name == "value")
      ok = actions::MatchesAny(f.values, t.value);
    else if (f.name == "resource-id")
      ok = actions::MatchesAny(f.values, t.resource_id);
    else if (f.name == "resource-type")
      ok = actions::MatchesAny(f.values, type);
    else
      ok = t.key == std::string_view(f.name).substr(4) && actions::MatchesAny(f.values, t.value);
    if (!ok) return false;
  }
  return true;
}

Result<std::string> DescribeTags(Catalog& catalog, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::vector<Filter> filters, actions::ParseFilters(req.params));
  RETURN_IF_ERROR(actions::CheckFilterNames(filters,
                                            {"key", "value", "resource-id", "resource-type"},
                                            /*allow_tag_key=*/true));
  ASSIGN_OR_RETURN(int max_results, MaxResults(req.params));
  ASSIGN_OR_RETURN(std::optional<TagCursor> after, DecodeCursor(req.params));
  ASSIGN_OR_RETURN(std::vector<std::string> ids, OwnedIds(catalog, req.caller.account_id));
  ASSIGN_OR_RETURN(std::vector<Tag> tags, catalog.tags().ListForResources(ids));
  auto order = [](const Tag& t) { return std::tie(t.resource_id, t.key); };
  std::sort(tags.begin(), tags.end(),
            [&](const Tag& a, const Tag& b) { return order(a) < order(b); });
  XmlWriter w("DescribeTagsResponse", req.request_id);
  w.Open("tagSet");
  int written = 0;
  const Tag* last = nullptr;
  bool more = false;
  for (const Tag& t : tags) {
    if (after && order(t) <= std::tie(after->resource_id, after->key)) continue;
    const Taggable* kind = KindOf(t.resource_id);
    if (kind == nullptr || !MatchTag(t, kind->resource_type, filters)) continue;
    const std::string_view type = kind->resource_type;
    if (max_results > 0 && written == max_results) {
      more = true;
      break;
    }
    w.Open("item").Field("resourceId", t.resource_id).Field("resourceType", type);
    w.Field("key", t.key).Field("value", t.value).Close();
    ++written;
    last = &t;
  }
  w.Close();
  if (more) w.Field("nextToken", EncodeCursor(*last));
  return std::move(w).Finish();
}

}  // namespace

std::vector<Action> TagActions(Catalog& catalog) {
  Catalog* c = &catalog;
  return {
      {"CreateTags",
       {"ResourceId.N", "Tag.N.Key", "Tag.N.Value"},
       [c](const ActionRequest& r) { return CreateTags(*c, r); }},
      {"DeleteTags",
       {"ResourceId.N", "Tag.N.Key", "Tag.N.Value"},
       [c](const ActionRequest& r) { return DeleteTags(*c, r); }},
      {"DescribeTags",
       {"Filter.N.Name", "Filter.N.Value.N", "MaxResults", "NextToken"},
       [c](const ActionRequest& r) { return DescribeTags(*c, r); }},
  };
}

}  // namespace kiln
