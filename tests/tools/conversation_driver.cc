// conversation_driver: runs many scripted triage conversations at once
// against a runbot WebSocket URL and checks that none is lost, repeated or
// reordered, even when the server dies and comes back in the middle.
//
//   conversation_driver --url ws://127.0.0.1:PORT/chat --conversations N --scripts FILE
//                       [--record FILE | --expect FILE] [--think-ms MS] [--give-up-s S] [--tokens-out FILE]
//   conversation_driver --url ... --verify-resume TOKENS_FILE
//
// Each conversation says hello, then sends its script's turns one at a time
// with ids "c<i>-t<k>" and waits for the reply to each. On a disconnect, a
// failed connect, a read timeout or an `internal`/`overloaded` error it
// reconnects with backoff, says hello with its token, requires resumed:true
// once a turn has been answered, and resends the pending turn with the same
// id (the protocol's retry rule makes that safe). Replies are compared with
// those of the other conversations on the same script (the engine is pure,
// so they must agree) and, with --expect, with a recorded run. A lost or
// doubled turn changes what the bot says next, so it shows up as a mismatch.
//
// One io_context on one thread, one coroutine per conversation: the driver
// costs little next to the server, which on a 2-core machine matters.

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using net::awaitable;
using Ws = websocket::stream<beast::tcp_stream>;

