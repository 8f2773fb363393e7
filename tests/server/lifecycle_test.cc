// Black-box tests of a server's life: resume after kill -9 and restart,
// the retry rule across connections and restarts, reload on SIGHUP, and
// graceful stop on SIGTERM.
#include <doctest/doctest.h>
#include <signal.h>
#include <sqlite3.h>

#include <fstream>
#include <sstream>

#include "tests/server/server_process.h"
#include "tests/server/test_client.h"

namespace runbot::test {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

const std::string kPain = "the back of my knee hurts after running";

json message(const std::string& text, json id = nullptr) {
  json j = {{"type", "message"}, {"text", text}};
  if (!id.is_null()) j["id"] = id;
  return j;
}

json hello(const std::string& session) { return {{"type", "hello"}, {"session", session}}; }

ServerProcess start(const TempDir& dir, std::vector<std::string> args = {}, std::string data = RUNBOT_SOURCE_DIR) {
  ServeOptions o = serve_options(std::move(args), (dir.path / "runbot.db").string());
  o.data_root = std::move(data);
  return ServerProcess(o);
}

// A counter's value in a /metrics body.
long metric(unsigned short port, const std::string& name) {
  std::string body = http_request(port, http::verb::get, "/metrics").body;
  size_t at = body.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stol(body.substr(at + name.size() + 2));
}

}  // namespace

