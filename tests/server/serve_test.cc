// Black-box tests of every protocol feature of spec/protocol.md against a
// real `runbot serve` on a free port with a temporary database.
#include <doctest/doctest.h>

#include <signal.h>

#include <fstream>
#include <iterator>

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

json hello(json session = nullptr) {
  json j = {{"type", "hello"}, {"client", "test"}};
  if (!session.is_null()) j["session"] = session;
  return j;
}

struct Server {
  TempDir dir;
  ServerProcess process;
  explicit Server(std::vector<std::string> args = {})
      : process(serve_options(std::move(args), (dir.path / "runbot.db").string())) {}
  unsigned short port() const { return process.port(); }
};

}  // namespace

TEST_SUITE("serve") {

TEST_CASE("serve logs its bound port, serves a page on / and refuses unknown paths") {
  Server s;
  CHECK(s.port() != 0);
  HttpResult page = http_request(s.port(), http::verb::get, "/");
  CHECK(page.status == 200);
  CHECK(page.headers[http::field::content_type] == "text/html; charset=utf-8");
  CHECK(page.body.find("runbot") != std::string::npos);
  CHECK(http_request(s.port(), http::verb::get, "/nope").status == 404);
  CHECK(http_request(s.port(), http::verb::get, "/chat").status == 426);
  CHECK(http_request(s.port(), http::verb::delete_, "/healthz").status == 405);
}

TEST_CASE("hello starts a session with a 32-character token and hello with it resumes the dialog") {
  Server s;
  std::string token;
  {
    WsClient c;
    REQUIRE(c.connect(s.port()) == 101);
    json session = c.request(hello());
    CHECK(session["type"] == "session");
    CHECK(session["resumed"] == false);
    token = session["session"];
    CHECK(token.size() == 32);
    json reply = c.request(message(kPain, "m1"));
    CHECK(reply["type"] == "reply");
    CHECK(reply["reply_to"] == "m1");
    CHECK(reply["expecting"] == "swelling");
    c.close();
  }
  WsClient again;
  REQUIRE(again.connect(s.port()) == 101);
  json session = again.request(hello(token));
  CHECK(session == json{{"type", "session"}, {"session", token}, {"resumed", true}});
  json reply = again.request(message("no"));
  CHECK(reply["reply_to"].is_null());
  CHECK(reply["intent"] == "deny");
  CHECK(reply["expecting"] == "locking_instability");  // swelling was answered before
}

TEST_CASE("an unknown, malformed or forged token gets a new session, never another user's") {
  Server s;
  WsClient owner;
  REQUIRE(owner.connect(s.port()) == 101);
  std::string token = owner.request(hello())["session"];
  owner.request(message(kPain));

  std::string forged = token;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  for (std::string attempt : {std::string("x"), std::string(""), forged, std::string(32, 'A'), token + "A",
                              std::string("' OR 1=1 --")}) {
    WsClient c;
    REQUIRE(c.connect(s.port()) == 101);
    json session = c.request(hello(attempt));
    CHECK(session["resumed"] == false);
    CHECK(session["session"] != attempt);
    CHECK(session["session"] != token);
    // A fresh dialog: "no" answers nothing, so nothing is asked next.
    CHECK(c.request(message("no"))["expecting"].is_null());
  }
}

TEST_CASE("a message without hello gets a session frame, then its reply") {
  Server s;
  WsClient c;
  REQUIRE(c.connect(s.port()) == 101);
  c.send_json(message(kPain, 1));
  json session = c.read_json();
  CHECK(session["type"] == "session");
  CHECK(session["resumed"] == false);
  json reply = c.read_json();
  CHECK(reply["type"] == "reply");
  CHECK(reply["reply_to"] == 1);
  // Only the first reply is preceded by a session frame.
  CHECK(c.request(message("no", 2))["type"] == "reply");
}

TEST_CASE("every message gets exactly one reply, in order, with reply_to the client's id") {
  Server s;
  WsClient c;
  REQUIRE(c.connect(s.port()) == 101);
  c.request(hello());
  const std::vector<std::string> texts = {kPain, "no", "no", "what is a bakers cyst", "no", "3 weeks"};
  for (size_t i = 0; i < texts.size(); ++i) c.send_json(message(texts[i], i % 2 ? json(i) : json("id-" + std::to_string(i))));
  for (size_t i = 0; i < texts.size(); ++i) {
    json reply = c.read_json();
    CHECK(reply["type"] == "reply");
    CHECK(reply["reply_to"] == (i % 2 ? json(i) : json("id-" + std::to_string(i))));
    for (const char* field : {"text", "intent", "confidence", "entities", "triage", "expecting", "quick_replies", "sources"})
      CHECK_MESSAGE(reply.contains(field), field);
  }
  std::string extra;
  CHECK(c.read(&extra, 200ms) == beast::error::timeout);  // nothing more
}

TEST_CASE("reset forgets the dialog and keeps the session") {
  Server s;
  WsClient c;
  REQUIRE(c.connect(s.port()) == 101);
  std::string token = c.request(hello())["session"];
  CHECK(c.request(message(kPain))["expecting"] == "swelling");
  json session = c.request({{"type", "reset"}});
  CHECK(session == json{{"type", "session"}, {"session", token}, {"resumed", false}, {"reset", true}});
  CHECK(c.request(message("no"))["expecting"].is_null());

  // The reset was stored: a resumed session starts over too.
  CHECK(c.request(message(kPain))["expecting"] == "swelling");
  c.request({{"type", "reset"}});
  WsClient again;
  REQUIRE(again.connect(s.port()) == 101);
  CHECK(again.request(hello(token))["resumed"] == true);
  CHECK(again.request(message("no"))["expecting"].is_null());
}

TEST_CASE("POST /api/message answers with the reply and a session, and continues that session") {
  Server s;
  HttpResult first = http_request(s.port(), http::verb::post, "/api/message", json{{"text", kPain}}.dump());
  REQUIRE(first.status == 200);
  CHECK(first.headers[http::field::content_type] == "application/json");
  json r1 = first.json();
  CHECK(r1["type"] == "reply");
  CHECK(r1["expecting"] == "swelling");
  std::string token = r1["session"];
  CHECK(token.size() == 32);

  json r2 = http_request(s.port(), http::verb::post, "/api/message",
                         json{{"session", token}, {"text", "no"}, {"id", "p2"}}.dump())
                .json();
  CHECK(r2["session"] == token);
  CHECK(r2["reply_to"] == "p2");
  CHECK(r2["expecting"] == "locking_instability");

  // The same session over WebSocket carries on from there.
  WsClient c;
  REQUIRE(c.connect(s.port()) == 101);
  CHECK(c.request(hello(token))["resumed"] == true);
  CHECK(c.request(message("no"))["expecting"] == "numbness_tingling");
}

TEST_CASE("POST /api/message gets HTTP 400 with an error object on bad input") {
  Server s;
  auto post = [&](const std::string& body) { return http_request(s.port(), http::verb::post, "/api/message", body); };
  HttpResult bad_json = post("{\"text\":");
  CHECK(bad_json.status == 400);
  CHECK(bad_json.json()["type"] == "error");
  CHECK(bad_json.json()["code"] == "bad_json");
  CHECK(post(R"({"text":5})").json()["code"] == "bad_request");
  CHECK(post(R"({"text":5})").status == 400);
  CHECK(post(R"({"session":[],"text":"hi"})").json()["code"] == "bad_request");
  HttpResult too_long = post(json{{"text", std::string(2001, 'a')}}.dump());
  CHECK(too_long.status == 400);
  CHECK(too_long.json()["code"] == "too_long");
  CHECK(http_request(s.port(), http::verb::get, "/api/message").status == 405);
  CHECK(post(std::string(20000, ' ')).status == 413);
}

TEST_CASE("GET /healthz is 200 with the store's status") {
  Server s;
  HttpResult h = http_request(s.port(), http::verb::get, "/healthz");
  CHECK(h.status == 200);
  json j = h.json();
  CHECK(j["status"] == "ok");
  CHECK(j["store"]["kind"] == "sqlite");
  CHECK(j["store"]["ok"] == true);
  CHECK(j["store"]["last_error"].is_null());
}

TEST_CASE("GET /metrics counts connections, messages, replies, errors and latencies") {
  Server s;
  WsClient c;
  REQUIRE(c.connect(s.port()) == 101);
  c.request(hello());
  c.request(message(kPain));
  c.send("{");
  CHECK(c.read_json()["code"] == "bad_json");
  HttpResult m = http_request(s.port(), http::verb::get, "/metrics");
  CHECK(m.status == 200);
  CHECK(m.headers[http::field::content_type] == "text/plain; version=0.0.4; charset=utf-8");
  for (const char* line :
       {"runbot_open_connections 1\n", "runbot_messages_total 1\n",
        "runbot_replies_total{intent=\"symptom_report\",triage=\"none\"} 1\n", "runbot_errors_total{code=\"bad_json\"} 1\n",
        "runbot_reply_latency_seconds_count 1\n", "runbot_store_write_latency_seconds_count 1\n",
        "runbot_store_up 1\n"})
    CHECK_MESSAGE(m.body.find(line) != std::string::npos, line);
}

TEST_CASE("message text reaches neither the log nor the database") {
  Server s;
  const std::string marker = "zebra7781";
  WsClient c;
  REQUIRE(c.connect(s.port()) == 101);
  c.request(hello());
  c.request(message("the back of my " + marker + " knee hurts after running", "m1"));
  c.request(message("no " + marker));
  c.send("{\"type\":\"message\",\"text\":\"" + marker);                        // bad_json
  c.read_json();
  c.request(message(std::string(2001, 'z') + marker));                             // too_long
  http_request(s.port(), http::verb::post, "/api/message", json{{"text", marker + " hi"}}.dump());
  c.close();
  s.process.signal(SIGTERM);
  REQUIRE(s.process.wait_exit() == 0);
  CHECK(s.process.log_text().find(marker) == std::string::npos);
  std::string stored;
  for (const auto& entry : std::filesystem::directory_iterator(s.dir.path)) {
    std::ifstream in(entry.path(), std::ios::binary);
    stored += std::string(std::istreambuf_iterator<char>(in), {});
  }
  CHECK(stored.find("swelling") != std::string::npos);  // the state is there...
  CHECK(stored.find(marker) == std::string::npos);      // ...the words are not
}

TEST_CASE("permessage-deflate is never negotiated") {
  Server s;
  WsClient c;
  c.offer_deflate();
  REQUIRE(c.connect(s.port()) == 101);
  CHECK(c.handshake_response()[http::field::sec_websocket_extensions].empty());
  CHECK(c.request(hello())["type"] == "session");
}

TEST_CASE("--echo serves a bare echo WebSocket with the same limits") {
  TempDir dir;
  ServerProcess p(serve_options({"--echo"}, (dir.path / "unused.db").string()));
  CHECK(p.wait_for_event("listening")["mode"] == "echo");
  WsClient c;
  REQUIRE(c.connect(p.port()) == 101);
  c.send("not even JSON");
  std::string frame;
  REQUIRE_FALSE(c.read(&frame));
  CHECK(frame == "not even JSON");
  c.send("\x01\x02", /*binary=*/true);
  REQUIRE_FALSE(c.read(&frame));
  CHECK(frame == "\x01\x02");
  CHECK(c.got_binary());
  CHECK(http_request(p.port(), http::verb::get, "/healthz").json()["store"]["kind"] == "none");
  CHECK_FALSE(std::filesystem::exists(dir.path / "unused.db"));
  c.send(std::string(16 * 1024 + 1, 'a'));
  c.read_until_closed();
  CHECK(c.close_code() == 1009);
}

TEST_CASE("flags come from the environment and from --config, and --db is created") {
  TempDir dir;
  const auto config = dir.path / "runbot.toml";
  std::ofstream(config) << "[serve]\ndb = \"" << (dir.path / "from_config.db").string() << "\"\n";
  ServeOptions o;
  o.env = {{"RUNBOT_CONFIG", config.string()}, {"RUNBOT_MAX_CONNECTIONS", "1"}};
  ServerProcess p(o);
  CHECK(p.wait_for_event("listening")["db"] == (dir.path / "from_config.db").string());
  CHECK(std::filesystem::exists(dir.path / "from_config.db"));
  WsClient first, second;
  REQUIRE(first.connect(p.port()) == 101);
  CHECK(second.connect(p.port()) == 503);
}

TEST_CASE("without --db the sessions go to runbot.db in the working directory") {
  ServerProcess p(ServeOptions{});
  CHECK(p.wait_for_event("listening")["db"] == "runbot.db");
  WsClient c;
  REQUIRE(c.connect(p.port()) == 101);
  c.request(hello());
  c.request(message(kPain));
  CHECK(std::filesystem::exists(p.work_dir() / "runbot.db"));
}

TEST_CASE("broken data files stop serve with exit 2, naming the file") {
  TempDir dir;
  copy_data_files(dir.path);
  std::ofstream(dir.path / "bot/knowledge/faq.json") << "{";
  ServeOptions o = serve_options({}, (dir.path / "x.db").string());
  o.data_root = dir.path.string();
  o.wait_listening = false;
  ServerProcess p(o);
  CHECK(p.wait_exit() == 2);
  CHECK(p.wait_for_event("load_error")["error"].get<std::string>().find("bot/knowledge/faq.json") == 0);
}

TEST_CASE("a port in use stops serve with exit 1") {
  Server first;
  TempDir dir;
  ServeOptions o = serve_options({"--port", std::to_string(first.port())}, (dir.path / "x.db").string());
  o.wait_listening = false;
  ServerProcess p(o);
  CHECK(p.wait_exit() == 1);
  CHECK(p.wait_for_event("listen_failed")["port"] == first.port());
}

}  // TEST_SUITE
}  // namespace runbot::test
