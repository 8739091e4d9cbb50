#include "actions/ssh_keys.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <memory>
#include <vector>

#include "actions/action_common.h"
#include "base/bytes.h"
#include "crypto/base64.h"
#include "crypto/openssl_ptr.h"
#include "crypto/rsa_encrypt.h"

namespace kiln::actions {
namespace {

template <auto Free>
using Deleter = OpenSslDeleter<Free>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using Pkcs8Ptr = std::unique_ptr<PKCS8_PRIV_KEY_INFO, Deleter<PKCS8_PRIV_KEY_INFO_free>>;

constexpr std::string_view kRsaType = "ssh-rsa";
constexpr std::string_view kEd25519Type = "ssh-ed25519";
constexpr size_t kEd25519KeyBytes = 32;

Status OpenSslError(const std::string& what) {
  char buf[256] = {0};
  ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
  ERR_clear_error();
  return InternalError(what + ": " + buf);
}

Status FormatError(const std::string& why) {
  return Ec2Error("InvalidKey.Format",
                  "Key is not in valid OpenSSH public key format (" + why + ")");
}

// --- SSH wire encoding (RFC 4251 section 5): big-endian lengths, mpints in two's complement ---

void PutU32Be(Bytes& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

void PutString(Bytes& out, ByteView s) {
  PutU32Be(out, static_cast<uint32_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}

void PutMpint(Bytes& out, const BIGNUM* bn) {
  Bytes mag(BN_num_bytes(bn));
  BN_bn2bin(bn, mag.data());
  // A set high bit would read as negative: prefix a zero byte.
  if (!mag.empty() && (mag[0] & 0x80) != 0) mag.insert(mag.begin(), 0);
  PutString(out, mag);
}

class SshReader {
 public:
  explicit SshReader(ByteView data) : data_(data) {}
  bool ReadString(ByteView& out) {
    if (data_.size() - pos_ < 4) return false;
    const uint32_t n = (uint32_t{data_[pos_]} << 24) | (uint32_t{data_[pos_ + 1]} << 16) |
                       (uint32_t{data_[pos_ + 2]} << 8) | uint32_t{data_[pos_ + 3]};
    pos_ += 4;
    if (data_.size() - pos_ < n) return false;
    out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  bool done() const { return pos_ == data_.size(); }

 private:
  ByteView data_;
  size_t pos_ = 0;
};

// --- Digests and their spellings ---

Result<Bytes> Digest(const EVP_MD* md, ByteView data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  if (md == nullptr || EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1) {
    return OpenSslError("hashing for a fingerprint");
  }
  out.resize(len);
  return out;
}

std::string ColonHex(ByteView digest) {
  std::string hex = HexEncode(digest), out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    if (i > 0) out += ':';
    out.append(hex, i, 2);
  }
  return out;
}

Result<std::string> Sha256Fingerprint(ByteView blob) {
  ASSIGN_OR_RETURN(Bytes digest, Digest(EVP_sha256(), blob));
  return Base64Encode(digest);
}

std::string OpenSshLine(std::string_view type, ByteView blob) {
  return std::string(type) + " " + Base64Encode(blob);
}

// --- RSA ---

Result<Bytes> RsaBlob(const EVP_PKEY* pkey) {
  BIGNUM* n_raw = nullptr;
  BIGNUM* e_raw = nullptr;
  const bool ok = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n_raw) == 1 &&
                  EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e_raw) == 1;
  BnPtr n(n_raw), e(e_raw);
  if (!ok) return OpenSslError("reading the RSA public key");
  Bytes blob;
  PutString(blob, AsBytes(kRsaType));
  PutMpint(blob, e.get());
  PutMpint(blob, n.get());
  return blob;
}

Result<std::string> Pkcs1Pem(EVP_PKEY* pkey) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey_traditional(bio.get(), pkey, nullptr, nullptr, 0, nullptr,
                                                   nullptr) != 1) {
    return OpenSslError("writing the RSA private key");
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

// EC2's fingerprint of a key pair it made: SHA-1 over the DER PKCS#8 form of the private key.
Result<std::string> Pkcs8Sha1Fingerprint(const EVP_PKEY* pkey) {
  Pkcs8Ptr info(EVP_PKEY2PKCS8(pkey));
  if (!info) return OpenSslError("encoding the private key as PKCS#8");
  unsigned char* der = nullptr;
  const int len = i2d_PKCS8_PRIV_KEY_INFO(info.get(), &der);
  if (len <= 0) return OpenSslError("encoding the private key as PKCS#8");
  Result<Bytes> digest = Digest(EVP_sha1(), ByteView(der, static_cast<size_t>(len)));
  OPENSSL_clear_free(der, static_cast<size_t>(len));
  if (!digest.ok()) return digest.status();
  return ColonHex(*digest);
}

Result<GeneratedKeyPair> GenerateRsa() {
  PkeyPtr pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  if (!pkey) return OpenSslError("generating an RSA key");
  GeneratedKeyPair out;
  ASSIGN_OR_RETURN(out.private_key, Pkcs1Pem(pkey.get()));
  ASSIGN_OR_RETURN(Bytes blob, RsaBlob(pkey.get()));
  out.public_key = OpenSshLine(kRsaType, blob);
  ASSIGN_OR_RETURN(out.fingerprint, Pkcs8Sha1Fingerprint(pkey.get()));
  return out;
}

// --- Ed25519 ---

Bytes Ed25519Blob(ByteView public_key) {
  Bytes blob;
  PutString(blob, AsBytes(kEd25519Type));
  PutString(blob, public_key);
  return blob;
}

std::string WrapPem(std::string_view label, std::string_view base64, size_t width) {
  std::string out = "-----BEGIN " + std::string(label) + "-----\n";
  for (size_t i = 0; i < base64.size(); i += width) {
    out.append(base64.substr(i, width));
    out += '\n';
  }
  return out + "-----END " + std::string(label) + "-----\n";
}

// OpenSSH's "openssh-key-v1" container (PROTOCOL.key), unencrypted, holding one key.
Result<std::string> OpenSshPrivateKey(ByteView seed, ByteView public_key) {
  uint8_t check[4];
  if (RAND_bytes(check, sizeof(check)) != 1) return OpenSslError("drawing a check integer");
  Bytes secret;  // the "private" section: wiped before it goes out of scope
  secret.insert(secret.end(), check, check + 4);
  secret.insert(secret.end(), check, check + 4);
  PutString(secret, AsBytes(kEd25519Type));
  PutString(secret, public_key);
  Bytes seed_and_public(seed.begin(), seed.end());
  seed_and_public.insert(seed_and_public.end(), public_key.begin(), public_key.end());
  PutString(secret, seed_and_public);
  OPENSSL_cleanse(seed_and_public.data(), seed_and_public.size());
  PutString(secret, {});  // comment
  for (uint8_t pad = 1; secret.size() % 8 != 0; ++pad) secret.push_back(pad);

  constexpr std::string_view kMagic("openssh-key-v1\0", 15);
  Bytes body(kMagic.begin(), kMagic.end());
  PutString(body, AsBytes("none"));  // cipher
  PutString(body, AsBytes("none"));  // kdf
  PutString(body, {});               // kdf options
  PutU32Be(body, 1);                 // number of keys
  PutString(body, Ed25519Blob(public_key));
  PutString(body, secret);
  OPENSSL_cleanse(secret.data(), secret.size());
  std::string text = WrapPem("OPENSSH PRIVATE KEY", Base64Encode(body), 70);
  OPENSSL_cleanse(body.data(), body.size());
  return text;
}

Result<GeneratedKeyPair> GenerateEd25519() {
  PkeyPtr pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!pkey) return OpenSslError("generating an Ed25519 key");
  Bytes seed(kEd25519KeyBytes), pub(kEd25519KeyBytes);
  size_t seed_len = seed.size(), pub_len = pub.size();
  if (EVP_PKEY_get_raw_private_key(pkey.get(), seed.data(), &seed_len) != 1 ||
      EVP_PKEY_get_raw_public_key(pkey.get(), pub.data(), &pub_len) != 1 ||
      seed_len != kEd25519KeyBytes || pub_len != kEd25519KeyBytes) {
    return OpenSslError("reading the Ed25519 key");
  }
  Result<std::string> pem = OpenSshPrivateKey(seed, pub);
  OPENSSL_cleanse(seed.data(), seed.size());
  if (!pem.ok()) return pem.status();
  const Bytes blob = Ed25519Blob(pub);
  ASSIGN_OR_RETURN(std::string fingerprint, Sha256Fingerprint(blob));
  return GeneratedKeyPair{.private_key = std::move(pem).value(),
                          .public_key = OpenSshLine(kEd25519Type, blob),
                          .fingerprint = std::move(fingerprint)};
}

// --- Import ---

// EC2's fingerprint of an imported RSA key: MD5 over the DER SubjectPublicKeyInfo.
Result<std::string> ImportedRsaFingerprint(ByteView e, ByteView n) {
  ASSIGN_OR_RETURN(Bytes der, RsaPublicKeyDer(e, n));
  ASSIGN_OR_RETURN(Bytes digest, Digest(EVP_md5(), der));
  return ColonHex(digest);
}

// A positive mpint without needless leading zeros, as OpenSSH writes them.
bool IsCanonicalPositiveMpint(ByteView m) {
  if (m.empty() || (m[0] & 0x80) != 0) return false;
  return m[0] != 0 || (m.size() > 1 && (m[1] & 0x80) != 0);
}

Result<std::string> CheckRsaBlob(SshReader& r) {
  ByteView e, n;
  if (!r.ReadString(e) || !r.ReadString(n) || !r.done()) return FormatError("truncated RSA key");
  if (!IsCanonicalPositiveMpint(e) || !IsCanonicalPositiveMpint(n)) {
    return FormatError("malformed RSA integers");
  }
  if (n[0] == 0) n = n.subspan(1);
  if (e[0] == 0) e = e.subspan(1);
  const size_t bits = n.size() * 8 - static_cast<size_t>(__builtin_clz(n[0]) - 24);
  if (bits < 1024 || bits > 4096) {
    return FormatError("RSA modulus of " + std::to_string(bits) + " bits; 1024 to 4096 allowed");
  }
  if ((e.back() & 1) == 0 || (e.size() == 1 && e[0] < 3)) return FormatError("bad RSA exponent");
  return ImportedRsaFingerprint(e, n);
}

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

Result<GeneratedKeyPair> GenerateKeyPair(std::string_view key_type) {
  if (key_type == "rsa") return GenerateRsa();
  if (key_type == "ed25519") return GenerateEd25519();
  return InvalidArgumentError("unknown key type " + std::string(key_type));
}

Result<ImportedPublicKey> ParseOpenSshPublicKey(std::string_view line) {
  while (!line.empty() && std::string_view(" \t\r\n").find(line.back()) != std::string_view::npos) {
    line.remove_suffix(1);
  }
  for (char c : line) {
    if ((c < 0x20 || c > 0x7e) && c != '\t') return FormatError("not a single line of text");
  }
  const std::vector<std::string_view> fields = SplitFields(line);
  if (fields.size() < 2) return FormatError("expected '<type> <base64> [comment]'");
  if (fields[0] != kRsaType && fields[0] != kEd25519Type) {
    return FormatError("unsupported key type '" + std::string(fields[0]) + "'");
  }
  Result<Bytes> blob = Base64Decode(fields[1]);
  if (!blob.ok()) return FormatError("bad base64");
  SshReader r(*blob);
  ByteView type;
  if (!r.ReadString(type) || AsString(type) != fields[0]) {
    return FormatError("key blob type does not match '" + std::string(fields[0]) + "'");
  }
  ImportedPublicKey out;
  out.public_key = std::string(fields[0]) + " " + std::string(fields[1]);
  // The comment is everything after the key, as written.
  if (fields.size() > 2)
    out.public_key += " " + std::string(line.substr(fields[2].data() - line.data()));
  if (fields[0] == kRsaType) {
    out.key_type = "rsa";
    ASSIGN_OR_RETURN(out.fingerprint, CheckRsaBlob(r));
    return out;
  }
  ByteView pub;
  if (!r.ReadString(pub) || !r.done() || pub.size() != kEd25519KeyBytes) {
    return FormatError("malformed Ed25519 key");
  }
  out.key_type = "ed25519";
  ASSIGN_OR_RETURN(out.fingerprint, Sha256Fingerprint(*blob));
  return out;
}

}  // namespace kiln::actions
