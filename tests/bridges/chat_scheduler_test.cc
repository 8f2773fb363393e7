// ChatScheduler: per-chat order, chats in parallel up to the limit, a
// blocked chat holding up no other, and stop.
#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>

#include "bot/bridges/chat_scheduler.h"

namespace runbot::telegram {

using namespace std::chrono_literals;

namespace {

// Records what workers do; a chat in `blocked` waits in handle() until
// unblock(), or until the scheduler stops.
struct Recorder {
  std::mutex mu;
  std::condition_variable_any cv;  // _any: waits that end on a stop token
  std::map<int64_t, std::vector<int64_t>> done;  // chat -> update ids, in handling order
  std::set<int64_t> blocked;
  int running = 0, max_running = 0;
  std::map<int64_t, int> running_per_chat;
  bool overlap_in_chat = false;
  size_t total = 0;
  std::set<int64_t> entered;  // chats that have entered handle() at least once

  void unblock(int64_t chat) {
    std::lock_guard lock(mu);
    blocked.erase(chat);
    cv.notify_all();
  }
  bool wait(const std::function<bool()>& pred, std::chrono::milliseconds guard = 10s) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, guard, pred);
  }
};

class RecordingWorker : public UpdateWorker {
 public:
  explicit RecordingWorker(Recorder* r) : r_(r) {}
  void handle(const Update& u, std::stop_token stop) override {
    std::unique_lock lock(r_->mu);
    r_->entered.insert(u.chat_id);
    if (++r_->running_per_chat[u.chat_id] > 1) r_->overlap_in_chat = true;
    r_->max_running = std::max(r_->max_running, ++r_->running);
    r_->cv.notify_all();
    r_->cv.wait(lock, stop, [&] { return r_->blocked.count(u.chat_id) == 0; });
    --r_->running;
    --r_->running_per_chat[u.chat_id];
    if (!stop.stop_requested()) {
      r_->done[u.chat_id].push_back(u.update_id);
      ++r_->total;
    }
    r_->cv.notify_all();
  }

 private:
  Recorder* r_;
};

Update update(int64_t id, int64_t chat) {
  Update u;
  u.update_id = id;
  u.chat_id = chat;
  u.kind = UpdateKind::kText;
  return u;
}

}  // namespace

TEST_SUITE("chat scheduler") {
  TEST_CASE("updates of one chat are handled in order, one at a time, while chats run in parallel") {
    Recorder r;
    {
      ChatScheduler s(4, [&] { return std::make_unique<RecordingWorker>(&r); });
      int64_t id = 1;
      for (int round = 0; round < 25; ++round)
        for (int64_t chat = 1; chat <= 6; ++chat) s.post(update(id++, chat));
      CHECK(r.wait([&] { return r.total == 150; }));
      s.stop();
      s.join();
    }
    CHECK(!r.overlap_in_chat);
    CHECK(r.max_running <= 4);
    for (auto& [chat, ids] : r.done) {
      // A named copy: CAPTURE is a lambda, and clang before 16 cannot capture
      // a structured binding (the sanitizer presets build with clang 14).
      const auto chat_id = chat;
      CAPTURE(chat_id);
      CHECK(ids.size() == 25);
      CHECK(std::is_sorted(ids.begin(), ids.end()));
    }
  }

  TEST_CASE("a blocked chat holds up no other chat, even with two workers") {
    Recorder r;
    r.blocked.insert(1);
    ChatScheduler s(2, [&] { return std::make_unique<RecordingWorker>(&r); });
    s.post(update(1, 1));
    s.post(update(2, 1));  // queued behind the blocked one
    for (int64_t i = 0; i < 10; ++i) s.post(update(10 + i, 2 + i % 3));
    CHECK(r.wait([&] { return r.total == 10; }));
    {
      std::lock_guard lock(r.mu);
      CHECK(r.done.count(1) == 0);
    }
    r.unblock(1);
    CHECK(r.wait([&] { return r.total == 12; }));
    std::lock_guard lock(r.mu);
    CHECK(r.done[1] == std::vector<int64_t>{1, 2});
  }

  TEST_CASE("no more than max_parallel chats run at once") {
    Recorder r;
    for (int64_t chat = 1; chat <= 5; ++chat) r.blocked.insert(chat);
    ChatScheduler s(3, [&] { return std::make_unique<RecordingWorker>(&r); });
    for (int64_t chat = 1; chat <= 5; ++chat) s.post(update(chat, chat));
    CHECK(r.wait([&] { return r.running == 3; }));
    for (int64_t chat = 1; chat <= 5; ++chat) r.unblock(chat);
    CHECK(r.wait([&] { return r.total == 5; }));
    std::lock_guard lock(r.mu);
    CHECK(r.max_running == 3);
  }

  TEST_CASE("stop interrupts the running updates and leaves queued ones unhandled") {
    Recorder r;
    r.blocked.insert(1);
    ChatScheduler s(2, [&] { return std::make_unique<RecordingWorker>(&r); });
    s.post(update(1, 1));
    s.post(update(2, 1));
    s.post(update(3, 1));
    CHECK(r.wait([&] { return r.entered.count(1) == 1; }));
    CHECK(s.queued() == 2);
    s.stop();
    s.join();
    s.post(update(4, 9));  // ignored after stop
    CHECK(s.queued() == 2);
    CHECK(r.total == 0);
  }
}

}  // namespace runbot::telegram
