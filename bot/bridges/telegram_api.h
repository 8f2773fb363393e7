// TelegramApi: the three Bot API methods the bridge calls (getUpdates,
// sendMessage, answerCallbackQuery) over one HttpClient, each reduced to an
// Outcome that says what the caller should do next.
//
// The token goes into request targets only ("/bot<token>/sendMessage").
// redacted_url() is what logs show instead.
//
// Thread safety: one thread at a time per TelegramApi (it owns a connection).
#ifndef RUNBOT_BOT_BRIDGES_TELEGRAM_API_H_
#define RUNBOT_BOT_BRIDGES_TELEGRAM_API_H_

#include <chrono>
#include <nlohmann/json.hpp>
#include <stop_token>
#include <string>
#include <vector>

#include "bot/bridges/bridge_log.h"
#include "bot/bridges/http_client.h"
#include "bot/bridges/url.h"

namespace runbot::telegram {

enum class Outcome {
  kOk,            // `result` holds the method's result
  kRetryAfter,    // 429: wait `retry_after` seconds, then retry
  kTransient,     // 5xx, 409, a dropped connection, a timeout, malformed JSON: back off and retry
  kRejected,      // another 4xx (chat not found, bot blocked, bad request): retrying will not help
  kUnauthorized,  // 401 or 404: the token (or --api-base) is wrong; nothing will work
  kCancelled,     // the stop token was requested
};

const char* to_string(Outcome outcome);

struct ApiCall {
  Outcome outcome = Outcome::kTransient;
  nlohmann::json result;  // kOk
  int retry_after = 0;    // kRetryAfter, seconds
};

// What an HTTP exchange with the Bot API means, from its status and body.
// Pure; exposed for tests.
ApiCall classify_api_response(int status, std::string_view body);

class TelegramApi {
 public:
  // `log` must outlive this object.
  TelegramApi(Url api_base, std::string token, HttpClientOptions http, BridgeLog* log);

  // Long polling: returns when updates arrive or after `timeout_s` seconds.
  // Only message and callback_query updates are asked for.
  ApiCall get_updates(int64_t offset, int timeout_s, std::stop_token stop);
  // Plain text (no parse_mode), with `keyboard` (from inline_keyboard())
  // as reply_markup unless it is null.
  ApiCall send_message(int64_t chat_id, std::string_view text, const nlohmann::json& keyboard,
                       std::chrono::milliseconds timeout, std::stop_token stop);
  // Stops the button's spinner; `text`, if not empty, shows as a notice.
  ApiCall answer_callback_query(std::string_view callback_id, std::string_view text,
                                std::chrono::milliseconds timeout, std::stop_token stop);

  // "https://api.telegram.org/bot<redacted>/getUpdates": loggable.
  std::string redacted_url(std::string_view method) const;

 private:
  ApiCall call(std::string_view method, const nlohmann::json& params, std::chrono::milliseconds timeout,
               std::stop_token stop);

  HttpClient http_;
  const std::string token_;
  BridgeLog* const log_;
};

}  // namespace runbot::telegram

#endif  // RUNBOT_BOT_BRIDGES_TELEGRAM_API_H_
