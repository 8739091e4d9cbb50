// What the Describe* actions share: EC2's filters (Filter.N.Name / Filter.N.Value.M with `*`
// and `?` wildcards), pagination tokens, and each resource's XML item as botocore's model
// shapes it (Image, Snapshot, Volume, Instance in a Reservation).
//
// Filters: within one filter the values are OR'ed, across filters AND'ed (EC2). A filter name the
// resource does not support is InvalidParameterValue ("The filter 'x' is invalid"), never a
// silent match-all. `tag:KEY` matches resources with tag KEY whose value matches one of the
// values; `tag-key` matches a tag key; `tag-value` a tag value. Booleans are "true"/"false";
// numbers compare as their decimal text; times as EC2's timestamp text.
//
// Thread-safety: pure functions over values.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/query.h"
#include "base/status.h"
#include "catalog/records.h"
#include "ec2/xml_writer.h"

namespace kiln {

struct Filter {
  std::string name;
  std::vector<std::string> values;  // non-empty
};

// The request's Filter.N list. InvalidParameterValue for a filter without a name or without
// values (EC2: "The filter 'x' requires at least one value" / MissingParameter for the name).
Result<std::vector<Filter>> ParseFilters(const QueryParams& params);

// `*` matches any run (also empty), `?` one character, `\` escapes the next one (EC2's rules).
bool WildcardMatch(std::string_view pattern, std::string_view text);

// Pagination: MaxResults (EC2's bounds per action: `min`..`max`; absent: no limit -> 0) and
// NextToken (opaque to clients: kiln's encoding of the last id returned). InvalidParameterValue
// for a MaxResults out of bounds or not a number; InvalidNextToken... as EC2:
// "InvalidParameterValue" for a token kiln did not make.
struct Page {
  int max_results = 0;   // 0: all
  std::string after_id;  // "" from the start

  // Filling the page, one matching item at a time: true while there is room (the item is
  // shown and becomes the page's last), false once the page is full (a match is left over, so
  // the answer gets a nextToken).
  bool Admit(const std::string& id);
  // <nextToken> after the page's items, when a match was left over.
  void WriteNextToken(XmlWriter& w) const;

  int shown = 0;
  bool more = false;
  std::string last;
};
Result<Page> ParsePage(const QueryParams& params, int min, int max);
std::string MakeNextToken(std::string_view last_id);

// <tagSet><item><key/><value/></item>...</tagSet>, nothing when `tags` is empty (EC2 omits it).
void WriteTagSet(XmlWriter& w, const std::vector<Tag>& tags);

// --- Images ---

struct ImageView {
  const Image& image;
  const std::vector<Tag>& tags;
  std::string owner_alias;  // "" or e.g. "kiln"
};
// InvalidParameterValue for a name DescribeImages does not support (issue 5's list: image-id,
// name, description, state, owner-id, owner-alias, is-public, root-device-type,
// root-device-name, architecture, virtualization-type, platform, image-type,
// block-device-mapping.device-name/.snapshot-id/.volume-size/.volume-type/.encrypted/
// .delete-on-termination, source-instance-id, creation-date, tag:KEY, tag-key, tag-value).
Status CheckImageFilters(const std::vector<Filter>& filters);
bool MatchImage(const ImageView& image, const std::vector<Filter>& filters);
// Writes one <item> of imagesSet.
void WriteImage(XmlWriter& w, const ImageView& image);
// DescribeImages' ExecutableBy.N: true if any entry admits `image`, whose launch permissions are
// `perms`, for caller `caller_id`. "all": public images. "self" or the caller's own id: images it
// owns or that are shared with it by explicit permission (a public image of another account
// is not). Another account id: the caller's images shared with that account.
bool ExecutableBy(const Image& image, const std::vector<LaunchPermission>& perms,
                  const std::string& caller_id, const std::vector<std::string>& executable_by);

// --- Snapshots ---

struct SnapshotView {
  const Snapshot& snapshot;
  const std::vector<Tag>& tags;
  std::string owner_alias;
};
// snapshot-id, volume-id, status, owner-id, owner-alias, description, progress, start-time,
// volume-size, encrypted, kms-key-id, tag:KEY, tag-key, tag-value.
Status CheckSnapshotFilters(const std::vector<Filter>& filters);
bool MatchSnapshot(const SnapshotView& snapshot, const std::vector<Filter>& filters);
void WriteSnapshot(XmlWriter& w, const SnapshotView& snapshot);  // one <item> of snapshotSet

// --- Volumes ---

struct VolumeView {
  const EbsVolume& volume;
  const std::vector<Tag>& tags;
  const std::optional<Attachment>& attachment;
  int initialization_rate = 0;  // VolumeInitializationRate (MiB/s) asked at creation; 0: none
};
// volume-id, status, size, snapshot-id, availability-zone, create-time, volume-type, encrypted,
// kms-key-id, iops, attachment.instance-id, attachment.device, attachment.status,
// attachment.attach-time, attachment.delete-on-termination, tag:KEY, tag-key, tag-value.
Status CheckVolumeFilters(const std::vector<Filter>& filters);
bool MatchVolume(const VolumeView& volume, const std::vector<Filter>& filters);
void WriteVolume(XmlWriter& w, const VolumeView& volume);  // one <item> of volumeSet
// The <attachmentSet><item> fields alone, also the body of Attach/DetachVolume's response.
void WriteAttachmentFields(XmlWriter& w, const Attachment& attachment);

// --- Instances ---

struct InstanceView {
  const Instance& instance;
  const std::vector<Tag>& tags;
  const std::vector<Attachment>& attachments;  // its EBS volumes (blockDeviceMapping)
};
// instance-id, instance-state-name, instance-state-code, instance-type, image-id, key-name,
// availability-zone, launch-time, reservation-id, owner-id, root-device-type,
// root-device-name, client-token, vpc-id, subnet-id, instance.group-id, instance.group-name,
// block-device-mapping.device-name,
// block-device-mapping.volume-id, block-device-mapping.status,
// block-device-mapping.delete-on-termination, tag:KEY, tag-key, tag-value.
Status CheckInstanceFilters(const std::vector<Filter>& filters);
bool MatchInstance(const InstanceView& instance, const std::vector<Filter>& filters);
// One <item> of instancesSet (as DescribeInstances and RunInstances report it).
void WriteInstance(XmlWriter& w, const InstanceView& instance);
// <currentState>/<previousState> items of Start/Stop/Terminate responses:
// one <item> of instancesSet with instanceId, currentState{code,name}, previousState{code,name}.
void WriteStateChange(XmlWriter& w, const std::string& instance_id, InstanceState previous,
                      InstanceState current);
// <element><code/><name/></element>: an InstanceState as EC2 writes it.
void WriteState(XmlWriter& w, std::string_view element, InstanceState state);
// <blockDeviceMapping> of an instance: its current attachments (DescribeInstances and
// DescribeInstanceAttribute blockDeviceMapping).
void WriteBlockDevices(XmlWriter& w, const std::vector<Attachment>& attachments);
// <element><item><groupId/><groupName/></item>...</element>: an instance's security groups.
void WriteGroupSet(XmlWriter& w, std::string_view element,
                   const std::vector<GroupIdentifier>& groups);

}  // namespace kiln
