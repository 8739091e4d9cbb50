// Helpers for the key service's tests. Test-only.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "env/clock.h"
#include "env/file_system.h"
#include "kms/key_service.h"

namespace kiln {
namespace kms_testing {

inline constexpr char kAccountA[] = "111122223333";
inline constexpr char kAccountB[] = "444455556666";
inline constexpr char kDir[] = "/data/kms";

inline LineageId Lineage(uint8_t v) {
  LineageId l;
  for (size_t i = 0; i < l.size(); ++i) l[i] = static_cast<uint8_t>(v + i);
  return l;
}

inline std::unique_ptr<KeyService> MustOpen(FileSystem& fs, Clock& clock,
                                            const std::string& dir = kDir,
                                            const std::string& region = "us-east-1") {
  Result<std::unique_ptr<KeyService>> s = KeyService::Open(fs, clock, dir, region);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

// Every regular file under `dir`, recursively, as paths.
inline std::vector<std::string> AllFiles(FileSystem& fs, const std::string& dir) {
  std::vector<std::string> out;
  Result<std::vector<std::string>> names = fs.ListDir(dir);
  if (!names.ok()) return out;
  for (const std::string& name : *names) {
    const std::string path = JoinPath(dir, name);
    Result<FileInfo> info = fs.Stat(path);
    if (!info.ok()) continue;
    if (info->is_dir) {
      for (std::string& p : AllFiles(fs, path)) out.push_back(std::move(p));
    } else {
      out.push_back(path);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// True if `haystack` contains `needle` as raw bytes or as lower- or upper-case hex.
inline bool ContainsSecret(std::string_view haystack, ByteView needle) {
  std::string hex = HexEncode(needle);
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return haystack.find(AsString(needle)) != std::string_view::npos ||
         haystack.find(hex) != std::string_view::npos ||
         haystack.find(upper) != std::string_view::npos;
}

}  // namespace kms_testing
}  // namespace kiln
