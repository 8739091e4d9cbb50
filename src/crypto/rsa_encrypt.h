// RSA public-key encryption as EC2 uses it for GetPasswordData: the instance's generated
// password is encrypted with the public key of the instance's key pair, RSAES-PKCS1-v1_5
// (RFC 8017 section 7.2), and sent as base64. `aws ec2 get-password-data --priv-launch-key`
// and boto3 users decrypt it with the key pair's private key and PKCS#1 v1.5 padding.
//
// Errors: InvalidArgument for a key that is not one OpenSSH "ssh-rsa" public key line (another
// key type such as ssh-ed25519, bad base64, a malformed or truncated blob), or a message too
// long for the key (more than the modulus size minus 11 bytes); Internal if OpenSSL fails.
// Thread-safety: reentrant.
#pragma once

#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"

namespace kiln {

// Encrypts `message` with the RSA public key in `openssh_line` ("ssh-rsa AAAA... [comment]"),
// PKCS#1 v1.5 padding (random each call). Returns the ciphertext, the modulus' size in bytes.
Result<Bytes> RsaPkcs1Encrypt(std::string_view openssh_line, ByteView message);

// The DER SubjectPublicKeyInfo of the RSA public key with exponent `e` and modulus `n`
// (unsigned big-endian), what EC2 hashes (MD5) for an imported RSA key's fingerprint.
// Internal if OpenSSL refuses the numbers.
Result<Bytes> RsaPublicKeyDer(ByteView e, ByteView n);

// The same, base64-encoded (EC2's passwordData).
Result<std::string> RsaPkcs1EncryptBase64(std::string_view openssh_line, ByteView message);

}  // namespace kiln
