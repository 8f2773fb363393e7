// Black-box tests of issue 3's bad-input table, one case per row, over real
// sockets against `runbot serve`: what each kind of bad input gets, and
// that the server and other clients carry on.
#include <doctest/doctest.h>
#include <sqlite3.h>

#include <algorithm>
#include <memory>
#include <thread>
#include <vector>

#include "tests/server/server_process.h"
#include "tests/server/test_client.h"

namespace runbot::test {
namespace {

using json = nlohmann::json;

const std::string kPain = "the back of my knee hurts after running";

json message(const std::string& text, json id = nullptr) {
  json j = {{"type", "message"}, {"text", text}};
  if (!id.is_null()) j["id"] = id;
  return j;
}

struct Server {
  TempDir dir;
  ServerProcess process;
  explicit Server(std::vector<std::string> args = {})
      : process(serve_options(std::move(args), (dir.path / "runbot.db").string())) {}
  unsigned short port() const { return process.port(); }
  std::string db() const { return (dir.path / "runbot.db").string(); }
};

json read_reply_to(WsClient& c, const json& m) {
  c.send_json(m);
  return read_reply(c);
}

// After an error frame the connection still works.
void check_still_open(WsClient& c) { CHECK(read_reply_to(c, message("hello there", "after"))["reply_to"] == "after"); }

}  // namespace

TEST_SUITE("bad input") {

TEST_CASE("malformed JSON gets error bad_json and the connection stays open") {
  Server s;
  WsClient c;
  REQUIRE(c.connect(s.port()) == 101);
  for (std::string frame : {"{", "hello", "{\"type\":\"message\",}", "", "[1,"}) {
    c.send(frame);
    json e = c.read_json();
    CHECK(e["type"] == "error");
    CHECK(e["code"] == "bad_json");
    CHECK(e["message"].is_string());
  }
  check_still_open(c);
}

TEST_CASE("wrong field types get error bad_request and the connection stays open") {
  Server s;
  WsClient c;
  REQUIRE(c.connect(s.port()) == 101);
  for (json frame : {json{{"type", "message"}, {"text", 5}}, json{{"type", "message"}},
                     json{{"type", "message"}, {"text", "hi"}, {"id", json::object()}},
                     json{{"type", "hello"}, {"session", 12}}, json{{"type", 1}}, json::array()}) {
    json e = c.request(frame);
    CHECK(e["type"] == "error");
    CHECK(e["code"] == "bad_request");
  }
  check_still_open(c);
}

TEST_CASE("an unknown type gets error bad_request and the connection stays open") {
  Server s;
  WsClient c;
  REQUIRE(c.connect(s.port()) == 101);
  json e = c.request({{"type", "subscribe"}, {"text", "hi"}});
  CHECK(e["code"] == "bad_request");
  CHECK(e["message"] == "unknown type; expected hello, message or reset");
  check_still_open(c);
}

TEST_CASE("text over 2,000 characters gets error too_long but 2,000 are answered") {
  Server s;
  WsClient c;
  REQUIRE(c.connect(s.port()) == 101);
  CHECK(c.request(message(std::string(2001, 'a')))["code"] == "too_long");
  CHECK(read_reply_to(c, message(std::string(2000, 'a'), 1))["reply_to"] == 1);
}

TEST_CASE("a frame over 16 KiB is closed with 1009") {
  Server s;
  WsClient c;
  REQUIRE(c.connect(s.port()) == 101);
  c.send(message(std::string(1000, 'a')).dump() + std::string(16 * 1024, ' '));
  CHECK(c.read_until_closed().empty());
  CHECK(c.close_code() == 1009);
}

TEST_CASE("a binary frame gets error bad_request and the connection stays open") {
  Server s;
  WsClient c;
  REQUIRE(c.connect(s.port()) == 101);
  c.send(message("hi").dump(), /*binary=*/true);
  json e = c.read_json();
  CHECK(e["code"] == "bad_request");
  CHECK(e["message"] == "binary frames are not accepted; send JSON text");
  check_still_open(c);
}

TEST_CASE("invalid UTF-8 in a text frame is closed with 1007") {
  Server s;
  WsClient c;
  REQUIRE(c.connect(s.port()) == 101);
  c.send("{\"type\":\"message\",\"text\":\"\xff\xfe\"}");
  CHECK(c.read_until_closed().empty());
  CHECK(c.close_code() == 1007);
}

TEST_CASE("messages over the rate get error rate_limited and a sustained flood is closed with 1008") {
  Server s({"--rate-limit", "0.5"});
  WsClient c;
  REQUIRE(c.connect(s.port()) == 101);
  for (int i = 0; i < 80; ++i) c.send_json(message("hi", i));
  int replies = 0, limited = 0;
  for (const std::string& frame : c.read_until_closed()) {
    json j = json::parse(frame);
    if (j["type"] == "reply") ++replies;
    if (j["type"] == "error" && j["code"] == "rate_limited") ++limited;
  }
  // The burst, then refusals up to the flood limit (a token may refill
  // meanwhile on a slow machine).
  CHECK(replies >= 20);
  CHECK(replies <= 25);
  CHECK(limited >= 20);
  CHECK(c.close_code() == 1008);

  // Other sessions are not limited by this one.
  WsClient other;
  REQUIRE(other.connect(s.port()) == 101);
  CHECK(read_reply_to(other, message("hi", "x"))["reply_to"] == "x");
}

TEST_CASE("POST /api/message over the rate gets HTTP 429 with error rate_limited") {
  Server s({"--rate-limit", "0.5", "--rate-burst", "2"});
  auto post = [&](json body) { return http_request(s.port(), http::verb::post, "/api/message", body.dump()); };
  std::string token = post({{"text", "hi"}}).json()["session"];
  CHECK(post({{"session", token}, {"text", "hi"}}).status == 200);
  HttpResult limited = post({{"session", token}, {"text", "hi"}});
  CHECK(limited.status == 429);
  CHECK(limited.json()["code"] == "rate_limited");
  CHECK(post({{"text", "a new session has its own allowance"}}).status == 200);
}

TEST_CASE("--rate-limit 0 turns the limit off") {
  Server s({"--rate-limit", "0"});
  WsClient c;
  REQUIRE(c.connect(s.port()) == 101);
  for (int i = 0; i < 40; ++i) c.send_json(message("hi", i));
  read_reply(c);
  for (int i = 1; i < 40; ++i) CHECK(c.read_json()["reply_to"] == i);
}

TEST_CASE("a handshake from an Origin not allowed gets HTTP 403") {
  Server s({"--allow-origin", "https://widget.example.com"});
  WsClient evil;
  CHECK(evil.connect(s.port(), {{"Origin", "https://evil.example.com"}}) == 403);
  WsClient null_origin;
  CHECK(null_origin.connect(s.port(), {{"Origin", "null"}}) == 403);
  for (std::string ok : {std::string("https://widget.example.com"), std::string("http://localhost:3000"),
                         "http://127.0.0.1:" + std::to_string(s.port())}) {
    WsClient c;
    CHECK_MESSAGE(c.connect(s.port(), {{"Origin", ok}}) == 101, ok);
  }
  WsClient no_origin;  // not a browser
  CHECK(no_origin.connect(s.port()) == 101);
}

TEST_CASE("more connections than --max-connections get HTTP 503 at the handshake") {
  Server s({"--max-connections", "2"});
  WsClient a, b, c;
  REQUIRE(a.connect(s.port()) == 101);
  REQUIRE(b.connect(s.port()) == 101);
  CHECK(c.connect(s.port()) == 503);
  CHECK(read_reply_to(a, message("hi", 1))["reply_to"] == 1);
  CHECK(http_request(s.port(), http::verb::get, "/healthz").status == 200);  // HTTP is not capped
}

TEST_CASE("connections from one address over --connection-rate are closed at accept, and the address recovers") {
  Server s({"--connection-rate", "2", "--connection-burst", "3"});
  // The burst passes; the next ones in the same instant are closed unread
  // (no HTTP answer at all: the handshake fails).
  std::vector<int> statuses;
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(std::make_unique<WsClient>());
    statuses.push_back(clients.back()->connect(s.port()));
  }
  CHECK(std::count(statuses.begin(), statuses.end(), 101) >= 3);
  CHECK(std::count(statuses.begin(), statuses.end(), 101) <= 4);  // a token may refill meanwhile
  // No HTTP answer came: the handshake failed (no 101, no error status).
  const auto refused = std::count_if(statuses.begin(), statuses.end(), [](int st) { return st != 101; });
  CHECK(refused >= 4);
  // Admitted connections are unaffected.
  CHECK(read_reply_to(*clients[0], message("hi", 1))["reply_to"] == 1);
  // Two tokens a second: the address gets in again (the metrics request is
  // a connection too).
  std::this_thread::sleep_for(1500ms);
  HttpResult metrics = http_request(s.port(), http::verb::get, "/metrics");
  CHECK(metrics.body.find("reason=\"address_rate\"} " + std::to_string(refused) + "\n") != std::string::npos);
  WsClient later;
  CHECK(later.connect(s.port()) == 101);
}

TEST_CASE("a body on the upgrade request is refused, not buffered") {
  Server s;
  RawClient raw(s.port());
  raw.send("GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
           "Content-Length: 1000000\r\n\r\n");
  std::string answer = raw.read_until_eof(5s);
  CHECK(answer.rfind("HTTP/1.1 413", 0) == 0);
}

TEST_CASE("a client that connects and sends nothing is dropped after the timeout while others are served") {
  Server s({"--handshake-timeout", "1"});
  RawClient silent(s.port());
  WsClient c;
  REQUIRE(c.connect(s.port()) == 101);
  CHECK(read_reply_to(c, message(kPain, 1))["reply_to"] == 1);
  CHECK(silent.read_until_eof(5s).empty());
  CHECK(read_reply_to(c, message("no", 2))["reply_to"] == 2);
}

TEST_CASE("a WebSocket client that stops answering pings is dropped after the idle timeout") {
  Server s({"--idle-timeout", "2"});
  // A raw socket completes the handshake and then never reads a frame, so
  // the server's pings go unanswered.
  RawClient raw(s.port());
  raw.send("GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  std::string bytes = raw.read_until_eof(6s);
  CHECK(bytes.rfind("HTTP/1.1 101", 0) == 0);
  CHECK(bytes.find("\x89") != std::string::npos);  // a ping frame came first
}

TEST_CASE("a client that stops reading is dropped and other clients are unaffected") {
  Server s({"--rate-limit", "0"});
  WsClient slow;
  slow.set_receive_buffer(4096);
  REQUIRE(slow.connect(s.port()) == 101);
  CHECK(read_reply_to(slow, message("what is a bakers cyst", "same"))["reply_to"] == "same");
  // Retries of one id cost the server no turn; their replies pile up unread.
  const size_t mark = s.process.log_mark();
  const std::string retry = message("what is a bakers cyst", "same").dump();
  // Enough to fill the kernel's buffers too (loopback send buffers grow to
  // megabytes); sending stops once the server has cut the connection.
  for (int i = 0; i < 20000; ++i)
    if (slow.send(retry)) break;
  s.process.wait_for_event("slow_reader_dropped", mark);

  WsClient other;
  REQUIRE(other.connect(s.port()) == 101);
  CHECK(read_reply_to(other, message(kPain, 1))["reply_to"] == 1);
}

TEST_CASE("the store failing gets error internal, the server stays up and /healthz says so") {
  Server s({"--db-busy-timeout", "100"});
  WsClient c;
  REQUIRE(c.connect(s.port()) == 101);
  CHECK(read_reply_to(c, message(kPain, 1))["expecting"] == "swelling");

  // Another process holds the write lock: every write times out as locked.
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(s.db().c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  json e = c.request(message("no", 2));
  CHECK(e["type"] == "error");
  CHECK(e["code"] == "internal");
  HttpResult health = http_request(s.port(), http::verb::get, "/healthz");
  CHECK(health.status == 503);
  CHECK(health.json()["status"] == "down");
  CHECK(health.json()["store"]["last_error"].get<std::string>().find("locked") != std::string::npos);
  CHECK(http_request(s.port(), http::verb::post, "/api/message", R"({"text":"hi"})").status == 500);

  // Released: the same message goes through, as the turn never happened.
  REQUIRE(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(other);
  json reply = c.request(message("no", 2));
  CHECK(reply["reply_to"] == 2);
  CHECK(reply["expecting"] == "locking_instability");
  CHECK(http_request(s.port(), http::verb::get, "/healthz").status == 200);
}

}  // TEST_SUITE
}  // namespace runbot::test
