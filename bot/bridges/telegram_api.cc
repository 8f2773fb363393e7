#include "bot/bridges/telegram_api.h"

#include "bot/bridges/telegram_types.h"

namespace runbot::telegram {
namespace {

// Long polls get this much longer than the time Telegram holds them, so the
// answer "no updates" is not mistaken for a dead connection.
constexpr std::chrono::seconds kPollMargin{10};

Outcome outcome_for_status(int status) {
  if (status == 429) return Outcome::kRetryAfter;
  if (status == 401 || status == 404) return Outcome::kUnauthorized;
  // 409: another getUpdates (a second bridge) or a webhook is set. Possibly
  // the old instance during a deploy: worth retrying, not worth dying for.
  if (status == 409 || status >= 500 || status < 400) return Outcome::kTransient;
  return Outcome::kRejected;
}

}  // namespace

const char* to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk: return "ok";
    case Outcome::kRetryAfter: return "retry_after";
    case Outcome::kTransient: return "transient";
    case Outcome::kRejected: return "rejected";
    case Outcome::kUnauthorized: return "unauthorized";
    case Outcome::kCancelled: return "cancelled";
  }
  return "unknown";
}

ApiCall classify_api_response(int status, std::string_view body) {
  ApiCall call;
  auto parsed = parse_api_result(body);
  if (!parsed) {
    // Not the Bot API's JSON (a proxy's error page, a cut body): judge by
    // the status alone. A 200 with garbage is retried: nothing says it worked.
    call.outcome = status == 200 ? Outcome::kTransient : outcome_for_status(status);
    if (call.outcome == Outcome::kRetryAfter) call.retry_after = 1;
    return call;
  }
  if (parsed->ok) {
    call.outcome = Outcome::kOk;
    call.result = std::move(parsed->result);
    return call;
  }
  int code = parsed->error_code != 0 ? parsed->error_code : status;
  call.outcome = outcome_for_status(code == 200 ? 500 : code);
  if (call.outcome == Outcome::kRetryAfter) call.retry_after = parsed->retry_after.value_or(1);
  return call;
}

TelegramApi::TelegramApi(Url api_base, std::string token, HttpClientOptions http, BridgeLog* log)
    : http_(std::move(api_base), std::move(http)), token_(std::move(token)), log_(log) {}

std::string TelegramApi::redacted_url(std::string_view method) const {
  std::string url = http_.origin().to_string();
  url += "/bot<redacted>/";
  url += method;
  return url;
}

ApiCall TelegramApi::get_updates(int64_t offset, int timeout_s, std::stop_token stop) {
  nlohmann::json params = {{"offset", offset},
                           {"timeout", timeout_s},
                           {"limit", 100},
                           {"allowed_updates", {"message", "callback_query"}}};
  return call("getUpdates", params, std::chrono::seconds(timeout_s) + kPollMargin, std::move(stop));
}

ApiCall TelegramApi::send_message(int64_t chat_id, std::string_view text, const nlohmann::json& keyboard,
                                  std::chrono::milliseconds timeout, std::stop_token stop) {
  nlohmann::json params = {{"chat_id", chat_id}, {"text", text}};
  if (!keyboard.is_null()) params["reply_markup"] = keyboard;
  return call("sendMessage", params, timeout, std::move(stop));
}

ApiCall TelegramApi::answer_callback_query(std::string_view callback_id, std::string_view text,
                                           std::chrono::milliseconds timeout, std::stop_token stop) {
  nlohmann::json params = {{"callback_query_id", callback_id}};
  if (!text.empty()) params["text"] = text;
  return call("answerCallbackQuery", params, timeout, std::move(stop));
}

ApiCall TelegramApi::call(std::string_view method, const nlohmann::json& params, std::chrono::milliseconds timeout,
                          std::stop_token stop) {
  std::string target = "/bot";
  target += token_;
  target += '/';
  target += method;
  // replace: text cut by a buggy peer must not turn into an exception here.
  std::string body = params.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  HttpResult r = http_.post_json(target, body, timeout, std::move(stop));
  if (r.error == HttpError::kCancelled) return {Outcome::kCancelled, nullptr, 0};
  if (!r.ok()) {
    log_->warn("telegram_failed",
               {{"method", method}, {"url", redacted_url(method)}, {"error", to_string(r.error)}, {"detail", r.detail}});
    return {Outcome::kTransient, nullptr, 0};
  }
  ApiCall c = classify_api_response(r.response.status, r.response.body);
  if (c.outcome != Outcome::kOk) {
    auto parsed = parse_api_result(r.response.body);
    nlohmann::json fields = {{"method", method},
                             {"url", redacted_url(method)},
                             {"status", r.response.status},
                             {"outcome", to_string(c.outcome)}};
    if (parsed) {
      fields["description"] = parsed->description.substr(0, 200);
    } else {
      fields["body"] = "not Bot API JSON";
    }
    if (c.outcome == Outcome::kRetryAfter) fields["retry_after"] = c.retry_after;
    log_->write(c.outcome == Outcome::kUnauthorized ? Level::kError : Level::kWarn, "telegram_failed", fields);
  }
  return c;
}

}  // namespace runbot::telegram
