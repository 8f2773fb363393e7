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
#include <cstdint>
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
  static StoreStatus error(std::string message) { return StoreStatus(std::move(message), false); }
  // A put() refused because the session changed since it was read (another
  // connection or instance committed a turn first). Nothing was written; the
  // store itself is healthy.
  static StoreStatus conflict() { return StoreStatus("session changed since it was read", true); }

  bool ok() const { return !failed_; }
  bool is_conflict() const { return conflict_; }
  const std::string& message() const { return message_; }

 private:
  StoreStatus(std::string message, bool conflict)
      : failed_(true), conflict_(conflict), message_(std::move(message)) {}
  bool failed_ = false;
  bool conflict_ = false;
  std::string message_;
};

// One stored session.
struct SessionRecord {
  std::string state;       // SessionState JSON (bot/session_state.h)
  std::string last_id;     // JSON of the last turn's client id; "" when it had none
  std::string last_reply;  // the reply frame sent for that turn; "" when none
  // How many writes the session has had: get() fills it in, and put() is a
  // compare-and-set on it (see put()). 0 for a session never stored.
  uint64_t version = 0;
  // The client ids (as JSON, one per line, newest first) of a few turns
  // before the last one, so that a copy of an old message arriving late
  // (from a stalled instance) is recognised as already applied rather than
  // run a second time. "" when none.
  std::string earlier_ids;

  bool operator==(const SessionRecord&) const = default;
};

// What /healthz shows about the store.
struct StoreHealth {
  bool ok = true;
  std::string kind;        // "sqlite", "redis", "memory"
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

  // Writes `record` under `key`, stamps it with the current time and stores
  // it as version record.version + 1, iff the stored session is still at
  // record.version (0: the session is absent or expired). Otherwise nothing
  // is written and `done` gets StoreStatus::conflict(): somebody else
  // committed a turn first, so the caller must read again and redo its turn
  // on the fresh state rather than overwrite it. This is what lets two
  // connections, or two server instances, share a session without losing a
  // turn. `done` runs exactly once, after the write is durable or with the
  // error that prevented it. Returns without waiting for the disk.
  virtual void put(std::string key, SessionRecord record, Done done) = 0;

  // Deletes every session idle for longer than the expiry time; *removed
  // (optional) gets the count.
  virtual StoreStatus purge_expired(size_t* removed = nullptr) = 0;

  // Blocks until every write queued before the call has completed.
  virtual void flush() = 0;

  virtual StoreHealth health() = 0;

  // Writes queued or in flight: health().pending_writes without building
  // the rest of the report, for the per-message overload check.
  virtual size_t pending_writes() = 0;
};

}  // namespace runbot

#endif  // RUNBOT_BOT_STORE_SESSION_STORE_H_
