#include "bot/server/protocol.h"

#include <array>

namespace runbot {
namespace {

using json = nlohmann::json;

constexpr std::array<ErrorInfo, kErrorCodeCount> kErrors{{
    {ErrorCode::kBadJson, "bad_json", 400, "the frame is not valid JSON"},
    {ErrorCode::kBadRequest, "bad_request", 400, "a field is missing or has the wrong type"},
    {ErrorCode::kTooLong, "too_long", 400, "the text is longer than the limit"},
    {ErrorCode::kRateLimited, "rate_limited", 429, "too many messages; slow down"},
    {ErrorCode::kOverloaded, "overloaded", 503, "the server is busy; try again shortly"},
    {ErrorCode::kInternal, "internal", 500, "something went wrong on our side; try again"},
}};

WireError bad_request(std::string message) { return {ErrorCode::kBadRequest, std::move(message)}; }

// Parses an object or returns the error to send for it.
std::variant<json, WireError> parse_object(std::string_view text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    return WireError{ErrorCode::kBadJson, "not valid JSON (at byte " + std::to_string(e.byte) + ")"};
  } catch (const json::exception&) {
    // A number beyond a double's range (1e999) is thrown as out_of_range,
    // not parse_error (found by tests/fuzz/protocol_frame_fuzzer).
    return WireError{ErrorCode::kBadJson, "not valid JSON (a number is out of range)"};
  }
  if (!j.is_object()) return bad_request("a frame must be a JSON object");
  return j;
}

// `session` of hello or the POST body: absent, null or a string.
std::optional<WireError> read_session(const json& j, std::optional<std::string>* out) {
  auto it = j.find("session");
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) return bad_request("session must be a string");
  *out = it->get<std::string>();
  return std::nullopt;
}

std::optional<WireError> read_message(const json& j, const ProtocolLimits& limits, MessageRequest* out) {
  auto text = j.find("text");
  if (text == j.end()) return bad_request("text is missing");
  if (!text->is_string()) return bad_request("text must be a string");
  out->text = text->get<std::string>();
  if (out->text.find_first_not_of(" \t\r\n") == std::string::npos) return bad_request("text is empty");
  if (utf8_length(out->text) > limits.max_text_chars)
    return WireError{ErrorCode::kTooLong,
                     "text is longer than " + std::to_string(limits.max_text_chars) + " characters"};
  auto id = j.find("id");
  if (id != j.end() && !id->is_null()) {
    if (id->is_string()) {
      if (id->get_ref<const std::string&>().size() > limits.max_id_bytes)
        return bad_request("id is longer than " + std::to_string(limits.max_id_bytes) + " bytes");
    } else if (!id->is_number_integer()) {
      return bad_request("id must be a string or an integer");
    }
    out->id = *id;
  }
  return std::nullopt;
}

}  // namespace

const ErrorInfo& error_info(ErrorCode code) { return kErrors[static_cast<size_t>(code)]; }

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

ClientFrame parse_client_frame(std::string_view frame, const ProtocolLimits& limits) {
  auto parsed = parse_object(frame);
  if (auto* e = std::get_if<WireError>(&parsed)) return *e;
  const json& j = std::get<json>(parsed);
  auto type = j.find("type");
  if (type == j.end() || !type->is_string()) return bad_request("type is missing or not a string");
  const std::string& t = type->get_ref<const std::string&>();
  if (t == "message") {
    MessageRequest m;
    if (auto e = read_message(j, limits, &m)) return *e;
    return m;
  }
  if (t == "hello") {
    HelloRequest h;
    if (auto e = read_session(j, &h.session)) return *e;
    if (auto c = j.find("client"); c != j.end() && !c->is_null()) {
      if (!c->is_string()) return bad_request("client must be a string");
      h.client = c->get<std::string>();
    }
    return h;
  }
  if (t == "reset") return ResetRequest{};
  // The type is not echoed: it could be anything the client sent.
  return bad_request("unknown type; expected hello, message or reset");
}

std::variant<ApiMessageRequest, WireError> parse_api_message(std::string_view body, const ProtocolLimits& limits) {
  auto parsed = parse_object(body);
  if (auto* e = std::get_if<WireError>(&parsed)) return *e;
  const json& j = std::get<json>(parsed);
  ApiMessageRequest r;
  if (auto e = read_session(j, &r.session)) return *e;
  if (auto e = read_message(j, limits, &r.message)) return *e;
  return r;
}

std::string session_frame(const std::string& token, bool resumed, bool reset) {
  json j = {{"type", "session"}, {"session", token}, {"resumed", resumed}};
  if (reset) j["reset"] = true;
  return j.dump();
}

json error_object(const WireError& e) {
  const ErrorInfo& info = error_info(e.code);
  return {{"type", "error"},
          {"code", info.name},
          {"message", e.message.empty() ? std::string(info.message) : e.message}};
}

std::string error_frame(const WireError& e) { return error_object(e).dump(); }
std::string error_frame(ErrorCode code) { return error_frame(WireError{code, ""}); }

}  // namespace runbot
