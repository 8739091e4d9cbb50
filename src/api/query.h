// QueryParams: the parameters of an EC2 Query API request, parsed from an
// application/x-www-form-urlencoded body (POST) or a URL query string (GET), and read the way
// EC2's wire format nests them: lists as `Name.N` (1-based), structures in lists as
// `Name.N.Member`, to any depth (`Filter.1.Value.2`, `BlockDeviceMapping.1.Ebs.VolumeSize`,
// `TagSpecification.1.Tag.2.Key`). See reference/ec2-api-notes.md, "Wire protocol".
//
// Parsing: `&`-separated `name=value` pairs; `+` is a space; `%XX` escapes are decoded (a bad
// escape is an error); a pair without `=` has an empty value; empty pairs (`&&`) are skipped.
// Bounds keep a hostile request small: at most `max_params` pairs, names up to
// `max_name_bytes`, values up to `max_value_bytes` (user data and key material are large),
// the whole input up to `max_bytes`. A name given twice is an error: two values for one
// parameter are ambiguous, and EC2's own clients never send them.
//
// Errors are InvalidArgument with the EC2 code "MalformedQueryString" (bad encoding, limits,
// duplicates) or, from the list readers, "InvalidParameterValue" (an index that is not a
// positive decimal number without leading zeros).
//
// Empty values mean unset (DESIGN.md: Packer sends `VpcId=`): Get returns nullopt for them;
// Has and names() still see them, so an unknown parameter is caught even when empty.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kiln {

struct QueryLimits {
  size_t max_bytes = 8 << 20;
  size_t max_params = 4096;
  size_t max_name_bytes = 256;
  size_t max_value_bytes = 1 << 20;
};

class QueryParams {
 public:
  QueryParams() = default;
  static Result<QueryParams> Parse(std::string_view encoded, const QueryLimits& limits = {});

  // The value of `name`, or nullopt when absent or empty.
  std::optional<std::string> Get(std::string_view name) const;
  // Present, even with an empty value.
  bool Has(std::string_view name) const;
  // Every parameter name, sorted.
  std::vector<std::string> names() const;
  size_t size() const { return params_.size(); }

  // The non-empty values of the scalar list `prefix` ("ImageId" for ImageId.1, ImageId.2 ...),
  // in index order (gaps allowed, as EC2).
  Result<std::vector<std::string>> List(std::string_view prefix) const;
  // The members of the structure list `prefix` ("Filter" for Filter.1.Name, Filter.1.Value.1
  // ...): one QueryParams per index, in index order, holding the names after "Filter.N.".
  Result<std::vector<QueryParams>> Structs(std::string_view prefix) const;
  // The members of the structure `prefix` ("Ebs" for Ebs.VolumeSize ...), names after "Ebs.".
  QueryParams Struct(std::string_view prefix) const;

 private:
  // Index -> the rest of the name after "prefix.N" ("" for a scalar, ".Name" for a member).
  Result<std::map<uint64_t, std::vector<std::pair<std::string, const std::string*>>>> Group(
      std::string_view prefix) const;

  std::map<std::string, std::string, std::less<>> params_;
};

}  // namespace kiln
