// usage: what the caller's images and snapshots store (unique vs shared) and what that costs
// at a price per GB-month (DescribeStorageUsage, a kiln extension action).
#include "cli/commands.h"
#include "cli/format.h"

namespace kiln::cli {
namespace {

double Cost(int64_t bytes, double price) { return static_cast<double>(bytes) / 1e9 * price; }

nlohmann::json Bytes3(int64_t stored, int64_t unique, int64_t shared, double price) {
  return {{"StoredBytes", stored},
          {"UniqueBytes", unique},
          {"SharedBytes", shared},
          {"MonthlyCost", Cost(stored, price)},
          {"MonthlyCostUnique", Cost(unique, price)}};
}

void PrintJsonUsage(Context& ctx, const StorageUsage& u, double price) {
  nlohmann::json images = nlohmann::json::array();
  for (const auto& i : u.images) {
    nlohmann::json j = Bytes3(i.stored_bytes, i.unique_bytes, i.shared_bytes, price);
    j.update({{"ImageId", i.image_id},
              {"Name", i.name},
              {"State", i.state},
              {"CreationDate", i.creation_date},
              {"SnapshotIds", i.snapshot_ids}});
    images.push_back(j);
  }
  nlohmann::json snapshots = nlohmann::json::array();
  for (const auto& s : u.snapshots) {
    nlohmann::json j = Bytes3(s.stored_bytes, s.unique_bytes, s.shared_bytes, price);
    j.update({{"SnapshotId", s.snapshot_id},
              {"VolumeId", s.volume_id},
              {"VolumeSize", s.volume_size},
              {"State", s.state},
              {"StartTime", s.start_time},
              {"ImageId", s.image_id}});
    snapshots.push_back(j);
  }
  PrintJson(ctx, {{"PricePerGbMonth", price},
                  {"StoredBytes", u.stored_bytes},
                  {"MonthlyCost", Cost(u.stored_bytes, price)},
                  {"Images", images},
                  {"Snapshots", snapshots}});
}

}  // namespace

Status Usage(Context& ctx, double price) {
  if (!(price >= 0) || price > 1e6) {
    return InvalidArgumentError("--price-per-gb-month: expected a non-negative price in dollars");
  }
  ASSIGN_OR_RETURN(XmlDoc doc, ctx.api->Call("DescribeStorageUsage", {}));
  const StorageUsage u = ParseStorageUsage(doc->document_element());
  if (ctx.json()) {
    PrintJsonUsage(ctx, u, price);
    return Status::Ok();
  }
  std::string text;
  Table images(
      {"IMAGE ID", "NAME", "STATE", "STORED", "UNIQUE", "SHARED", "COST/MONTH", "UNIQUE COST"});
  for (const auto& i : u.images) {
    images.AddRow({i.image_id, i.name, Cell(i.state, StateColor(i.state)),
                   HumanBytes(i.stored_bytes), HumanBytes(i.unique_bytes),
                   HumanBytes(i.shared_bytes), Dollars(Cost(i.stored_bytes, price)),
                   Dollars(Cost(i.unique_bytes, price))});
  }
  text += u.images.empty() ? "no images of yours\n" : images.Render(ctx.color);
  Table snaps(
      {"SNAPSHOT ID", "IMAGE", "SIZE", "STORED", "UNIQUE", "SHARED", "COST/MONTH", "UNIQUE COST"});
  for (const auto& s : u.snapshots) {
    snaps.AddRow({s.snapshot_id, s.image_id, std::to_string(s.volume_size) + " GiB",
                  HumanBytes(s.stored_bytes), HumanBytes(s.unique_bytes),
                  HumanBytes(s.shared_bytes), Dollars(Cost(s.stored_bytes, price)),
                  Dollars(Cost(s.unique_bytes, price))});
  }
  text += "\n" +
          (u.snapshots.empty() ? std::string("no snapshots of yours\n") : snaps.Render(ctx.color));
  // The price as given, with at least two decimals ("$0.05", "$0.125").
  char price_buf[64];
  std::snprintf(price_buf, sizeof price_buf, "%.6f", price);
  std::string price_text = std::string("$") + price_buf;
  while (price_text.back() == '0' && price_text[price_text.size() - 3] != '.') {
    price_text.pop_back();
  }
  text += "\ntotal stored: " + HumanBytes(u.stored_bytes) + " (chunks counted once), " +
          Dollars(Cost(u.stored_bytes, price)) + " per month at " + price_text + " per GB-month\n";
  text += "unique bytes are what deleting frees: `kiln deregister IMAGE --delete-snapshots`\n";
  Print(ctx, text);
  return Status::Ok();
}

}  // namespace kiln::cli
