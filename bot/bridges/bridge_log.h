// BridgeLog: the bridge's log, one JSON object per line on stderr in the
// server's shape: {"ts":"2026-11-26T10:00:00.123Z","level":"info","event":"...",...}.
//
// Every finished line is scrubbed of the secrets the log was given (the bot
// token) just before it is written. Callers still log only redacted URLs;
// the scrub is the backstop that makes "the token is never logged" hold
// even for an error text nobody thought about. Message text is never logged
// (privacy): only ids, counts and outcomes.
//
// Thread safety: all methods may be called from any thread; lines never mix.
#ifndef RUNBOT_BOT_BRIDGES_BRIDGE_LOG_H_
#define RUNBOT_BOT_BRIDGES_BRIDGE_LOG_H_

#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace runbot::telegram {

enum class Level { kDebug, kInfo, kWarn, kError };

// Receives each line without its '\n'. Must not call back into the log.
using LogSink = std::function<void(std::string_view line)>;

// `text` with every occurrence of each non-empty secret replaced by "<redacted>".
std::string redact(std::string text, const std::vector<std::string>& secrets);

// What to scrub for a bot token "123456:AAEk...": the whole token and its
// secret part after ':' (the part that matters, and the part that survives
// when the ':' is percent-encoded as %3A).
std::vector<std::string> token_secrets(std::string_view token);

class BridgeLog {
 public:
  // An empty sink writes to stderr, one flushed write per line.
  explicit BridgeLog(std::vector<std::string> secrets, LogSink sink = {}, Level min_level = Level::kInfo);

  void write(Level level, std::string_view event, nlohmann::json fields = nlohmann::json::object());
  void debug(std::string_view event, nlohmann::json fields = nlohmann::json::object());
  void info(std::string_view event, nlohmann::json fields = nlohmann::json::object());
  void warn(std::string_view event, nlohmann::json fields = nlohmann::json::object());
  void error(std::string_view event, nlohmann::json fields = nlohmann::json::object());

 private:
  const std::vector<std::string> secrets_;
  const LogSink sink_;
  const Level min_level_;
  std::mutex mu_;  // one line at a time
};

}  // namespace runbot::telegram

#endif  // RUNBOT_BOT_BRIDGES_BRIDGE_LOG_H_
