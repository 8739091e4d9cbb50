// DescribeVolumeStatus. kiln's volumes have no events or actions (no failing hosts to report):
// every volume's I/O is enabled and its status ok. What it does report is real: the
// initialization (hydration) of volumes made from snapshots (cloud/hydration.h), as
// initializationStatusDetails and an initialization-state detail.
#include "api/simple_filters.h"
#include "cloud/action_util.h"
#include "cloud/actions.h"
#include "cloud/cloud.h"
#include "cloud/hydration.h"
#include "ec2/describe.h"

namespace kiln {
namespace {

// Events and actions never happen on kiln: their filters are accepted and match nothing, as
// EC2's do for a volume without events.
const std::vector<std::string> kVolumeStatusFilters = {"action.code",
                                                       "action.description",
                                                       "action.event-id",
                                                       "availability-zone",
                                                       "event.description",
                                                       "event.event-id",
                                                       "event.event-type",
                                                       "event.not-after",
                                                       "event.not-before",
                                                       "volume-status.details-name",
                                                       "volume-status.details-status",
                                                       "volume-status.status"};

std::string IoPerformance(const EbsVolume& v) {
  return v.volume_type == "io1" || v.volume_type == "io2" ? "normal" : "not-applicable";
}

bool Passes(const std::vector<SimpleFilter>& filters, const EbsVolume& v,
            const std::optional<InitializationStatus>& init) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"availability-zone", v.availability_zone},
      {"volume-status.status", "ok"},
      {"volume-status.details-name", "io-enabled"},
      {"volume-status.details-status", "passed"},
      {"volume-status.details-name", "io-performance"},
      {"volume-status.details-status", IoPerformance(v)}};
  if (init) {
    fields.push_back({"volume-status.details-name", "initialization-state"});
    fields.push_back(
        {"volume-status.details-status", init->progress == 100 ? "completed" : "initializing"});
  }
  return PassesFilters(filters, fields);
}

void WriteDetail(XmlWriter& w, std::string_view name, std::string_view status) {
  w.Open("item").Field("name", name).Field("status", status).Close();
}

void WriteVolumeStatus(XmlWriter& w, const EbsVolume& v,
                       const std::optional<InitializationStatus>& init) {
  w.Open("item").Field("volumeId", v.volume_id);
  w.Field("availabilityZone", v.availability_zone);
  w.Open("volumeStatus").Field("status", "ok").Open("details");
  WriteDetail(w, "io-enabled", "passed");
  WriteDetail(w, "io-performance", IoPerformance(v));
  if (init)
    WriteDetail(w, "initialization-state", init->progress == 100 ? "completed" : "initializing");
  w.Close().Close();
  w.Open("eventsSet").Close().Open("actionsSet").Close();
  if (init) {
    w.Open("initializationStatusDetails");
    w.Field("initializationType", init->provisioned_rate ? "provisioned-rate" : "default");
    w.Field("progress", init->progress);
    if (init->provisioned_rate) w.Field("estimatedTimeToCompleteInSeconds", init->eta_seconds);
    w.Close();
  }
  w.Close();
}

Result<std::string> DescribeVolumeStatus(Cloud& cloud, const ActionRequest& req) {
  ASSIGN_OR_RETURN(std::vector<SimpleFilter> filters,
                   ParseSimpleFilters(req.params, kVolumeStatusFilters));
  ASSIGN_OR_RETURN(Page page, ParsePage(req.params, 5, 1000));
  ListQuery q;
  q.owner_id = req.caller.account_id;
  ASSIGN_OR_RETURN(q.ids, req.params.List("VolumeId"));
  if (!q.ids.empty() && page.max_results != 0) {
    return Ec2Error("InvalidParameterCombination",
                    "The parameter volumeSet cannot be used with the parameter maxResults");
  }
  for (const std::string& id : q.ids) RETURN_IF_ERROR(OwnedVolume(cloud, req.caller, id).status());
  if (req.dry_run) return DryRunSucceeded();
  q.after_id = page.after_id;
  ASSIGN_OR_RETURN(std::vector<EbsVolume> listed, cloud.catalog().volumes().List(q));
  XmlWriter w("DescribeVolumeStatusResponse", req.request_id);
  w.Open("volumeStatusSet");
  for (const EbsVolume& v : listed) {
    if (v.state == VolumeState::kDeleted) continue;
    ASSIGN_OR_RETURN(std::optional<InitializationStatus> init,
                     cloud.initializer().Describe(v.volume_id));
    if (!Passes(filters, v, init)) continue;
    if (!page.Admit(v.volume_id)) break;
    WriteVolumeStatus(w, v, init);
  }
  w.Close();
  page.WriteNextToken(w);
  return std::move(w).Finish();
}

}  // namespace

std::vector<Action> VolumeStatusActions(Cloud& cloud) {
  return {{"DescribeVolumeStatus",
           {"VolumeId.N", "Filter.N.Name", "Filter.N.Value.N", "MaxResults", "NextToken",
            "IncludeManagedResources"},
           [&cloud](const ActionRequest& r) { return DescribeVolumeStatus(cloud, r); },
           /*checks_dry_run=*/true}};
}

}  // namespace kiln
