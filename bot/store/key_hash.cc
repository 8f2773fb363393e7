#include "bot/store/key_hash.h"

#include <openssl/evp.h>

#include <cstdio>

namespace runbot {

std::string hashed_session_key(const std::string& token) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(token.data(), token.size(), digest, &len, EVP_sha256(), nullptr) != 1) return token;
  std::string out;
  out.reserve(2 * len);
  char hex[3];
  for (unsigned i = 0; i < len; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", digest[i]);
    out += hex;
  }
  return out;
}

}  // namespace runbot
