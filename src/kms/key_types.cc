#include "kms/key_types.h"

namespace kiln {

const char* KeyManagerName(KeyManager manager) {
  switch (manager) {
    case KeyManager::kCustomer:
      return "CUSTOMER";
    case KeyManager::kAws:
      return "AWS";
  }
  return "?";
}

const char* KeyStateName(KeyState state) {
  switch (state) {
    case KeyState::kEnabled:
      return "Enabled";
  }
  return "?";
}

}  // namespace kiln
