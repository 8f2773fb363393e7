// The wire protocol of spec/protocol.md as pure functions: client frames
// parsed into typed requests (or a {code, message} error), server frames
// built. No sockets here, so every rule is unit-tested without a network.
// The one error table lives here too: its code names, HTTP statuses and
// default messages are what every client sees.
//
// Thread safety: stateless; every function is safe from any thread.
//
// Example, written as a check:
//   auto f = parse_client_frame(R"({"type":"message","text":"hi","id":"m1"})", {});
//   CHECK(std::get<MessageRequest>(f).id == "m1");
#ifndef RUNBOT_BOT_SERVER_PROTOCOL_H_
#define RUNBOT_BOT_SERVER_PROTOCOL_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace runbot {

// --- the error table ------------------------------------------------------------

enum class ErrorCode { kBadJson, kBadRequest, kTooLong, kRateLimited, kOverloaded, kInternal };
inline constexpr size_t kErrorCodeCount = 6;

struct ErrorInfo {
  ErrorCode code;
  std::string_view name;     // the wire `code`
  int http_status;           // for POST /api/message
  std::string_view message;  // default human-readable text
};

const ErrorInfo& error_info(ErrorCode code);

// An error to send: code plus a message (the table's when empty).
struct WireError {
  ErrorCode code;
  std::string message;
};

// --- client to server -------------------------------------------------------------

struct HelloRequest {
  std::optional<std::string> session;  // as sent; may be unknown or malformed
  std::string client;                  // "web", "terminal", ... or ""
};

struct MessageRequest {
  std::string text;
  nlohmann::json id;  // string, integer or null when absent
};

struct ResetRequest {};

using ClientFrame = std::variant<HelloRequest, MessageRequest, ResetRequest, WireError>;

struct ProtocolLimits {
  size_t max_text_chars = 2000;  // longer text: too_long
  size_t max_id_bytes = 128;     // longer id: bad_request
};

// Parses one WebSocket text frame. Never throws.
ClientFrame parse_client_frame(std::string_view frame, const ProtocolLimits& limits);

// The body of POST /api/message: {"session"?, "text", "id"?}.
struct ApiMessageRequest {
  std::optional<std::string> session;
  MessageRequest message;
};

// Parses a POST /api/message body. Never throws.
std::variant<ApiMessageRequest, WireError> parse_api_message(std::string_view body, const ProtocolLimits& limits);

// Characters (code points) in valid UTF-8.
size_t utf8_length(std::string_view s);

// --- server to client -------------------------------------------------------------

// {"type":"session","session":token,"resumed":bool}; after a reset also
// "reset":true (an optional field, so old clients are unaffected).
std::string session_frame(const std::string& token, bool resumed, bool reset = false);

// {"type":"error","code":...,"message":...}.
nlohmann::json error_object(const WireError& e);
std::string error_frame(const WireError& e);
std::string error_frame(ErrorCode code);

}  // namespace runbot

#endif  // RUNBOT_BOT_SERVER_PROTOCOL_H_
