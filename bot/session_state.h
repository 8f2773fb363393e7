// SessionState: everything runbot remembers about one conversation. A small
// value; round-trips through JSON so any store (memory, SQLite, Redis) can
// keep it and any server instance can resume it. Holds slots, never the
// user's message text.
#ifndef RUNBOT_BOT_SESSION_STATE_H_
#define RUNBOT_BOT_SESSION_STATE_H_

#include <nlohmann/json.hpp>
#include <string>

#include "dialogs/dialog_engine.h"

namespace runbot {

struct SessionState {
  static constexpr int kVersion = 1;
  DialogState dialog;
  int turns = 0;

  bool operator==(const SessionState&) const = default;
};

nlohmann::json to_json(const SessionState& s);
// Never throws: a state that is not valid JSON of this shape (corrupt,
// foreign or from a newer version) yields a fresh session and sets *ok false.
SessionState session_state_from_json(const nlohmann::json& j, bool* ok = nullptr);
SessionState session_state_from_string(std::string_view text, bool* ok = nullptr);

}  // namespace runbot

#endif  // RUNBOT_BOT_SESSION_STATE_H_
