// The fixture the key pair action tests share: a catalog with two accounts (ActionsTest), the
// key pair actions on a manual clock, and calls through them.
#pragma once

#include <string>
#include <vector>

#include "actions/actions_testing.h"
#include "actions/key_pair_actions.h"
#include "actions/ssh_testing.h"
#include "crypto/base64.h"

namespace kiln::actions_testing {

class KeyPairTest : public ActionsTest {
 protected:
  Result<std::string> Call(const Caller& caller, const std::string& query) {
    return actions_testing::Call(actions_, caller, query);
  }
  Result<std::string> Call(const std::string& query) { return Call(owner_, query); }
  Result<std::string> Import(const std::string& name, const std::string& line,
                             const Caller* caller = nullptr) {
    return Call(caller ? *caller : owner_,
                "Action=ImportKeyPair&KeyName=" + Enc(name) +
                    "&PublicKeyMaterial=" + Enc(Base64Encode(AsBytes(line))));
  }

  void SetUp() override {
    ActionsTest::SetUp();
    actions_ = KeyPairActions(catalog(), key_clock_);  // after the catalog is open
  }

  ManualClock key_clock_;
  std::vector<Action> actions_;
};

}  // namespace kiln::actions_testing
