#include "crypto/rsa_encrypt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <memory>

#include "crypto/base64.h"
#include "crypto/openssl_ptr.h"

namespace kiln {
namespace {

template <auto Free>
using Deleter = OpenSslDeleter<Free>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;

Status OpenSslError(const std::string& what) {
  char buf[256] = {0};
  ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
  ERR_clear_error();
  return InternalError(what + ": " + buf);
}

// Reads one SSH wire string (RFC 4251: a big-endian u32 length, then the bytes).
bool ReadString(ByteView& in, ByteView& out) {
  if (in.size() < 4) return false;
  const uint32_t n =
      (uint32_t{in[0]} << 24) | (uint32_t{in[1]} << 16) | (uint32_t{in[2]} << 8) | uint32_t{in[3]};
  if (in.size() - 4 < n) return false;
  out = in.subspan(4, n);
  in = in.subspan(4 + n);
  return true;
}

// The (e, n) of an "ssh-rsa" line, as big-endian magnitudes.
Status ParseRsaLine(std::string_view line, Bytes& blob, ByteView& e, ByteView& n) {
  auto bad = [](const std::string& why) {
    return InvalidArgumentError("not an ssh-rsa key: " + why);
  };
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  const size_t sp = line.find_first_of(" \t");
  if (sp == std::string_view::npos || line.substr(0, sp) != "ssh-rsa") return bad("key type");
  std::string_view b64 = line.substr(sp + 1);
  while (!b64.empty() && (b64.front() == ' ' || b64.front() == '\t')) b64.remove_prefix(1);
  b64 = b64.substr(0, b64.find_first_of(" \t\r\n"));
  Result<Bytes> decoded = Base64Decode(b64);
  if (!decoded.ok()) return bad("base64");
  blob = std::move(decoded).value();
  ByteView in(blob.data(), blob.size()), type;
  if (!ReadString(in, type) ||
      std::string_view(reinterpret_cast<const char*>(type.data()), type.size()) != "ssh-rsa") {
    return bad("blob type");
  }
  if (!ReadString(in, e) || !ReadString(in, n) || !in.empty()) return bad("truncated blob");
  // mpints: a leading zero byte keeps a set high bit positive; a negative one is no key.
  if (e.empty() || n.empty() || (e[0] & 0x80) != 0 || (n[0] & 0x80) != 0) {
    return bad("malformed integers");
  }
  while (!n.empty() && n[0] == 0) n = n.subspan(1);
  while (!e.empty() && e[0] == 0) e = e.subspan(1);
  if (n.size() < 64 || e.empty()) return bad("modulus or exponent too small");
  return Status::Ok();
}

Result<PkeyPtr> RsaPublicKey(ByteView e, ByteView n) {
  BnPtr bn_e(BN_bin2bn(e.data(), static_cast<int>(e.size()), nullptr));
  BnPtr bn_n(BN_bin2bn(n.data(), static_cast<int>(n.size()), nullptr));
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bn_e || !bn_n || !bld ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get())) {
    return OpenSslError("building the RSA public key");
  }
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return OpenSslError("loading the RSA public key");
  }
  return PkeyPtr(raw);
}

}  // namespace

Result<Bytes> RsaPublicKeyDer(ByteView e, ByteView n) {
  ASSIGN_OR_RETURN(PkeyPtr pkey, RsaPublicKey(e, n));
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(pkey.get(), &der);
  if (len <= 0) return OpenSslError("encoding the RSA public key");
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

Result<Bytes> RsaPkcs1Encrypt(std::string_view openssh_line, ByteView message) {
  Bytes blob;
  ByteView e, n;
  RETURN_IF_ERROR(ParseRsaLine(openssh_line, blob, e, n));
  if (message.size() + 11 > n.size()) {
    return InvalidArgumentError("a message of " + std::to_string(message.size()) +
                                " bytes is too long for a " + std::to_string(n.size() * 8) +
                                "-bit RSA key");
  }
  ASSIGN_OR_RETURN(PkeyPtr key, RsaPublicKey(e, n));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  size_t len = 0;
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1 ||
      EVP_PKEY_encrypt(ctx.get(), nullptr, &len, message.data(), message.size()) != 1) {
    return OpenSslError("starting RSA encryption");
  }
  Bytes out(len);
  if (EVP_PKEY_encrypt(ctx.get(), out.data(), &len, message.data(), message.size()) != 1) {
    return OpenSslError("RSA encryption");
  }
  out.resize(len);
  return out;
}

Result<std::string> RsaPkcs1EncryptBase64(std::string_view openssh_line, ByteView message) {
  ASSIGN_OR_RETURN(Bytes ct, RsaPkcs1Encrypt(openssh_line, message));
  return Base64Encode(ByteView(ct.data(), ct.size()));
}

}  // namespace kiln