TEST_SUITE("lifecycle") {

TEST_CASE("after kill -9 and a restart, a resumed session asks the question that was pending") {
  TempDir dir;
  std::string token;
  json pending_question;
  {
    ServerProcess p = start(dir);
    WsClient c;
    REQUIRE(c.connect(p.port()) == 101);
    token = c.request({{"type", "hello"}})["session"];
    CHECK(c.request(message(kPain))["expecting"] == "swelling");
    pending_question = c.request(message("no"));
    CHECK(pending_question["expecting"] == "locking_instability");
    p.signal(SIGKILL);
    CHECK(p.wait_exit() == 128 + SIGKILL);
  }
  ServerProcess p = start(dir);
  WsClient c;
  REQUIRE(c.connect(p.port()) == 101);
  CHECK(c.request(hello(token)) == json{{"type", "session"}, {"session", token}, {"resumed", true}});
  // An unclear answer re-asks the pending question.
  json again = c.request(message("hmm"));
  CHECK(again["expecting"] == "locking_instability");

  // The same three messages in one uninterrupted session give the same reply.
  WsClient fresh;
  REQUIRE(fresh.connect(p.port()) == 101);
  fresh.request({{"type", "hello"}});
  fresh.request(message(kPain));
  fresh.request(message("no"));
  CHECK(fresh.request(message("hmm")) == again);
}

TEST_CASE("a retried message id gets the stored reply and no second turn, across connections and restarts") {
  TempDir dir;
  std::string token;
  json second;
  {
    ServerProcess p = start(dir);
    WsClient c;
    REQUIRE(c.connect(p.port()) == 101);
    token = c.request({{"type", "hello"}})["session"];
    c.request(message(kPain, "1"));
    second = c.request(message("no", "2"));
    CHECK(second["expecting"] == "locking_instability");
    CHECK(c.request(message("no", "2")) == second);  // same connection

    WsClient other;  // as after a lost connection
    REQUIRE(other.connect(p.port()) == 101);
    other.request(hello(token));
    CHECK(other.request(message("no", "2")) == second);
    CHECK(metric(p.port(), "runbot_retries_total") == 2);
    CHECK(metric(p.port(), "runbot_replies_total{intent=\"deny\",triage=\"none\"}") == 1);
    p.signal(SIGKILL);
    p.wait_exit();
  }
  ServerProcess p = start(dir);
  WsClient c;
  REQUIRE(c.connect(p.port()) == 101);
  c.request(hello(token));
  CHECK(c.request(message("no", "2")) == second);
  // Had "no" run twice, it would have answered locking_instability too.
  CHECK(c.request(message("hmm", "3"))["expecting"] == "locking_instability");
}

TEST_CASE("SIGHUP reloads the data without dropping a connection, and a broken file is refused while the old data serves") {
  TempDir dir;
  copy_data_files(dir.path / "data");
  ServerProcess p = start(dir, {}, (dir.path / "data").string());
  WsClient c;
  REQUIRE(c.connect(p.port()) == 101);
  c.request({{"type", "hello"}});
  json before = c.request(message("what is a bakers cyst"));
  REQUIRE(before["sources"].size() == 1);
  const std::string id = before["sources"][0];

  // Change that entry's text in the copy, then reload.
  fs::path changed_file;
  for (const auto& entry : fs::directory_iterator(dir.path / "data/bot/knowledge")) {
    std::ifstream in(entry.path());
    json j = json::parse(in);
    for (auto& e : j["entries"])
      if (e["id"] == id) {
        e["text"] = "Reloaded. " + e["text"].get<std::string>();
        changed_file = entry.path();
      }
    if (!changed_file.empty()) {
      std::ofstream(entry.path()) << j.dump(1);
      break;
    }
  }
  REQUIRE_FALSE(changed_file.empty());
  size_t mark = p.log_mark();
  p.signal(SIGHUP);
  p.wait_for_event("reloaded", mark);
  json after = c.request(message("what is a bakers cyst"));
  CHECK(after["text"].get<std::string>().rfind("Reloaded. ", 0) == 0);

  // A broken file: refused with its error, the reloaded data keeps serving.
  std::ofstream(dir.path / "data/dialogs/data/triage.json") << "{\"version\": 1, ";
  mark = p.log_mark();
  p.signal(SIGHUP);
  p.wait_for_event("reload_refused", mark);
  CHECK(p.wait_for_event("reload_error", mark)["error"].get<std::string>().rfind("dialogs/data/triage.json: ", 0) == 0);
  CHECK(c.request(message("what is a bakers cyst")) == after);
  CHECK(c.request(message(kPain))["expecting"] == "swelling");
  CHECK(metric(p.port(), "runbot_reloads_total{result=\"ok\"}") == 1);
  CHECK(metric(p.port(), "runbot_reloads_total{result=\"refused\"}") == 1);
}

TEST_CASE("SIGTERM answers the turn in flight, flushes the store, closes with 1001 and exits 0") {
  TempDir dir;
  const std::string db = (dir.path / "runbot.db").string();
  std::string token;
  {
    ServerProcess p = start(dir, {"--db-busy-timeout", "10000"});
    WsClient busy, idle;
    REQUIRE(busy.connect(p.port()) == 101);
    REQUIRE(idle.connect(p.port()) == 101);
    token = busy.request({{"type", "hello"}})["session"];
    CHECK(busy.request(message(kPain, 1))["expecting"] == "swelling");

    // Hold the write lock so that the next turn is still in flight at SIGTERM.
    sqlite3* other = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &other) == SQLITE_OK);
    REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
    busy.send_json(message("no", 2));
    // Wait until the server has the message (it counts it on arrival).
    for (int i = 0; i < 500 && metric(p.port(), "runbot_messages_total") < 2; ++i) {
    }
    REQUIRE(metric(p.port(), "runbot_messages_total") == 2);
    const size_t mark = p.log_mark();
    p.signal(SIGTERM);
    p.wait_for_event("stopping", mark);
    CHECK(idle.read_until_closed().empty());
    CHECK(idle.close_code() == 1001);
    CHECK(http_request(p.port(), http::verb::get, "/healthz", "", {}, 1s).status == 0);  // not accepting

    REQUIRE(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(other);
    std::vector<std::string> frames = busy.read_until_closed();
    REQUIRE(frames.size() == 1);
    json reply = json::parse(frames[0]);
    CHECK(reply["reply_to"] == 2);
    CHECK(reply["expecting"] == "locking_instability");
    CHECK(busy.close_code() == 1001);
    CHECK(p.wait_exit() == 0);
    p.wait_for_event("stopped", mark);
  }
  // The answered turn was committed before the reply went out.
  ServerProcess p = start(dir);
  WsClient c;
  REQUIRE(c.connect(p.port()) == 101);
  CHECK(c.request(hello(token))["resumed"] == true);
  CHECK(c.request(message("hmm"))["expecting"] == "locking_instability");
}

}  // TEST_SUITE
}  // namespace runbot::test
