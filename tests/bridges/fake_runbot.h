// FakeRunbot: a stand-in for `runbot serve`'s POST /api/message on
// loopback, deterministic, so the bridge's tests do not depend on the real
// engine. It keeps the protocol's rules that matter to a client: a new
// session (token "sess-N") for a missing or unknown token; the reply
// object plus "session"; HTTP 400 {"type":"error","code":...} for bad
// input (too_long past 2,000 characters); and the retry rule: a message
// whose id is the id of the session's last turn gets that turn's stored
// reply, and the turn is not run again.
//
// A turn answers "you said: <text>" with quick replies ["Yes", "No"]; a text
// starting with "long" gets a second quick reply longer than 64 bytes
// (kLongQuickReply), one starting with "quiet" none.
//
// It can hold the replies to texts with a given prefix until release()
// (the turn is run first, then the answer waits), and fail on request.
//
// Thread safety: every method may be called from any thread.
#ifndef RUNBOT_TESTS_BRIDGES_FAKE_RUNBOT_H_
#define RUNBOT_TESTS_BRIDGES_FAKE_RUNBOT_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/bridges/loopback_server.h"

namespace runbot::telegram::test {

inline constexpr const char* kLongQuickReply =
    "It started after I increased my weekly mileage by more than ten percent";  // 71 bytes

class FakeRunbot {
 public:
  enum class Fault {
    kServerError,     // 500 {"type":"error","code":"internal"}, turn not run
    kOverloaded,      // 503 with Retry-After: 1, turn not run
    kDropBeforeTurn,  // connection closed, turn not run
    kDropAfterTurn,   // turn run and stored, then the connection closed: the reply is lost
    kGarbage,         // 200 with a body that is not JSON, turn not run
  };
  struct Turn {
    std::string session;
    std::string id;
    std::string text;
  };

  FakeRunbot();
  ~FakeRunbot();
  FakeRunbot(const FakeRunbot&) = delete;
  FakeRunbot& operator=(const FakeRunbot&) = delete;

  std::string url() const { return server_->url(); }

  // The next `times` requests fail with `fault`.
  void inject(Fault fault, int times = 1);
  // Replies to texts starting with `prefix` wait, after their turn is run,
  // until release() (or a 10 s guard).
  void hold(const std::string& prefix);
  void release();

  // Every turn run, in order; retries answered from the store are not turns.
  std::vector<Turn> turns() const;
  size_t requests() const;
  // Retries answered with the stored reply.
  size_t replays() const;
  // Every request body, parsed, in order.
  std::vector<nlohmann::json> bodies() const;

  bool wait_until(const std::function<bool()>& pred,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  ReplyOut handle(const RequestIn& req);
  void changed();  // REQUIRES: mu_ held

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  uint64_t version_ = 0;
  bool stopping_ = false;
  std::string held_prefix_;
  bool released_ = false;
  std::deque<Fault> faults_;
  int next_session_ = 1;
  struct Session {
    std::string last_id;  // JSON of the last turn's id; "" if none
    nlohmann::json last_reply;
  };
  std::map<std::string, Session> sessions_;
  std::vector<Turn> turns_;
  std::vector<nlohmann::json> bodies_;
  size_t requests_ = 0;
  size_t replays_ = 0;
  std::unique_ptr<LoopbackServer> server_;  // last: stopped before the state goes
};

}  // namespace runbot::telegram::test

#endif  // RUNBOT_TESTS_BRIDGES_FAKE_RUNBOT_H_
