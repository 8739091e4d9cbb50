// libFuzzer target: the files `kiln` reads for its configuration. ParseIni (AWS shared
// credentials/config files) on arbitrary text fails only with InvalidArgument naming the file,
// and what it accepts has trimmed, non-empty keys, trimmed values and section names, and parses
// back to the same from a canonical rewrite; ProfileCredentials of each section either returns
// that section's non-empty keys or fails. ParseKilndJson (kilnd.json) fails only with
// InvalidArgument naming the file, and what it accepts is exactly the document's endpoint,
// dataDir and pid.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/config.h"

namespace {

using kiln::cli::IniFile;

bool Trimmed(const std::string& s) {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  return s.empty() || (!blank(s.front()) && !blank(s.back()));
}

// A rewrite ParseIni reads back as `ini`: sections as "[profile NAME]" ("[ ]" for the empty
// name), then "key = value" lines.
std::string Rewrite(const IniFile& ini) {
  std::string out;
  for (const auto& [section, keys] : ini) {
    out += section.empty() ? "[ ]\n" : "[profile " + section + "]\n";
    for (const auto& [key, value] : keys) out += key + " = " + value + "\n";
  }
  return out;
}

void CheckIni(const std::string& text) {
  kiln::Result<IniFile> ini = kiln::cli::ParseIni(text, "fuzz.ini");
  if (!ini.ok()) {
    if (ini.status().code() != kiln::Code::kInvalidArgument) std::abort();
    if (ini.status().message().rfind("fuzz.ini:", 0) != 0) std::abort();
    return;
  }
  for (const auto& [section, keys] : *ini) {
    if (!Trimmed(section)) std::abort();
    for (const auto& [key, value] : keys) {
      if (key.empty() || !Trimmed(key) || !Trimmed(value)) std::abort();
    }
    kiln::Result<kiln::cli::AwsCredentials> c = kiln::cli::ProfileCredentials(*ini, section, "f");
    if (c.ok()) {
      if (c->access_key_id.empty() || c->access_key_id != keys.at("aws_access_key_id") ||
          c->secret_access_key != keys.at("aws_secret_access_key")) {
        std::abort();
      }
    } else if (c.status().code() != kiln::Code::kInvalidArgument) {
      std::abort();
    }
  }
  kiln::Result<IniFile> again = kiln::cli::ParseIni(Rewrite(*ini), "rewrite");
  if (!again.ok() || *again != *ini) std::abort();
}

void CheckKilndJson(const std::string& text) {
  kiln::Result<kiln::cli::KilndInfo> info = kiln::cli::ParseKilndJson(text, "kilnd.json");
  if (!info.ok()) {
    if (info.status().code() != kiln::Code::kInvalidArgument) std::abort();
    if (info.status().message().rfind("kilnd.json: ", 0) != 0) std::abort();
    return;
  }
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || j.at("endpoint") != info->endpoint || j.at("dataDir") != info->data_dir ||
      j.at("pid") != info->pid) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  CheckIni(text);
  CheckKilndJson(text);
  return 0;
}
