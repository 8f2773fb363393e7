// The group-commit queue of the durable stores (SqliteStore, RedisStore).
//
// put() enqueues; one writer thread takes what has queued up as a batch,
// commits it in one transaction or one pipeline, then finish() runs every
// write's completion. Readers call wait_until_idle(key) first so that they
// never read a row older than a write to the same key that is still queued
// or in flight (read your writes).
//
// Thread-safe. The store keeps its connections; this keeps only the queue,
// its counters and the last error the writer saw.

#ifndef RUNBOT_BOT_STORE_WRITE_QUEUE_H_
#define RUNBOT_BOT_STORE_WRITE_QUEUE_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "bot/store/session_store.h"

namespace runbot {

struct QueuedWrite {
  std::string key;
  SessionRecord record;
  SessionStore::Done done;
  StoreStatus status;  // the commit sets it; finish() hands it to done
};

class WriteQueue {
 public:
  using Clock = std::chrono::steady_clock;

  WriteQueue() = default;
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;

  // Queues a write. After close() the write is refused at once: done gets
  // "store is closed" (outside the lock).
  void push(std::string key, SessionRecord record, SessionStore::Done done);

  enum class Take { kBatch, kIdle, kClosed };
  // The writer's wait: up to max_batch writes as soon as there are any
  // (kBatch); kIdle when `until` passed with none; kClosed when closed and
  // drained, the writer's cue to return.
  Take take(size_t max_batch, Clock::time_point until, std::vector<QueuedWrite>* batch);

  // After the commit: keys are no longer pending, `error` ("" when the
  // commit worked) becomes the last error, each write's done(status) runs
  // (a throwing completion is contained), then flush() waiters wake.
  void finish(std::vector<QueuedWrite>& batch, const std::string& error);

  // Waits until no write to `key` is queued or in flight; false when
  // `timeout` passed first (a stuck writer gives a stale read, not a hang).
  bool wait_until_idle(const std::string& key, std::chrono::milliseconds timeout);

  // Returns once every write queued before the call has completed.
  void flush();

  // Stops accepting writes; take() still drains what is queued.
  void close();

  // The queue's part of StoreHealth, read at one moment: ok (no error and
  // not closed), last_error, pending_writes.
  void report(StoreHealth* health) const;

  void set_last_error(std::string error);
  std::string last_error() const;
  size_t pending() const;    // queued plus in flight
  uint64_t batches() const;  // batches finished without error

 private:
  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // the writer waits for writes
  std::condition_variable done_cv_;  // readers and flush() wait for the writer
  std::deque<QueuedWrite> queue_;                      // GUARDED_BY(mu_)
  std::unordered_map<std::string, int> pending_keys_;  // GUARDED_BY(mu_): queued or in flight
  size_t in_flight_ = 0;                               // GUARDED_BY(mu_)
  uint64_t enqueued_ = 0;                              // GUARDED_BY(mu_)
  uint64_t completed_ = 0;                             // GUARDED_BY(mu_): done() has run
  uint64_t batches_ = 0;                               // GUARDED_BY(mu_)
  std::string last_error_;                             // GUARDED_BY(mu_)
  bool closed_ = false;                                // GUARDED_BY(mu_)
};

}  // namespace runbot

#endif  // RUNBOT_BOT_STORE_WRITE_QUEUE_H_
