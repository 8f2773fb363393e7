// Session tokens: the secret that names a session. 192 bits from the
// kernel's CSPRNG (getrandom), written as 32 base64url characters, so a
// token can be neither guessed nor enumerated.
//
// Thread safety: both functions are safe to call from any thread.
#ifndef RUNBOT_BOT_SERVER_TOKEN_H_
#define RUNBOT_BOT_SERVER_TOKEN_H_

#include <string>
#include <string_view>

namespace runbot {

inline constexpr size_t kTokenBytes = 24;
inline constexpr size_t kTokenChars = 32;

// A fresh token. Throws std::runtime_error if the OS has no randomness to
// give (never returns a weak token instead).
std::string new_session_token();

// True iff `s` has the shape new_session_token() produces. Anything else
// (too short, other characters) is never even looked up.
bool is_well_formed_token(std::string_view s);

}  // namespace runbot

#endif  // RUNBOT_BOT_SERVER_TOKEN_H_
