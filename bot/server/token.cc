#include "bot/server/token.h"

#include <sys/random.h>

#include <cerrno>
#include <stdexcept>

namespace runbot {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

bool is_base64url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

}  // namespace

std::string new_session_token() {
  unsigned char bytes[kTokenBytes];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("getrandom failed");
    }
    got += static_cast<size_t>(n);
  }
  // 24 bytes = 8 groups of 3 bytes = 32 characters, no padding.
  std::string out;
  out.reserve(kTokenChars);
  for (size_t i = 0; i < sizeof bytes; i += 3) {
    unsigned v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    for (int shift = 18; shift >= 0; shift -= 6) out += kAlphabet[(v >> shift) & 63];
  }
  return out;
}

bool is_well_formed_token(std::string_view s) {
  if (s.size() != kTokenChars) return false;
  for (char c : s)
    if (!is_base64url(c)) return false;
  return true;
}

}  // namespace runbot
