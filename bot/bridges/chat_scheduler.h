// ChatScheduler: runs updates with one ordered queue per chat and up to
// `max_parallel` chats at once. Updates of one chat are handled strictly in
// the order posted, one at a time; a chat waiting on a slow reply holds one
// worker and no other chat. Ready chats are served round robin, so a chat
// with a long backlog cannot starve the rest.
//
// Workers are threads started on demand, each with its own UpdateWorker
// (made on that thread by the factory), so a worker's connections belong
// to one thread.
//
// Thread safety: post(), stop() and queued() may be called from any thread.
#ifndef RUNBOT_BOT_BRIDGES_CHAT_SCHEDULER_H_
#define RUNBOT_BOT_BRIDGES_CHAT_SCHEDULER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bot/bridges/telegram_types.h"

namespace runbot::telegram {

class UpdateWorker {
 public:
  virtual ~UpdateWorker() = default;
  // Handles one update. `stop` is requested when the scheduler stops: an
  // update left unfinished then stays unanswered in the store, for the next run.
  virtual void handle(const Update& update, std::stop_token stop) = 0;
};

using WorkerFactory = std::function<std::unique_ptr<UpdateWorker>()>;

class ChatScheduler {
 public:
  // REQUIRES: max_parallel >= 1.
  ChatScheduler(int max_parallel, WorkerFactory factory);
  ~ChatScheduler();  // stop() and join()
  ChatScheduler(const ChatScheduler&) = delete;
  ChatScheduler& operator=(const ChatScheduler&) = delete;

  // Appends `update` to its chat's queue. Ignored after stop().
  void post(Update update);
  // Asks every worker to stop (their `stop` tokens) and starts no more
  // updates. Returns at once.
  void stop();
  // Waits for the workers to finish. REQUIRES: stop() was called.
  void join();
  // Updates posted and not yet started.
  size_t queued() const;

 private:
  void work();

  const size_t max_parallel_;
  const WorkerFactory factory_;
  std::stop_source stop_source_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  // A chat has an entry here while it has updates queued or one running.
  std::unordered_map<int64_t, std::deque<Update>> queues_;
  // Chats with queued updates and none running, in the order to serve them.
  std::deque<int64_t> ready_;
  size_t idle_ = 0;  // workers waiting for a ready chat
  std::vector<std::thread> threads_;
};

}  // namespace runbot::telegram

#endif  // RUNBOT_BOT_BRIDGES_CHAT_SCHEDULER_H_
