// Accounts and base images: what kilnd's first start creates (DESIGN.md, Interface contract).
#pragma once

#include <string>

#include "base/status.h"
#include "catalog/catalog.h"
#include "env/clock.h"

namespace kiln {

class Cloud;

// On first start: the account `default` with a key pair written to DATA_DIR/credentials
// (profile [default], mode 0600), and the system account (alias `kiln`, no keys). Idempotent.
Status EnsureAccounts(Cloud& cloud);

// `kilnd account create`: a new account NAME with a key pair, appended to DATA_DIR/credentials
// as profile [NAME] (with account_id), and the profile's text returned for printing.
// AlreadyExists if NAME is taken; InvalidArgument unless NAME is 1..64 of [A-Za-z0-9_-].
Result<std::string> CreateAccount(Catalog& catalog, const std::string& data_dir,
                                  const std::string& name);

// Registers the base images from options.images_dir unless they exist: the public image
// minimal-linux-x86_64 (EBS root /dev/xvda, 8 GiB, its snapshot public) and its
// instance-store-backed twin. The API starts only after this returns.
Status EnsureBaseImages(Cloud& cloud);

}  // namespace kiln
