// SqliteStore: the embedded SessionStore, one SQLite file in WAL mode.
//
// Writes from every connection go to one writer thread, which commits all
// the writes queued while the previous commit was syncing in one
// transaction (group commit): a burst of N sessions costs one fsync, not N,
// so the store does not cap throughput. Each put()'s completion runs on the
// writer thread once its transaction is durable (synchronous=FULL) or has
// failed. Reads use their own connections (WAL readers never wait for the
// writer) and first wait for queued writes to the same key, so a session
// resumed right after a reply always sees that reply's state.
//
// Keys are stored as their SHA-256, so a copy of the file does not hand out
// live session tokens. Sessions idle past `idle_expiry` are invisible to
// get() and deleted by the writer every `purge_interval`.
//
// Thread safety: all methods are safe to call concurrently. Errors (disk
// full, locked by another process, I/O) come back as StoreStatus, never as
// exceptions or crashes.
#ifndef RUNBOT_BOT_STORE_SQLITE_STORE_H_
#define RUNBOT_BOT_STORE_SQLITE_STORE_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "bot/store/session_store.h"
#include "bot/store/write_queue.h"

struct sqlite3;
struct sqlite3_stmt;

namespace runbot {

struct SqliteStoreOptions {
  // The database file; created if missing (its folder must exist).
  std::string path = "runbot.db";
  // Sessions idle for longer than this expire and are purged. Default 30 days.
  std::chrono::seconds idle_expiry = std::chrono::hours(24 * 30);
  // How often the writer deletes expired sessions (also once at open).
  std::chrono::seconds purge_interval = std::chrono::hours(1);
  // How long a statement waits on a lock held by another process before
  // failing with "database is locked". Default 2 s.
  std::chrono::milliseconds busy_timeout{2000};
  // Most writes committed in one transaction. Default 1024.
  size_t max_batch = 1024;
  // true: synchronous=FULL, a completed write survives a power cut (on a
  // disk that honours fsync). false: synchronous=NORMAL, it survives a crash
  // of the process but the last commits can be lost on a power cut.
  bool sync_full = true;
  // Cap on the file size in pages, 0 for none. Tests use it to fill the
  // "disk" (SQLITE_FULL) on purpose.
  int64_t max_page_count = 0;
  // After a failed write the writer retries a probe write this often, so
  // that health() turns ok again once the disk or lock problem is gone.
  std::chrono::milliseconds probe_interval{1000};
  // Stands in for the system clock (tests move time forward).
  std::function<SessionStore::Clock::time_point()> clock = &SessionStore::Clock::now;
};

class SqliteStore final : public SessionStore {
 public:
  // Opens or creates the database, purges expired sessions and starts the
  // writer. On failure returns nullptr and sets *error.
  static std::unique_ptr<SqliteStore> open(SqliteStoreOptions options, std::string* error);

  // Completes every queued write, then stops the writer and closes.
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  StoreStatus get(const std::string& key, std::optional<SessionRecord>* record) override;
  void put(std::string key, SessionRecord record, Done done) override;
  StoreStatus purge_expired(size_t* removed = nullptr) override;
  void flush() override;
  StoreHealth health() override;
  size_t pending_writes() override;

  // Transactions committed so far (tests check that writes were grouped).
  uint64_t transactions() const;

 private:
  class Connection;

  explicit SqliteStore(SqliteStoreOptions options);
  StoreStatus open_connection(bool writer, std::unique_ptr<Connection>* out);
  void writer_loop();
  // Commits the batch in one transaction, sets each write's status (ok,
  // conflict or the transaction's error) and returns the transaction's.
  StoreStatus commit(std::vector<QueuedWrite>& batch);
  StoreStatus probe_write();
  int64_t now_seconds() const;

  const SqliteStoreOptions options_;
  // The writer connection: the writer thread's, and purge_expired()'s.
  std::mutex writer_mu_;
  std::unique_ptr<Connection> writer_;  // GUARDED_BY(writer_mu_)

  WriteQueue writes_;

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;  // GUARDED_BY(readers_mu_)

  std::thread writer_thread_;
};

}  // namespace runbot

#endif  // RUNBOT_BOT_STORE_SQLITE_STORE_H_
