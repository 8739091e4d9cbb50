// SSH key pairs as EC2 makes and imports them, on OpenSSL.
//
// Generated keys (CreateKeyPair): RSA 2048 or Ed25519, fresh from OpenSSL's CSPRNG. The private
// key is returned once and never stored: RSA as PKCS#1 PEM ("-----BEGIN RSA PRIVATE KEY-----"),
// Ed25519 in OpenSSH's own private key format ("-----BEGIN OPENSSH PRIVATE KEY-----",
// unencrypted), as EC2 returns them. Fingerprints follow EC2's rules, which differ by origin:
//   - RSA created by EC2: SHA-1 of the DER PKCS#8 PrivateKeyInfo, colon-separated lower hex;
//   - RSA imported: MD5 of the DER SubjectPublicKeyInfo, colon-separated lower hex (equal to
//     `ssh-keygen -l -E md5` without its "MD5:" prefix);
//   - Ed25519 either way: base64 (padded) of SHA-256 of the OpenSSH public key blob (ssh-keygen
//     -l prints the same without "SHA256:" and without the trailing "=").
//
// Imported keys (ImportKeyPair): one OpenSSH public key line, "ssh-rsa AAAA... [comment]" or
// "ssh-ed25519 AAAA... [comment]". Anything else is InvalidKey.Format: another key type, bad
// base64, a blob whose type differs from the line's, a truncated or padded blob, an RSA modulus
// outside 1024..4096 bits or an even or tiny exponent.
//
// Errors: InvalidKey.Format (InvalidArgument) for bad imports; Internal if OpenSSL fails.
// Thread-safety: reentrant.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace kiln::actions {

struct GeneratedKeyPair {
  std::string private_key;  // KeyMaterial: PEM text, newline-terminated
  std::string public_key;   // OpenSSH line "ssh-rsa AAAA..." (no comment)
  std::string fingerprint;  // KeyFingerprint
};

// `key_type` is "rsa" or "ed25519" (InvalidArgument otherwise).
Result<GeneratedKeyPair> GenerateKeyPair(std::string_view key_type);

struct ImportedPublicKey {
  std::string key_type;     // "rsa" or "ed25519"
  std::string public_key;   // "ssh-rsa AAAA..." plus " comment" when the line had one
  std::string fingerprint;  // KeyFingerprint
};

// Parses and checks one OpenSSH public key line (surrounding whitespace ignored).
Result<ImportedPublicKey> ParseOpenSshPublicKey(std::string_view line);

}  // namespace kiln::actions
