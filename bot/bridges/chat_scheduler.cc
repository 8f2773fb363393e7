#include "bot/bridges/chat_scheduler.h"

namespace runbot::telegram {

ChatScheduler::ChatScheduler(int max_parallel, WorkerFactory factory)
    : max_parallel_(static_cast<size_t>(max_parallel < 1 ? 1 : max_parallel)), factory_(std::move(factory)) {}

ChatScheduler::~ChatScheduler() {
  stop();
  join();
}

void ChatScheduler::post(Update update) {
  std::lock_guard lock(mu_);
  if (stopping_) return;
  auto [it, is_new] = queues_.try_emplace(update.chat_id);
  it->second.push_back(std::move(update));
  // A chat already queued is either in ready_ or running; when it finishes
  // running it goes back to ready_ with this update.
  if (!is_new) return;
  ready_.push_back(it->first);
  if (ready_.size() > idle_ && threads_.size() < max_parallel_) threads_.emplace_back([this] { work(); });
  cv_.notify_one();
}

void ChatScheduler::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  stop_source_.request_stop();
  cv_.notify_all();
}

void ChatScheduler::join() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
}

size_t ChatScheduler::queued() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [chat, queue] : queues_) n += queue.size();
  return n;
}

void ChatScheduler::work() {
  std::unique_ptr<UpdateWorker> worker = factory_();
  std::unique_lock lock(mu_);
  for (;;) {
    ++idle_;
    cv_.wait(lock, [this] { return stopping_ || !ready_.empty(); });
    --idle_;
    if (stopping_) return;
    int64_t chat = ready_.front();
    ready_.pop_front();
    std::deque<Update>& queue = queues_[chat];
    Update update = std::move(queue.front());
    queue.pop_front();
    lock.unlock();
    worker->handle(update, stop_source_.get_token());
    lock.lock();
    // Looked up again: the map may have rehashed while unlocked.
    auto it = queues_.find(chat);
    if (it->second.empty()) {
      queues_.erase(it);
    } else {
      ready_.push_back(chat);
      cv_.notify_one();
    }
  }
}

}  // namespace runbot::telegram
