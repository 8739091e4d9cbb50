// The tag actions: CreateTags, DeleteTags, DescribeTags, with EC2's parameters, errors and
// response shapes (botocore's 2016-11-15 model).
//
//   CreateTags    ResourceId.N*, Tag.N.Key* / Tag.N.Value (absent value: ""). Sets each tag on
//                 every resource, all or nothing; an existing key is overwritten.
//   DeleteTags    ResourceId.N*, Tag.N.Key / Tag.N.Value. A key without Value is deleted
//                 whatever its value; with Value (even empty) only if the value is equal. No
//                 Tag at all deletes every tag of the resources.
//   DescribeTags  Filter.N (key, value, resource-id, resource-type, tag:KEY; `*` `?`
//                 wildcards), MaxResults 5..1000, NextToken (InvalidPaginationToken when kiln
//                 did not make it). Lists the caller's tags, by resource id then key.
//
// Taggable resources, told apart by id prefix: ami- (image), snap- (snapshot), vol- (volume),
// i- (instance), key- (key-pair). The caller may tag only what it owns: an id of another account
// or of no resource answers that resource's NotFound code (InvalidAMIID.NotFound,
// InvalidSnapshot.NotFound, InvalidVolume.NotFound, InvalidInstanceID.NotFound,
// InvalidKeyPair.NotFound); an id of another form or kind answers InvalidID. Deregistered
// images and deleted volumes count as absent. Tag rules (tag_specs.h): InvalidParameterValue,
// and TagLimitExceeded when a resource would hold more than 50 tags.
//
// The returned handlers use `catalog`, which must outlive them. Thread-safety: handlers may run
// concurrently; each one's checks and changes are one catalog transaction.
#pragma once

#include <vector>

#include "api/action.h"
#include "catalog/catalog.h"

namespace kiln {

std::vector<Action> TagActions(Catalog& catalog);

}  // namespace kiln