namespace {

struct Options {
  std::string url;
  std::string host, port, path;
  int conversations = 1;
  std::string scripts = "tests/tools/conversation_scripts.json";
  std::string record, expect, tokens_out, verify_resume;
  int think_ms = 0;
  double give_up_s = 60;
  double timeout_s = 5;
};

struct Script {
  std::string name;
  std::vector<std::string> turns;
};

// What one conversation saw. Replies are kept without reply_to, the only
// field that differs between conversations on the same script.
struct Conversation {
  int index = 0;
  size_t script = 0;
  std::string token;
  size_t acked = 0;  // turns whose reply arrived
  std::vector<json> replies;
  bool completed = false;
  bool lost = false;
  std::string failure;  // why it stopped early, for stderr
  // Reconnect state: when the current run of failures began, and the next wait.
  std::optional<Clock::time_point> trouble_since;
  std::chrono::milliseconds backoff{50};
};

struct Totals {
  size_t reconnects = 0, resends = 0, duplicates = 0, lost_sessions = 0;
};

// FNV-1a, 64 bits: a stable digest of a reply for the tokens file.
std::string digest(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

json canonical_reply(json frame) {
  frame.erase("reply_to");
  return frame;
}

// ws://host:port/path; false when it is not of that form.
bool parse_url(Options& o) {
  const std::string prefix = "ws://";
  if (o.url.rfind(prefix, 0) != 0) return false;
  std::string rest = o.url.substr(prefix.size());
  size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  o.path = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t colon = hostport.rfind(':');
  o.host = hostport.substr(0, colon);
  o.port = colon == std::string::npos ? "80" : hostport.substr(colon + 1);
  return !o.host.empty() && !o.port.empty();
}

std::vector<Script> load_scripts(const std::string& path, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = path + ": cannot open";
    return {};
  }
  std::vector<Script> scripts;
  try {
    json j = json::parse(in);
    for (const auto& s : j.at("scripts")) {
      Script script{s.at("name").get<std::string>(), s.at("turns").get<std::vector<std::string>>()};
      if (script.turns.empty()) {
        *error = path + ": script \"" + script.name + "\" has no turns";
        return {};
      }
      scripts.push_back(std::move(script));
    }
  } catch (const json::exception& e) {
    *error = path + ": " + e.what();
    return {};
  }
  if (scripts.empty()) *error = path + ": no scripts";
  return scripts;
}

class Driver {
 public:
  Driver(net::io_context& ioc, const Options& o, tcp::resolver::results_type endpoints)
      : ioc_(ioc), opt_(o), endpoints_(std::move(endpoints)),
        timeout_(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.timeout_s))),
        give_up_(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.give_up_s))) {}

  // Runs every conversation to its end (or until it gives up).
  void run_conversations(const std::vector<Script>& scripts, std::vector<Conversation>& convs) {
    scripts_ = &scripts;
    total_turns_ = 0;
    for (const auto& c : convs) total_turns_ += scripts[c.script].turns.size();
    for (auto& c : convs)
      net::co_spawn(ioc_, converse(c), [&c](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          c.failure = std::string("exception: ") + ex.what();
        }
      });
    ioc_.run();
  }

  // --verify-resume: hello with each token; true per line when it resumed
  // (and, given a last id, the retry of that id returns the recorded reply).
  struct ResumeCheck {
    std::string token, last_id, reply_digest;
    bool resumed = false, at_last_turn = false;
    std::string failure;
  };
  void run_resume_checks(std::vector<ResumeCheck>& checks) {
    // A few workers share the list so thousands of tokens do not open
    // thousands of sockets at once.
    auto next = std::make_shared<size_t>(0);
    const size_t workers = std::min<size_t>(checks.size(), 32);
    for (size_t w = 0; w < workers; ++w)
      net::co_spawn(ioc_, resume_worker(checks, next), net::detached);
    ioc_.run();
  }

  const Totals& totals() const { return totals_; }
  size_t done_turns() const { return done_turns_; }

 private:
  // The outcome of one awaited step; `ok` false means the connection is gone.
  struct Frame {
    bool ok = false;
    json j;
  };

  awaitable<void> sleep(Clock::duration d) {
    net::steady_timer t(ioc_, d);
    beast::error_code ec;
    co_await t.async_wait(net::redirect_error(net::use_awaitable, ec));
  }

  // A WebSocket connected and upgraded, or null.
  awaitable<std::unique_ptr<Ws>> open() {
    auto ws = std::make_unique<Ws>(ioc_);
    beast::error_code ec;
    beast::get_lowest_layer(*ws).expires_after(timeout_);
    co_await beast::get_lowest_layer(*ws).async_connect(endpoints_, net::redirect_error(net::use_awaitable, ec));
    if (ec) co_return nullptr;
    co_await ws->async_handshake(opt_.host + ":" + opt_.port, opt_.path, net::redirect_error(net::use_awaitable, ec));
    if (ec) co_return nullptr;
    co_return ws;
  }

  // Every write and read carries its own deadline (the TCP stream's timer):
  // a server that stops answering looks like a dead one.
  awaitable<bool> write(Ws& ws, const std::string& text) {
    beast::error_code ec;
    beast::get_lowest_layer(ws).expires_after(timeout_);
    co_await ws.async_write(net::buffer(text), net::redirect_error(net::use_awaitable, ec));
    co_return !ec;
  }

  awaitable<Frame> read(Ws& ws) {
    beast::flat_buffer buffer;
    beast::error_code ec;
    beast::get_lowest_layer(ws).expires_after(timeout_);
    co_await ws.async_read(buffer, net::redirect_error(net::use_awaitable, ec));
    if (ec) co_return Frame{};
    json j = json::parse(beast::buffers_to_string(buffer.data()), nullptr, false);
    if (!j.is_object()) {
      std::fprintf(stderr, "conversation_driver: a frame that is not a JSON object\n");
      co_return Frame{true, json::object()};
    }
    co_return Frame{true, std::move(j)};
  }

  static std::string turn_id(const Conversation& c, size_t k) {
    return "c" + std::to_string(c.index) + "-t" + std::to_string(k);
  }

  void note_duplicate(const Conversation& c, const json& frame, const std::string& pending) {
    ++totals_.duplicates;
    std::fprintf(stderr, "conversation %d: reply to %s while waiting for %s\n", c.index,
                 frame.value("reply_to", json()).dump().c_str(), pending.c_str());
  }

  // Reads until the session frame that answers a hello. A reply frame
  // before it answers nothing we are waiting for: a duplicate.
  awaitable<Frame> await_session(Ws& ws, Conversation& c, const std::string& pending) {
    for (;;) {
      Frame f = co_await read(ws);
      if (!f.ok) co_return f;
      const std::string type = f.j.value("type", "");
      if (type == "session") co_return f;
      if (type == "reply") note_duplicate(c, f.j, pending);
      if (type == "error") co_return Frame{};  // internal/overloaded: try again on a fresh connection
    }
  }

  // Connects and says hello with the conversation's token, retrying with
  // backoff (50 ms doubling to 1 s) until --give-up-s of failures in a row.
  // `after_failure` waits first. False when it gave up.
  awaitable<bool> connect(Conversation& c, std::unique_ptr<Ws>& ws, bool after_failure, bool first,
                          const std::string& pending) {
    if (!c.trouble_since) c.trouble_since = Clock::now();
    for (;;) {
      if (after_failure) {
        co_await sleep(c.backoff);
        c.backoff = std::min<std::chrono::milliseconds>(c.backoff * 2, std::chrono::seconds(1));
      }
      after_failure = true;
      if (Clock::now() - *c.trouble_since > give_up_) co_return false;
      ws = co_await open();
      if (!ws) continue;
      json hello = {{"type", "hello"}, {"client", "test"}};
      if (!c.token.empty()) hello["session"] = c.token;
      if (!co_await write(*ws, hello.dump())) continue;
      Frame f = co_await await_session(*ws, c, pending);
      if (!f.ok) continue;
      const bool resumed = f.j.value("resumed", false);
      // A session that has answered a turn must come back. One that has
      // not may be unknown to the server (nothing is stored before the
      // first commit): then it is simply a new session.
      if (c.acked > 0 && !resumed) {
        ++totals_.lost_sessions;
        c.lost = true;
        std::fprintf(stderr, "conversation %d: LOST SESSION after %zu answered turns\n", c.index, c.acked);
      }
      c.token = f.j.value("session", "");
      if (!first) ++totals_.reconnects;
      co_return true;
    }
  }

  void turn_done() {
    ++done_turns_;
    // One line per 10% of all turns, so scripts can wait for progress.
    bool crossed = false;
    while (next_decile_ <= 10 && done_turns_ * 10 >= next_decile_ * total_turns_) {
      ++next_decile_;
      crossed = true;
    }
    if (crossed) std::fprintf(stderr, "progress done_turns=%zu total_turns=%zu\n", done_turns_, total_turns_);
  }

  awaitable<void> converse(Conversation& c) {
    const auto& turns = (*scripts_)[c.script].turns;
    std::unique_ptr<Ws> ws;
    bool first = true;       // no connection made yet
    bool failed = false;     // the last step failed: back off before reconnecting
    bool sent = false;       // the pending turn went out on this connection
    bool sent_once = false;  // the pending turn went out at least once
    // Staggered starts, so that with a think time the conversations do not
    // all send their turn k in the same instant.
    if (opt_.think_ms > 0) co_await sleep(std::chrono::milliseconds(opt_.think_ms * (c.index % 10) / 10));
    while (c.acked < turns.size()) {
      const std::string id = turn_id(c, c.acked);
      if (!ws) {
        if (!co_await connect(c, ws, failed, first, id)) {
          c.failure = "gave up reconnecting at turn " + std::to_string(c.acked);
          co_return;
        }
        first = false;
        sent = false;
      }
      if (!sent) {
        json m = {{"type", "message"}, {"id", id}, {"text", turns[c.acked]}};
        if (!co_await write(*ws, m.dump())) {
          ws.reset();
          failed = true;
          continue;
        }
        if (sent_once) ++totals_.resends;
        sent = sent_once = true;
      }
      Frame f = co_await read(*ws);
      if (!f.ok) {
        ws.reset();
        failed = true;
        continue;
      }
      const std::string type = f.j.value("type", "");
      if (type == "reply") {
        if (f.j.value("reply_to", json()) != json(id)) {
          note_duplicate(c, f.j, id);
          continue;
        }
        c.replies.push_back(canonical_reply(f.j));
        ++c.acked;
        sent = sent_once = failed = false;
        c.trouble_since.reset();
        c.backoff = std::chrono::milliseconds(50);
        turn_done();
        if (opt_.think_ms > 0 && c.acked < turns.size()) co_await sleep(std::chrono::milliseconds(opt_.think_ms));
      } else if (type == "error") {
        const std::string code = f.j.value("code", "");
        if (code == "internal" || code == "overloaded") {
          ws.reset();
          failed = true;
        } else if (code == "rate_limited") {
          // Same connection: wait, then send the turn again.
          if (!c.trouble_since) c.trouble_since = Clock::now();
          if (Clock::now() - *c.trouble_since > give_up_) {
            c.failure = "rate limited for --give-up-s at turn " + std::to_string(c.acked);
            co_return;
          }
          co_await sleep(c.backoff);
          c.backoff = std::min<std::chrono::milliseconds>(c.backoff * 2, std::chrono::seconds(1));
          sent = false;
        } else {
          c.failure = "error " + code + " at turn " + std::to_string(c.acked) + ": " + f.j.value("message", "");
          co_return;
        }
      }
      // A session frame cannot come here (every connection starts with a
      // hello, answered before any message); anything else is ignored.
    }
    // The end: one more hello on the same token. Replies leave in order, so
    // a second reply to the last turn would arrive before its session frame;
    // and the session must still resume.
    const std::string after = "(end of conversation)";
    for (;;) {
      if (!ws) {
        if (!co_await connect(c, ws, failed, first, after)) {
          c.failure = "gave up reconnecting after the last turn";
          co_return;
        }
        break;  // connect() said hello and checked resumed
      }
      json hello = {{"type", "hello"}, {"client", "test"}, {"session", c.token}};
      Frame f;
      if (co_await write(*ws, hello.dump())) f = co_await await_session(*ws, c, after);
      if (!f.ok) {
        ws.reset();
        failed = true;
        continue;
      }
      if (!f.j.value("resumed", false)) {
        ++totals_.lost_sessions;
        c.lost = true;
        std::fprintf(stderr, "conversation %d: LOST SESSION at the end\n", c.index);
      }
      break;
    }
    beast::error_code ec;
    beast::get_lowest_layer(*ws).expires_after(timeout_);
    co_await ws->async_close(websocket::close_code::normal, net::redirect_error(net::use_awaitable, ec));
    c.completed = true;
  }

  awaitable<void> resume_worker(std::vector<ResumeCheck>& checks, std::shared_ptr<size_t> next) {
    while (*next < checks.size()) {
      ResumeCheck& r = checks[(*next)++];
      try {
        co_await check_resume(r);
      } catch (const std::exception& e) {  // a frame of an unexpected shape
        r.failure = std::string("exception: ") + e.what();
      }
    }
  }

  awaitable<void> check_resume(ResumeCheck& r) {
    const auto start = Clock::now();
    auto backoff = std::chrono::milliseconds(50);
    for (bool retry = false;; retry = true) {
      if (retry) {
        co_await sleep(backoff);
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(1));
      }
      if (Clock::now() - start > give_up_) {
        r.failure = "no answer within --give-up-s";
        co_return;
      }
      std::unique_ptr<Ws> ws = co_await open();
      if (!ws) continue;
      json hello = {{"type", "hello"}, {"client", "test"}, {"session", r.token}};
      if (!co_await write(*ws, hello.dump())) continue;
      Frame f = co_await read(*ws);
      if (!f.ok) continue;
      if (f.j.value("type", "") != "session") {
        r.failure = "answer to hello is not a session frame: " + f.j.dump();
        co_return;
      }
      r.resumed = f.j.value("resumed", false) && f.j.value("session", "") == r.token;
      if (!r.resumed) {
        r.failure = "not resumed";
        co_return;
      }
      if (!r.last_id.empty()) {
        // The retry rule as a probe: a session at its last answered turn
        // returns that turn's stored reply and runs nothing. A session
        // anywhere else runs this text as a new turn, whose reply cannot
        // match the recorded digest.
        json m = {{"type", "message"}, {"id", r.last_id}, {"text", "resume check from conversation_driver"}};
        if (!co_await write(*ws, m.dump())) continue;
        Frame g = co_await read(*ws);
        if (!g.ok) continue;
        r.at_last_turn = g.j.value("type", "") == "reply" && g.j.value("reply_to", json()) == json(r.last_id) &&
                         digest(canonical_reply(g.j).dump()) == r.reply_digest;
        if (!r.at_last_turn) r.failure = "the retry of " + r.last_id + " did not return the last answered reply";
      }
      beast::error_code ec;
      beast::get_lowest_layer(*ws).expires_after(timeout_);
      co_await ws->async_close(websocket::close_code::normal, net::redirect_error(net::use_awaitable, ec));
      co_return;
    }
  }

  net::io_context& ioc_;
  const Options& opt_;
  tcp::resolver::results_type endpoints_;
  Clock::duration timeout_, give_up_;
  const std::vector<Script>* scripts_ = nullptr;
  size_t total_turns_ = 0, done_turns_ = 0, next_decile_ = 1;
  Totals totals_;
};

