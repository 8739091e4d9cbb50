// Fresh identifiers for catalog records, from the operating system's CSPRNG (OpenSSL's
// RAND_bytes), and checks of their form.
//
// Errors: Internal if the random generator fails (it does not on a working system).
// Thread-safety: all functions are reentrant.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace kiln {

// `prefix` + "-" + 17 lowercase hex digits (68 random bits), as EC2's long ids:
// NewId("ami") -> "ami-0123456789abcdef0". `prefix` must be 1..16 lowercase letters
// (InvalidArgument otherwise).
Result<std::string> NewId(std::string_view prefix);

// A 12-digit account id, uniformly drawn (leading zeros allowed, as AWS's).
Result<std::string> NewAccountId();

// An access key id: "AKIA" + 16 characters of [A-Z0-9].
Result<std::string> NewAccessKeyId();

// A secret access key: 40 characters of [A-Za-z0-9+/].
Result<std::string> NewSecretAccessKey();

// True if `id` is `prefix` + "-" + 8 or 17 lowercase hex digits (EC2 accepts both lengths).
bool IsResourceId(std::string_view prefix, std::string_view id);

// True if `id` is exactly 12 decimal digits.
bool IsAccountId(std::string_view id);

}  // namespace kiln
