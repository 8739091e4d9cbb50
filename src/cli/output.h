// What every command shares: the API, where output goes and how (table or JSON, colour), the
// clock; the JSON forms of the resources; and how a failure is told to a person (one line with
// EC2's code, plus a hint) with which exit status.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"
#include "cli/ec2_client.h"
#include "cli/ec2_xml.h"

namespace kiln::cli {

enum class OutputFormat { kTable, kJson };

// Not owned pointers; they outlive the command.
struct Context {
  Ec2Api* api = nullptr;
  const ResolvedConfig* config = nullptr;  // null in tests that need no endpoint
  OutputFormat format = OutputFormat::kTable;
  bool color = false;       // ANSI colour in tables
  bool stdout_tty = false;  // progress bars in place (else plain lines)
  std::FILE* out = stdout;
  std::FILE* err = stderr;
  std::function<int64_t()> now;  // seconds since the Unix epoch

  bool json() const { return format == OutputFormat::kJson; }
};

// Writes `text` to ctx.out as it is.
void Print(Context& ctx, const std::string& text);
// Pretty-printed JSON and a newline to ctx.out.
void PrintJson(Context& ctx, const nlohmann::json& value);

nlohmann::json ToJson(const ImageInfo& image);
nlohmann::json ToJson(const InstanceInfo& instance);
nlohmann::json ToJson(const SnapshotInfo& snapshot);
nlohmann::json ToJson(const VolumeInfo& volume);

// Exit statuses.
inline constexpr int kExitOk = 0;
inline constexpr int kExitApiError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitInterrupted = 130;

// "kiln: <EC2 code>: <message>" (or "kiln: <message>" without a code), and "hint: ..." lines
// where one helps; every line ends with '\n'.
std::string ErrorText(const Status& status);

// kExitUsage for a client-side InvalidArgument without an EC2 code (bad flag values),
// kExitApiError otherwise.
int ExitStatusFor(const Status& status);

}  // namespace kiln::cli
