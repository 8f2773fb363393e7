// FakeTelegram: a Bot API server on loopback (plain HTTP, for
// --api-base http://127.0.0.1:PORT) that follows the documented JSON of
// getUpdates (long polling with offset, timeout and limit; an update is
// forgotten once a later call's offset passes it; a new call ends a
// waiting one with 409), sendMessage (text, reply_markup.inline_keyboard,
// Telegram's validation of both) and answerCallbackQuery (each query
// answerable once). A path with another token gets 401.
//
// It fails on request, per method: 429 with parameters.retry_after, 500, a
// connection dropped before the request is handled, a 200 whose body is
// not JSON. A failed request is not acted on, like a proxy failing in front
// of Telegram, so the test can demand that every update is answered
// exactly once.
//
// Users are played with user_says() and user_presses(); what the bot did is
// read back with sent() and answered_callbacks().
//
// Thread safety: every method may be called from any thread.
#ifndef RUNBOT_TESTS_BRIDGES_FAKE_TELEGRAM_H_
#define RUNBOT_TESTS_BRIDGES_FAKE_TELEGRAM_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tests/bridges/loopback_server.h"

namespace runbot::telegram::test {

class FakeTelegram {
 public:
  enum class Fault { kTooManyRequests, kServerError, kDrop, kGarbage };

  struct Button {
    std::string text;
    std::string callback_data;
  };
  struct Sent {
    int64_t message_id = 0;
    int64_t chat_id = 0;
    std::string text;
    std::vector<std::vector<Button>> keyboard;
    bool parse_mode = false;  // the bot asked for Markdown/HTML
  };
  struct Call {
    std::string method;
    std::chrono::steady_clock::time_point at;
    std::optional<Fault> fault;  // the fault this call got, if any
  };

  explicit FakeTelegram(std::string token);
  ~FakeTelegram();
  FakeTelegram(const FakeTelegram&) = delete;
  FakeTelegram& operator=(const FakeTelegram&) = delete;

  std::string api_base() const { return server_->url(); }

  // A user in private chat `chat_id` sends a text message. Returns its update_id.
  int64_t user_says(int64_t chat_id, const std::string& text);
  // A user sends a photo (no text).
  int64_t user_sends_photo(int64_t chat_id);
  // The user of `message`'s chat presses its button at [row][col]: a
  // callback_query carrying the message with its reply_markup, as Telegram sends it.
  int64_t user_presses(const Sent& message, size_t row, size_t col);
  // Queues `update` as it is (update_id included or not), for malformed
  // input. One without an update_id is delivered once.
  void push_raw(nlohmann::json update);
  // sendMessage to `chat_id` gets 403 "bot was blocked by the user".
  void block(int64_t chat_id);

  // The next `times` calls of `method` fail with `fault`.
  void inject(const std::string& method, Fault fault, int times = 1, int retry_after_s = 1);

  std::vector<Sent> sent() const;
  std::vector<Sent> sent_to(int64_t chat_id) const;
  std::vector<std::string> sent_texts(int64_t chat_id) const;
  std::vector<std::string> answered_callbacks() const;
  std::vector<Call> calls() const;
  size_t unauthorized_calls() const;
  // The largest offset a getUpdates has confirmed.
  int64_t confirmed_offset() const;

  // Waits until `pred` holds (it is re-checked after every change to the
  // fake; it may call the accessors above) or `timeout` passes, a guard
  // only. Returns pred()'s last value.
  bool wait_until(const std::function<bool()>& pred,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  // Waits until `n` messages were sent in all.
  bool wait_for_sent(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  ReplyOut handle(const RequestIn& req);
  ReplyOut get_updates(const nlohmann::json& params);
  ReplyOut send_message(const nlohmann::json& params);
  ReplyOut answer_callback_query(const nlohmann::json& params);
  int64_t queue_update(nlohmann::json update);  // REQUIRES: mu_ held
  void changed();                               // REQUIRES: mu_ held

  const std::string token_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  uint64_t version_ = 0;  // bumped on every change, for wait_until
  bool stopping_ = false;
  int64_t next_update_id_ = 700000001;  // Telegram's ids are large and sequential
  int64_t next_message_id_ = 1;
  int next_callback_ = 1;
  std::deque<nlohmann::json> updates_;  // not yet confirmed
  int64_t confirmed_ = 0;
  uint64_t poll_generation_ = 0;
  std::map<std::string, std::deque<std::pair<Fault, int>>> faults_;
  std::set<int64_t> blocked_;
  std::set<std::string> open_callbacks_;
  std::vector<Sent> sent_;
  std::vector<std::string> answered_;
  std::vector<Call> calls_;
  size_t unauthorized_ = 0;
  std::unique_ptr<LoopbackServer> server_;  // last: stopped before the state goes
};

}  // namespace runbot::telegram::test

#endif  // RUNBOT_TESTS_BRIDGES_FAKE_TELEGRAM_H_
