#include "bot/bridges/runbot_client.h"

#include <nlohmann/json.hpp>

namespace runbot::telegram {
namespace {

using json = nlohmann::json;

RunbotCall retry(std::string why) {
  RunbotCall c;
  c.outcome = RunbotOutcome::kRetry;
  c.error_code = std::move(why);
  return c;
}

// The server's error code ("too_long") from an {"type":"error","code":...} body.
std::string error_code_of(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_object()) {
    auto code = j.find("code");
    if (code != j.end() && code->is_string()) return code->get<std::string>();
  }
  return "";
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view header) {
  if (header.empty() || header.size() > 6) return std::nullopt;
  int seconds = 0;
  for (char c : header) {
    if (c < '0' || c > '9') return std::nullopt;  // the HTTP-date form: fall back to backoff
    seconds = seconds * 10 + (c - '0');
  }
  return std::chrono::seconds(seconds);
}

}  // namespace

RunbotCall classify_runbot_response(int status, std::string_view body, std::string_view retry_after_header) {
  if (status == 400 || status == 413) {
    RunbotCall c;
    c.outcome = RunbotOutcome::kRejected;
    c.error_code = status == 413 ? "too_long" : error_code_of(body);
    if (c.error_code.empty()) c.error_code = "bad_request";
    return c;
  }
  if (status != 200) {
    std::string code = error_code_of(body);
    if (code.empty()) {
      code = "http_";
      code += std::to_string(status);
    }
    RunbotCall c = retry(std::move(code));
    if (status == 429 || status == 503) c.retry_after = parse_retry_after(retry_after_header);
    return c;
  }
  json j = json::parse(body, nullptr, false);
  if (!j.is_object()) return retry("malformed_reply");
  auto text = j.find("text");
  auto session = j.find("session");
  if (text == j.end() || !text->is_string() || session == j.end() || !session->is_string() ||
      session->get_ref<const std::string&>().empty())
    return retry("malformed_reply");
  RunbotCall c;
  c.outcome = RunbotOutcome::kOk;
  c.reply.text = text->get<std::string>();
  c.reply.session = session->get<std::string>();
  if (auto qr = j.find("quick_replies"); qr != j.end() && qr->is_array()) {
    for (const json& r : *qr)
      if (r.is_string()) c.reply.quick_replies.push_back(r.get<std::string>());
  }
  return c;
}

RunbotClient::RunbotClient(Url server, HttpClientOptions http) : http_(std::move(server), std::move(http)) {}

RunbotCall RunbotClient::send(const std::string& session, std::string_view text, std::string_view id,
                              std::chrono::milliseconds timeout, std::stop_token stop) {
  json body = {{"text", text}, {"id", id}};
  body["session"] = session.empty() ? json(nullptr) : json(session);
  HttpResult r =
      http_.post_json("/api/message", body.dump(-1, ' ', false, json::error_handler_t::replace), timeout, std::move(stop));
  if (r.error == HttpError::kCancelled) {
    RunbotCall c;
    c.outcome = RunbotOutcome::kCancelled;
    return c;
  }
  if (!r.ok()) return retry(to_string(r.error));
  return classify_runbot_response(r.response.status, r.response.body, r.response.retry_after);
}

}  // namespace runbot::telegram
