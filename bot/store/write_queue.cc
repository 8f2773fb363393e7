#include "bot/store/write_queue.h"

#include <utility>

namespace runbot {

void WriteQueue::push(std::string key, SessionRecord record, SessionStore::Done done) {
  {
    std::lock_guard lock(mu_);
    if (!closed_) {
      ++pending_keys_[key];
      ++enqueued_;
      queue_.push_back(QueuedWrite{std::move(key), std::move(record), std::move(done), {}});
      work_cv_.notify_one();
      return;
    }
  }
  if (done) done(StoreStatus::error("store is closed"));
}

WriteQueue::Take WriteQueue::take(size_t max_batch, Clock::time_point until, std::vector<QueuedWrite>* batch) {
  batch->clear();
  std::unique_lock lock(mu_);
  work_cv_.wait_until(lock, until, [&] { return closed_ || !queue_.empty(); });
  if (queue_.empty()) return closed_ ? Take::kClosed : Take::kIdle;
  while (!queue_.empty() && batch->size() < max_batch) {
    batch->push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  in_flight_ += batch->size();
  return Take::kBatch;
}

void WriteQueue::finish(std::vector<QueuedWrite>& batch, const std::string& error) {
  {
    std::lock_guard lock(mu_);
    for (const QueuedWrite& w : batch)
      if (auto it = pending_keys_.find(w.key); it != pending_keys_.end() && --it->second == 0)
        pending_keys_.erase(it);
    in_flight_ -= batch.size();
    last_error_ = error;
    if (error.empty()) ++batches_;
  }
  // Readers of these keys may go now: the rows are as durable as they will get.
  done_cv_.notify_all();
  for (QueuedWrite& w : batch) {
    try {
      if (w.done) w.done(w.status);
    } catch (...) {
      // A completion must not throw; if one does, the writer must still
      // serve everyone else.
    }
  }
  {
    std::lock_guard lock(mu_);
    completed_ += batch.size();
  }
  done_cv_.notify_all();
}

bool WriteQueue::wait_until_idle(const std::string& key, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return done_cv_.wait_for(lock, timeout, [&] { return !pending_keys_.contains(key); });
}

void WriteQueue::flush() {
  std::unique_lock lock(mu_);
  const uint64_t target = enqueued_;
  done_cv_.wait(lock, [&] { return completed_ >= target; });
}

void WriteQueue::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  work_cv_.notify_all();
}

void WriteQueue::report(StoreHealth* health) const {
  std::lock_guard lock(mu_);
  health->last_error = last_error_;
  health->ok = last_error_.empty() && !closed_;
  health->pending_writes = queue_.size() + in_flight_;
}

void WriteQueue::set_last_error(std::string error) {
  std::lock_guard lock(mu_);
  last_error_ = std::move(error);
}

std::string WriteQueue::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

size_t WriteQueue::pending() const {
  std::lock_guard lock(mu_);
  return queue_.size() + in_flight_;
}

uint64_t WriteQueue::batches() const {
  std::lock_guard lock(mu_);
  return batches_;
}

}  // namespace runbot
