#include "cloud/password.h"

#include <spdlog/spdlog.h>

#include "cloud/cloud.h"
#include "crypto/rsa_encrypt.h"

namespace kiln {

std::function<Status(const std::string&, const std::string&)> PasswordDataSink(
    Cloud& cloud, const Instance& instance) {
  return [&cloud, id = instance.instance_id, owner = instance.owner_id,
          key_name = instance.key_name](const std::string& user,
                                        const std::string& password) -> Status {
    if (key_name.empty()) {
      spdlog::info("instance {}: a password was generated for {}; no key pair to encrypt it for",
                   id, user);
      return Status::Ok();
    }
    Result<KeyPair> key = cloud.catalog().key_pairs().FindByName(owner, key_name);
    if (!key.ok() && key.status().code() != Code::kNotFound) return key.status();
    if (!key.ok() || key->key_type != "rsa") {
      // EC2 has no password data for an Ed25519 key pair (or a deleted one).
      spdlog::info("instance {}: a password was generated for {}; key pair {} is {}", id, user,
                   key_name, key.ok() ? "not RSA" : "gone");
      return Status::Ok();
    }
    Result<std::string> data = RsaPkcs1EncryptBase64(key->public_key, AsBytes(password));
    if (!data.ok()) {
      return data.status().Annotate("encrypting the password of " + id + " for key pair " +
                                    key_name);
    }
    RETURN_IF_ERROR(cloud.catalog().password_data().Put(PasswordData{id, *data, cloud.Now()}));
    spdlog::info("instance {}: password data for {} stored (key pair {})", id, user, key_name);
    return Status::Ok();
  };
}

}  // namespace kiln
