// RunbotClient: one turn with runbot over POST /api/message
// (shared/spec/protocol.md): {"session","text","id"} -> the reply object
// plus "session". Each turn carries a stable client "id", so a retry after
// a lost reply gets the server's stored reply instead of a second run of
// the turn.
//
// Thread safety: one thread at a time per RunbotClient (it owns a connection).
#ifndef RUNBOT_BOT_BRIDGES_RUNBOT_CLIENT_H_
#define RUNBOT_BOT_BRIDGES_RUNBOT_CLIENT_H_

#include <chrono>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "bot/bridges/http_client.h"
#include "bot/bridges/url.h"

namespace runbot::telegram {

struct RunbotReply {
  std::string session;  // the session token to send next time
  std::string text;
  std::vector<std::string> quick_replies;
};

enum class RunbotOutcome {
  kOk,         // `reply` is set
  kRetry,      // may pass (5xx, 429, dropped, timeout, malformed reply): retry with the same id
  kRejected,   // HTTP 400: this text will never be accepted (`error_code` says why)
  kCancelled,  // the stop token was requested
};

struct RunbotCall {
  RunbotOutcome outcome = RunbotOutcome::kRetry;
  RunbotReply reply;                        // kOk
  std::string error_code;                   // kRejected, kRetry: the server's code ("too_long") or what failed
  std::optional<std::chrono::seconds> retry_after;  // kRetry after a 429 or 503 with Retry-After
};

// What an HTTP response of POST /api/message means. Pure; exposed for tests.
RunbotCall classify_runbot_response(int status, std::string_view body, std::string_view retry_after_header);

class RunbotClient {
 public:
  RunbotClient(Url server, HttpClientOptions http);

  // One attempt. `session` empty: runbot starts a new session (its token
  // comes back in the reply).
  RunbotCall send(const std::string& session, std::string_view text, std::string_view id,
                  std::chrono::milliseconds timeout, std::stop_token stop);

 private:
  HttpClient http_;
};

}  // namespace runbot::telegram

#endif  // RUNBOT_BOT_BRIDGES_RUNBOT_CLIENT_H_
