// Logging for the server: one JSON object per line on stderr, e.g.
//   {"ts":"2026-11-26T10:00:00.123Z","level":"info","event":"listening","port":8080}
// Callers pass an event name and fields; never message text (privacy: the
// log holds what happened, not what users wrote).
//
// Thread safety: log_event() may be called from any thread; lines never mix.
#ifndef RUNBOT_BOT_SERVER_LOG_H_
#define RUNBOT_BOT_SERVER_LOG_H_

#include <nlohmann/json.hpp>
#include <string_view>

namespace runbot {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Lines below `level` are dropped. Default kInfo.
void set_log_level(LogLevel level);

void log_event(LogLevel level, std::string_view event, nlohmann::json fields = nlohmann::json::object());

}  // namespace runbot

#endif  // RUNBOT_BOT_SERVER_LOG_H_
