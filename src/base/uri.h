// AWS's URI encoding (the SigV4 canonical form), shared by kilnd's SigV4 verifier and the kiln
// CLI's signer: unreserved characters (A-Z a-z 0-9 - _ . ~) stay as they are, every other byte
// becomes %XX in upper case; '/' stays too when `keep_slash` (a canonical path).
#pragma once

#include <string>
#include <string_view>

namespace kiln {

std::string UriEncode(std::string_view s, bool keep_slash = false);

}  // namespace kiln
