// The generated admin password's control-plane half (the runtime's half:
// runtime/admin_password.h; the image's settings: docs/launch-settings.md).
//
// At an instance's first boot whose image asks for a generated password, the runtime hands the
// plaintext over once; PasswordDataSink encrypts it with the public key of the instance's key
// pair (RSA, PKCS#1 v1.5, base64: what GetPasswordData returns as passwordData, as EC2 does)
// and stores only that. Without a key pair, or with an Ed25519 one, nothing is stored and
// GetPasswordData keeps answering an empty passwordData, as EC2 does for such instances.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "api/action.h"
#include "base/status.h"
#include "catalog/records.h"

namespace kiln {

class Cloud;

// For InstanceConfig::admin_password: stores `instance`'s password data. The key pair is looked
// up by the instance's key name and owner when called. Errors: the catalog's; the plaintext is
// never in an error message or a log line.
std::function<Status(const std::string& user, const std::string& password)> PasswordDataSink(
    Cloud& cloud, const Instance& instance);

// GetPasswordData.
std::vector<Action> PasswordActions(Cloud& cloud);

}  // namespace kiln
