// SessionStore: where dialog state lives between turns, so that a session
// survives a crash, a restart or a move to another instance. Keys are the
// session tokens (opaque strings); values are the state JSON and the last
// turn's client id and reply, kept for the retry rule of spec/protocol.md.
// No message text is ever stored.
//
// Thread safety: every method may be called from any thread at once. put()'s
// completion runs on a store-owned thread (or inline, for MemoryStore), so it
// must be quick and must not block: post to your own executor.
#ifndef RUNBOT_BOT_STORE_SESSION_STORE_H_
#define RUNBOT_BOT_STORE_SESSION_STORE_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>

namespace runbot {

// The outcome of a store operation: ok, or an error with a message for logs
// and /healthz ("database or disk is full", "database is locked"). Never
// carries user text.
class StoreStatus {
 public:
  StoreStatus() = default;
  static StoreStatus ok_status() { return StoreStatus(); }
  static StoreStatus error(std::string message) { return StoreStatus(std::move(message)); }

  bool ok() const { return !failed_; }
  const std::string& message() const { return message_; }

 private:
  explicit StoreStatus(std::string message) : failed_(true), message_(std::move(message)) {}
  bool failed_ = false;
  std::string message_;
};

// One stored session.
struct SessionRecord {
  std::string state;       // SessionState JSON (bot/session_state.h)
  std::string last_id;     // JSON of the last turn's client id; "" when it had none
  std::string last_reply;  // the reply frame sent for that turn; "" when none

  bool operator==(const SessionRecord&) const = default;
};

// What /healthz shows about the store.
struct StoreHealth {
  bool ok = true;
  std::string kind;        // "sqlite", "memory"
  std::string detail;      // path or similar; never secrets
  std::string last_error;  // "" when the last operation succeeded
  size_t pending_writes = 0;
};

class SessionStore {
 public:
  using Clock = std::chrono::system_clock;
  using Done = std::function<void(const StoreStatus&)>;

  virtual ~SessionStore() = default;

  // Looks `key` up. On success *record holds the session, or nullopt when it
  // is unknown or idle for longer than the expiry time. Sees every write
  // whose completion has run (and waits for queued writes to the same key).
  // Fails (record untouched) only when the store cannot be read.
  virtual StoreStatus get(const std::string& key, std::optional<SessionRecord>* record) = 0;

  // Writes `record` under `key` and stamps it with the current time. `done`
  // runs exactly once, after the write is durable or with the error that
  // prevented it. Returns without waiting for the disk.
  virtual void put(std::string key, SessionRecord record, Done done) = 0;

  // Deletes every session idle for longer than the expiry time; *removed
  // (optional) gets the count.
  virtual StoreStatus purge_expired(size_t* removed = nullptr) = 0;

  // Blocks until every write queued before the call has completed.
  virtual void flush() = 0;

  virtual StoreHealth health() = 0;
};

}  // namespace runbot

#endif  // RUNBOT_BOT_STORE_SESSION_STORE_H_
