// Base64 (RFC 4648, standard alphabet, with padding) as EC2 uses it for UserData, console
// output and key material, on OpenSSL's codec.
#pragma once

#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"

namespace kiln {

std::string Base64Encode(ByteView data);
// Strict: InvalidArgument unless `text` is whole groups of 4 from the alphabet with correct
// padding. Line breaks (\r, \n) are ignored, as EC2 and the AWS CLI tolerate them.
Result<Bytes> Base64Decode(std::string_view text);

}  // namespace kiln
