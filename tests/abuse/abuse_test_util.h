// Helpers of the abuse test cases (doctest): a `runbot serve` child on a
// free port with a temporary database, and the checks every case ends with
// (the server closed as RFC 6455 says; a normal client is still served).
#ifndef RUNBOT_TESTS_ABUSE_ABUSE_TEST_UTIL_H_
#define RUNBOT_TESTS_ABUSE_ABUSE_TEST_UTIL_H_

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/abuse/abuse_support.h"
#include "tests/abuse/raw_ws.h"
#include "tests/server/server_process.h"

namespace runbot::abuse {

using json = nlohmann::json;
using test::ServerProcess;
using test::TempDir;

struct Server {
  TempDir dir;
  ServerProcess process;
  explicit Server(std::vector<std::string> args = {})
      : process(test::serve_options(std::move(args), (dir.path / "runbot.db").string())) {}
  unsigned short port() const { return process.port(); }
  pid_t pid() const { return process.pid(); }
};

// A message frame's JSON.
inline std::string message(const std::string& text, const json& id = nullptr) {
  json j = {{"type", "message"}, {"text", text}};
  if (!id.is_null()) j["id"] = id;
  return j.dump();
}

// An open WebSocket; fails the test when the handshake does not give 101.
inline RawWs open_ws(unsigned short port) {
  RawWs ws;
  REQUIRE_MESSAGE(ws.open(port), "no WebSocket handshake with the server");
  return ws;
}

// The next text frame as a JSON object; fails the test if none comes.
inline json read_json(RawWs& ws, Millis timeout = 10s) {
  auto text = ws.read_text(timeout);
  REQUIRE_MESSAGE(text.has_value(), "no text frame from the server");
  json j = json::parse(*text, nullptr, false);
  REQUIRE_MESSAGE(j.is_object(), "not a JSON object: " << *text);
  return j;
}

// The next frame that is not a "session" frame.
inline json read_reply(RawWs& ws) {
  for (;;) {
    json j = read_json(ws);
    if (j.value("type", "") != "session") return j;
  }
}

// The next frame but session frames is the reply to `id`.
inline void check_reply_to(RawWs& ws, const json& id) {
  json r = read_reply(ws);
  CHECK_MESSAGE(r.value("type", "") == "reply", r.dump());
  CHECK(r.value("reply_to", json()) == id);
}

// Sends `frame` as one text frame and checks that the reply to `id` comes.
inline void check_answered(RawWs& ws, const std::string& frame, const json& id) {
  REQUIRE(ws.send_text(frame));
  check_reply_to(ws, id);
}

// Sends `frame` and checks that an error frame with `code` comes.
inline void check_error(RawWs& ws, const std::string& frame, const std::string& code) {
  REQUIRE(ws.send_text(frame));
  json e = read_json(ws);
  CHECK_MESSAGE(e.value("type", "") == "error", e.dump());
  CHECK_MESSAGE(e.value("code", "") == code, e.dump());
}

// After what the test sent, the server's close frame carries `code` and the
// server then closes the TCP connection; nothing else comes before it.
inline void check_closed_with(RawWs& ws, int code, const std::string& what) {
  CloseResult r = ws.read_until_close(10s);
  INFO(what);
  CHECK_MESSAGE(r.got_close, "no close frame");
  CHECK(r.code == code);
  CHECK_MESSAGE(r.eof, "the TCP connection stayed open after the close frame");
  for (const Frame& f : r.before) CHECK_MESSAGE(f.opcode == kPong, "unexpected frame before the close: " << f.payload);
}

// A new, well-behaved client is served: hello gets a session frame with a
// token, and a message gets its reply.
inline void check_serves(unsigned short port) {
  RawWs ws = open_ws(port);
  REQUIRE(ws.send_text(R"({"type":"hello","client":"test"})"));
  json s = read_json(ws);
  CHECK(s.value("type", "") == "session");
  CHECK(s.value("session", "").size() == 32);
  check_answered(ws, message("the back of my knee hurts after running", "alive"), "alive");
}

}  // namespace runbot::abuse

#endif  // RUNBOT_TESTS_ABUSE_ABUSE_TEST_UTIL_H_
