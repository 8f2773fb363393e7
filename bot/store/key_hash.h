// The name a session is stored under: the hex SHA-256 of its token, so that
// a copy of the database (a SQLite file, a Redis dump or AOF) does not hand
// out live session tokens.
#ifndef RUNBOT_BOT_STORE_KEY_HASH_H_
#define RUNBOT_BOT_STORE_KEY_HASH_H_

#include <string>

namespace runbot {

// 64 lowercase hex digits.
std::string hashed_session_key(const std::string& token);

}  // namespace runbot

#endif  // RUNBOT_BOT_STORE_KEY_HASH_H_