// The first reply where `got` departs from `want`, described for stderr; ""
// when they agree (a prefix agrees only when `complete` is false).
std::string first_difference(const std::vector<json>& want, const std::vector<json>& got, bool complete) {
  for (size_t k = 0; k < std::min(want.size(), got.size()); ++k)
    if (want[k] != got[k]) {
      auto brief = [](const json& r) {
        return r.value("intent", "") + " triage=" + r.value("triage", json()).dump() +
               " expecting=" + r.value("expecting", json()).dump() + " text=" + r.value("text", "").substr(0, 60);
      };
      return "turn " + std::to_string(k) + ": expected " + brief(want[k]) + " | got " + brief(got[k]);
    }
  if (complete && want.size() != got.size())
    return std::to_string(got.size()) + " replies, expected " + std::to_string(want.size());
  return "";
}

int verify_resume(net::io_context& ioc, const Options& o, const tcp::resolver::results_type& endpoints) {
  std::ifstream in(o.verify_resume);
  if (!in) {
    std::fprintf(stderr, "%s: cannot open\n", o.verify_resume.c_str());
    return 2;
  }
  std::vector<Driver::ResumeCheck> checks;
  size_t with_id = 0;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    Driver::ResumeCheck r;
    if (!(fields >> r.token)) continue;
    fields >> r.last_id >> r.reply_digest;
    with_id += !r.last_id.empty();
    checks.push_back(std::move(r));
  }
  const auto start = Clock::now();
  Driver driver(ioc, o, endpoints);
  driver.run_resume_checks(checks);
  size_t resumed = 0, at_last = 0, reported = 0;
  for (const auto& r : checks) {
    resumed += r.resumed;
    at_last += r.at_last_turn;
    if (!r.failure.empty() && reported++ < 10)
      std::fprintf(stderr, "session %.6s...: %s\n", r.token.c_str(), r.failure.c_str());
  }
  nlohmann::ordered_json summary = {{"sessions", checks.size()},
                  {"resumed", resumed},
                  {"at_last_turn", at_last},
                  {"checked_last_turn", with_id},
                  {"seconds", std::round(std::chrono::duration<double>(Clock::now() - start).count() * 100) / 100}};
  std::printf("%s\n", summary.dump().c_str());
  return resumed == checks.size() && at_last == with_id ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"conversation_driver: scripted conversations against runbot serve, through crashes"};
  app.add_option("--url", o.url, "ws://HOST:PORT/chat")->required();
  app.add_option("--conversations", o.conversations, "conversations run at once")->check(CLI::PositiveNumber);
  app.add_option("--scripts", o.scripts, "JSON file of scripts; conversation i uses script i % count");
  auto* record = app.add_option("--record", o.record, "write every script's replies to FILE");
  app.add_option("--expect", o.expect, "compare every conversation's replies with a recorded FILE")->excludes(record);
  app.add_option("--think-ms", o.think_ms, "pause after each reply before the next turn")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--give-up-s", o.give_up_s, "a conversation fails after this long without progress")
      ->check(CLI::PositiveNumber);
  app.add_option("--timeout-s", o.timeout_s, "a connect, write or read that takes longer counts as a disconnect")
      ->check(CLI::PositiveNumber);
  app.add_option("--tokens-out", o.tokens_out, "write `token last_id reply_digest` per answered session to FILE");
  app.add_option("--verify-resume", o.verify_resume,
                 "say hello with each token of FILE (from --tokens-out) and check it resumes at its last turn");
  CLI11_PARSE(app, argc, argv);
  if (!parse_url(o)) {
    std::fprintf(stderr, "--url: expected ws://HOST:PORT/PATH, got %s\n", o.url.c_str());
    return 2;
  }

  net::io_context ioc(1);
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  auto endpoints = resolver.resolve(o.host, o.port, ec);
  if (ec) {
    std::fprintf(stderr, "cannot resolve %s:%s: %s\n", o.host.c_str(), o.port.c_str(), ec.message().c_str());
    return 2;
  }
  if (!o.verify_resume.empty()) return verify_resume(ioc, o, endpoints);

  std::string error;
  const std::vector<Script> scripts = load_scripts(o.scripts, &error);
  if (scripts.empty()) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 2;
  }
  // The recorded run: one reply sequence per script, named so that a record
  // made from other scripts is refused rather than compared.
  std::vector<std::vector<json>> expected;
  if (!o.expect.empty()) {
    std::ifstream in(o.expect);
    try {
      json j = json::parse(in);
      const auto& recorded = j.at("scripts");
      if (recorded.size() != scripts.size()) throw std::runtime_error("a different number of scripts");
      for (size_t s = 0; s < scripts.size(); ++s) {
        if (recorded[s].at("name") != scripts[s].name) throw std::runtime_error("script " + std::to_string(s) + " is named differently");
        expected.push_back(recorded[s].at("replies").get<std::vector<json>>());
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s\n", o.expect.c_str(), e.what());
      return 2;
    }
  }

  std::vector<Conversation> convs(o.conversations);
  for (int i = 0; i < o.conversations; ++i) {
    convs[i].index = i;
    convs[i].script = i % scripts.size();
  }
  const auto start = Clock::now();
  Driver driver(ioc, o, endpoints);
  driver.run_conversations(scripts, convs);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  // Without a record, the reference for a script is its lowest-numbered
  // completed conversation: all others on that script must agree with it.
  if (expected.empty()) {
    expected.resize(scripts.size());
    for (const auto& c : convs)
      if (c.completed && expected[c.script].empty()) expected[c.script] = c.replies;
  }
  size_t completed = 0, mismatches = 0, reported = 0;
  for (const auto& c : convs) {
    completed += c.completed;
    if (!c.failure.empty() && reported++ < 10) std::fprintf(stderr, "conversation %d: %s\n", c.index, c.failure.c_str());
    std::string diff = first_difference(expected[c.script], c.replies, c.completed);
    if (!diff.empty()) {
      ++mismatches;
      if (reported++ < 10) std::fprintf(stderr, "conversation %d MISMATCH at %s\n", c.index, diff.c_str());
    }
  }

  size_t unrecorded = 0;
  if (!o.record.empty()) {
    // A script no conversation completed would be recorded as no replies,
    // and every later comparison with it would fail for the wrong reason.
    for (size_t s = 0; s < scripts.size(); ++s)
      if (expected[s].empty()) {
        ++unrecorded;
        std::fprintf(stderr, "script %zu (%s): no completed conversation to record\n", s, scripts[s].name.c_str());
      }
    json out = {{"version", 1}, {"note", "written by conversation_driver --record; replies without reply_to"},
                {"scripts", json::array()}};
    for (size_t s = 0; s < scripts.size(); ++s)
      out["scripts"].push_back({{"name", scripts[s].name}, {"replies", expected[s]}});
    std::ofstream f(o.record);
    f << out.dump(1) << "\n";
    if (!f) {
      std::fprintf(stderr, "%s: cannot write\n", o.record.c_str());
      return 2;
    }
  }
  if (!o.tokens_out.empty()) {
    // Only sessions with an answered turn: nothing else is sure to be stored.
    std::ofstream f(o.tokens_out);
    for (const auto& c : convs)
      if (c.acked > 0)
        f << c.token << ' ' << "c" << c.index << "-t" << (c.acked - 1) << ' ' << digest(c.replies.back().dump())
          << "\n";
    if (!f) {
      std::fprintf(stderr, "%s: cannot write\n", o.tokens_out.c_str());
      return 2;
    }
  }

  const Totals& t = driver.totals();
  // ordered_json: the keys in the documented order, not sorted.
  nlohmann::ordered_json summary = {{"conversations", convs.size()},
                  {"completed", completed},
                  {"turns", driver.done_turns()},
                  {"reconnects", t.reconnects},
                  {"resends", t.resends},
                  {"mismatches", mismatches},
                  {"lost_sessions", t.lost_sessions},
                  {"duplicates", t.duplicates},
                  {"failed", convs.size() - completed},
                  {"seconds", std::round(seconds * 100) / 100}};
  std::printf("%s\n", summary.dump().c_str());
  const bool ok =
      completed == convs.size() && mismatches == 0 && t.lost_sessions == 0 && t.duplicates == 0 && unrecorded == 0;
  return ok ? 0 : 1;
}
