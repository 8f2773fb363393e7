// libFuzzer target: the client side of the wire protocol (spec/protocol.md).
// Any bytes a WebSocket client or a POST /api/message body can carry go to
// parse_client_frame and parse_api_message, which promise never to throw;
// whatever they return must then turn into a frame the server can send.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "bot/server/protocol.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using runbot::MessageRequest;
using runbot::ProtocolLimits;
using runbot::WireError;

void check_message(const MessageRequest& m, const ProtocolLimits& limits) {
  FUZZ_CHECK(runbot::utf8_length(m.text) <= limits.max_text_chars);
  FUZZ_CHECK(m.id.is_null() || m.id.is_number_integer() ||
             (m.id.is_string() && m.id.get_ref<const std::string&>().size() <= limits.max_id_bytes));
  // The id is echoed in the reply: it must serialise.
  (void)nlohmann::json{{"reply_to", m.id}}.dump();
}

void check_error(const WireError& e) {
  FUZZ_CHECK(static_cast<size_t>(e.code) < runbot::kErrorCodeCount);
  // Error frames are sent as they are: dump() must not throw (valid UTF-8).
  (void)runbot::error_frame(e);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // The server's defaults, and tight limits so that the too_long and id
  // length paths are reached by short inputs too.
  for (const ProtocolLimits& limits : {ProtocolLimits{}, ProtocolLimits{8, 4}}) {
    auto frame = runbot::parse_client_frame(input, limits);
    if (auto* m = std::get_if<MessageRequest>(&frame)) check_message(*m, limits);
    if (auto* h = std::get_if<runbot::HelloRequest>(&frame)) {
      if (h->session) (void)runbot::session_frame(*h->session, false);
    }
    if (auto* e = std::get_if<WireError>(&frame)) check_error(*e);

    auto api = runbot::parse_api_message(input, limits);
    if (auto* r = std::get_if<runbot::ApiMessageRequest>(&api)) check_message(r->message, limits);
    if (auto* e = std::get_if<WireError>(&api)) check_error(*e);
  }
  return 0;
}
