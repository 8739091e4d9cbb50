// Actions: how one EC2 Query API action is declared and run, behind the front end
// (api/front_end.h) that authenticates the request and dispatches it.
//
// An action's handler gets the caller (the account the SigV4 key belongs to) and the request's
// parameters, and returns the response body: an XML document built with XmlWriter whose root
// is "<Action>Response" and whose requestId is `request_id`. It reports failures as a Status
// carrying EC2's error code (Status::WithEc2Code, e.g. "InvalidAMIID.NotFound"); the front end
// turns that into EC2's error document and HTTP status. A Status without an EC2 code is mapped
// by its kind (front_end.h says how), so a handler should always name the code a user sees.
//
// Parameters: the front end rejects any parameter not declared by the action (UnknownParameter)
// before the handler runs, so handlers read only what they declared. Action, Version, DryRun
// and the X-Amz-* parameters of a presigned request are handled by the front end and are not
// declared. Empty values mean unset (QueryParams::Get returns nullopt for them).
//
// DryRun: when DryRun=true, an action that `checks_dry_run` runs its handler with `dry_run` set:
// it validates everything as for a real call (EC2 answers InvalidInstanceID.NotFound for a
// missing instance even under DryRun) and then returns DryRunSucceeded() instead of changing
// anything. For the other actions the front end answers DryRunOperation (HTTP 412) after
// checking the parameters' names and the caller. kiln has no IAM policies: an authenticated
// caller may call every action on what it owns, so UnauthorizedOperation does not arise.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "api/query.h"
#include "base/status.h"

namespace kiln {

// Who is calling: resolved from the SigV4 access key.
struct Caller {
  std::string account_id;     // 12 digits
  std::string access_key_id;  // the key that signed the request
  std::string region;         // the region the request was signed for (its credential scope)
};

struct ActionRequest {
  const Caller& caller;
  const QueryParams& params;
  std::string_view request_id;  // a UUID, also sent back in the response
  bool dry_run = false;         // DryRun=true (only for actions that check_dry_run)
};

// DryRunOperation (HTTP 412): "Request would have succeeded, but DryRun flag is set."
Status DryRunSucceeded();

// Returns the XML response body, or a Status with an EC2 error code.
using ActionHandler = std::function<Result<std::string>(const ActionRequest&)>;

struct Action {
  std::string name;  // e.g. "DescribeImages"
  // The parameters the action accepts, as botocore's model spells them on the wire, with `N`
  // standing for a 1-based index: "Name", "ImageId.N", "Filter.N.Name", "Filter.N.Value.N",
  // "BlockDeviceMapping.N.Ebs.VolumeSize", "TagSpecification.N.Tag.N.Key".
  std::vector<std::string> parameters;
  ActionHandler handler;
  // The handler honours ActionRequest::dry_run (validates, then returns DryRunSucceeded()).
  bool checks_dry_run = false;
};

}  // namespace kiln
