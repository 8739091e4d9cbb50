// Two small records of migration 4, beside the instances and volumes they belong to (each row
// goes when its instance or volume row is deleted):
//
//   - PasswordDataTable: GetPasswordData's passwordData per instance: the generated admin
//     password encrypted for the instance's key pair (base64). The plaintext is never stored.
//   - VolumeInitializationTable: a volume made from a snapshot hydrates in the background
//     (volume initialization); this keeps the rate asked at creation
//     (VolumeInitializationRate, MiB/s; 0 when none was asked: kiln's default rate) and whether
//     initialization has finished, so a restarted kilnd resumes it.
//
// Obtain them from Catalog or Transaction (catalog.h states the errors and thread-safety all
// tables share).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "catalog/table_context.h"

namespace kiln {

struct PasswordData {
  std::string instance_id{};
  std::string password_data{};  // base64 of the RSA ciphertext
  std::string timestamp{};      // Ec2Timestamp of when it was stored
  bool operator==(const PasswordData&) const = default;
};

class PasswordDataTable {
 public:
  explicit PasswordDataTable(TableContext ctx) : ctx_(ctx) {}
  // Stores (or replaces) the instance's password data. FailedPrecondition if the instance does
  // not exist; InvalidArgument for a malformed id or empty data.
  Status Put(const PasswordData& data);
  // nullopt while there is none.
  Result<std::optional<PasswordData>> Get(const std::string& instance_id);

 private:
  TableContext ctx_;
};

struct VolumeInitialization {
  std::string volume_id{};
  int rate_mib_per_sec = 0;  // VolumeInitializationRate; 0: none asked (default rate)
  bool initialized = false;  // every block of the snapshot is local
  bool operator==(const VolumeInitialization&) const = default;
};

class VolumeInitializationTable {
 public:
  explicit VolumeInitializationTable(TableContext ctx) : ctx_(ctx) {}
  // Records a volume to initialize. AlreadyExists if it has a record; FailedPrecondition if
  // the volume does not exist; InvalidArgument for a malformed id or a negative rate.
  Status Insert(const VolumeInitialization& record);
  // nullopt for a volume without a record (not made from a snapshot).
  Result<std::optional<VolumeInitialization>> Get(const std::string& volume_id);
  // Marks initialization finished. NotFound without a record.
  Status MarkInitialized(const std::string& volume_id);
  // The records not yet initialized, by volume id (a restart resumes them).
  Result<std::vector<VolumeInitialization>> ListUnfinished();

 private:
  TableContext ctx_;
};

}  // namespace kiln
