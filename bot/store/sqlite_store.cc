#include "bot/store/sqlite_store.h"

#include <sqlite3.h>

#include "bot/store/key_hash.h"

namespace runbot {
namespace {

std::string column_text(sqlite3_stmt* stmt, int col) {
  const unsigned char* p = sqlite3_column_text(stmt, col);
  return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt, col)) : std::string();
}

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS sessions("
    "  key TEXT PRIMARY KEY,"        // SHA-256 of the session token
    "  state TEXT NOT NULL,"         // SessionState JSON: slots, never message text
    "  last_id TEXT NOT NULL,"       // client id of the last turn, as JSON, or ''
    "  last_reply TEXT NOT NULL,"    // reply frame of the last turn, or ''
    "  updated_at INTEGER NOT NULL,"  // unix seconds
    "  version INTEGER NOT NULL DEFAULT 0,"  // writes so far: put() compares and sets it
    "  earlier_ids TEXT NOT NULL DEFAULT ''"  // ids of the turns before the last, one per line
    ") WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS sessions_updated_at ON sessions(updated_at);"
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO meta VALUES('schema', 2);";

// Schema 1 files (before sessions had versions) gain the column; their
// sessions start at version 0, which is what get() then reports.
constexpr const char* kAddVersion =
    "ALTER TABLE sessions ADD COLUMN version INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE sessions ADD COLUMN earlier_ids TEXT NOT NULL DEFAULT '';";

}  // namespace

// One SQLite connection and its prepared statements; used by one thread at
// a time.
class SqliteStore::Connection {
 public:
  ~Connection() {
    for (sqlite3_stmt* s : {get_, put_, purge_, probe_}) sqlite3_finalize(s);
    sqlite3_close_v2(db_);
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* get_ = nullptr;
  sqlite3_stmt* put_ = nullptr;
  sqlite3_stmt* purge_ = nullptr;
  sqlite3_stmt* probe_ = nullptr;

  StoreStatus error(const char* what) const {
    return StoreStatus::error(std::string(what) + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory"));
  }
  StoreStatus exec(const char* sql) const {
    char* msg = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) == SQLITE_OK) return StoreStatus::ok_status();
    std::string text = msg ? msg : sqlite3_errmsg(db_);
    sqlite3_free(msg);
    return StoreStatus::error(text);
  }
  bool has_column(const char* table, const char* column) const {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, ("PRAGMA table_info(" + std::string(table) + ")").c_str(), -1, &stmt, nullptr) !=
        SQLITE_OK)
      return false;
    bool found = false;
    while (!found && sqlite3_step(stmt) == SQLITE_ROW)
      found = column_text(stmt, 1) == column;
    sqlite3_finalize(stmt);
    return found;
  }
  StoreStatus prepare(const char* sql, sqlite3_stmt** stmt) const {
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, nullptr) != SQLITE_OK)
      return error("prepare");
    return StoreStatus::ok_status();
  }
};

SqliteStore::SqliteStore(SqliteStoreOptions options) : options_(std::move(options)) {}

std::unique_ptr<SqliteStore> SqliteStore::open(SqliteStoreOptions options, std::string* error) {
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(options)));
  StoreStatus s = store->open_connection(/*writer=*/true, &store->writer_);
  if (s.ok()) s = store->purge_expired();
  if (!s.ok()) {
    *error = store->options_.path + ": " + s.message();
    return nullptr;
  }
  store->writer_thread_ = std::thread([raw = store.get()] { raw->writer_loop(); });
  return store;
}

SqliteStore::~SqliteStore() {
  writes_.close();
  if (writer_thread_.joinable()) writer_thread_.join();
}

StoreStatus SqliteStore::open_connection(bool writer, std::unique_ptr<Connection>* out) {
  auto c = std::make_unique<Connection>();
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(options_.path.c_str(), &c->db_, flags, nullptr) != SQLITE_OK) return c->error("open");
  sqlite3_extended_result_codes(c->db_, 1);
  sqlite3_busy_timeout(c->db_, static_cast<int>(options_.busy_timeout.count()));
  StoreStatus s;
  if (writer) {
    // journal_mode answers with the mode in force; a file system without
    // shared memory support keeps "delete", which we refuse rather than
    // silently losing concurrency between readers and the writer.
    sqlite3_stmt* stmt = nullptr;
    if ((s = c->prepare("PRAGMA journal_mode=WAL", &stmt)).ok()) {
      std::string mode = sqlite3_step(stmt) == SQLITE_ROW ? column_text(stmt, 0) : "";
      sqlite3_finalize(stmt);
      if (mode != "wal") s = mode.empty() ? c->error("journal_mode") : StoreStatus::error("cannot use WAL mode (got " + mode + ")");
    }
    if (s.ok()) s = c->exec(options_.sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    if (s.ok() && options_.max_page_count > 0)
      s = c->exec(("PRAGMA max_page_count=" + std::to_string(options_.max_page_count)).c_str());
    if (s.ok()) s = c->exec(kSchema);
    if (s.ok() && !c->has_column("sessions", "version")) {
      s = c->exec(kAddVersion);
      if (s.ok()) s = c->exec("UPDATE meta SET v = 2 WHERE k = 'schema'");
    }
    // The compare-and-set of SessionStore::put(): the row is written iff it
    // is absent, still at the version the caller read (?6), or expired
    // (?7: get() reported it absent, so the caller read version 0). No row
    // changed means a conflict.
    if (s.ok())
      s = c->prepare(
          "INSERT INTO sessions(key, state, last_id, last_reply, updated_at, version, earlier_ids) "
          "VALUES(?1, ?2, ?3, ?4, ?5, ?6 + 1, ?8) "
          "ON CONFLICT(key) DO UPDATE SET state = ?2, last_id = ?3, last_reply = ?4, updated_at = ?5, "
          "version = ?6 + 1, earlier_ids = ?8 WHERE sessions.version = ?6 OR sessions.updated_at < ?7",
          &c->put_);
    if (s.ok()) s = c->prepare("DELETE FROM sessions WHERE updated_at < ?1", &c->purge_);
    if (s.ok()) s = c->prepare("INSERT OR REPLACE INTO meta VALUES('probe', ?1)", &c->probe_);
  } else {
    s = c->exec("PRAGMA query_only=1");
    if (s.ok())
      s = c->prepare(
          "SELECT state, last_id, last_reply, updated_at, version, earlier_ids FROM sessions WHERE key = ?1",
                     &c->get_);
  }
  if (!s.ok()) return s;
  *out = std::move(c);
  return StoreStatus::ok_status();
}

int64_t SqliteStore::now_seconds() const {
  return std::chrono::duration_cast<std::chrono::seconds>(options_.clock().time_since_epoch()).count();
}

StoreStatus SqliteStore::get(const std::string& key, std::optional<SessionRecord>* record) {
  {
    // Read your writes: a write to this key that is queued or committing
    // would make the row below stale. Bounded, so that a stuck writer turns
    // into a stale read of the last committed state rather than a hang.
    writes_.wait_until_idle(key, options_.busy_timeout + std::chrono::seconds(1));
  }
  std::unique_ptr<Connection> c;
  {
    std::lock_guard lock(readers_mu_);
    if (!idle_readers_.empty()) {
      c = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    }
  }
  if (!c) {
    StoreStatus s = open_connection(/*writer=*/false, &c);
    if (!s.ok()) return s;
  }
  const std::string hashed = hashed_session_key(key);
  sqlite3_bind_text(c->get_, 1, hashed.data(), static_cast<int>(hashed.size()), SQLITE_STATIC);
  int rc = sqlite3_step(c->get_);
  StoreStatus status;
  if (rc == SQLITE_ROW) {
    const int64_t updated = sqlite3_column_int64(c->get_, 3);
    if (now_seconds() - updated > options_.idle_expiry.count())
      record->reset();
    else
      *record = SessionRecord{column_text(c->get_, 0), column_text(c->get_, 1), column_text(c->get_, 2),
                              static_cast<uint64_t>(sqlite3_column_int64(c->get_, 4)), column_text(c->get_, 5)};
  } else if (rc == SQLITE_DONE) {
    record->reset();
  } else {
    status = c->error("read");
  }
  sqlite3_reset(c->get_);
  sqlite3_clear_bindings(c->get_);
  std::lock_guard lock(readers_mu_);
  idle_readers_.push_back(std::move(c));
  return status;
}

void SqliteStore::put(std::string key, SessionRecord record, Done done) {
  writes_.push(std::move(key), std::move(record), std::move(done));
}

void SqliteStore::writer_loop() {
  using Steady = std::chrono::steady_clock;
  auto next_purge = Steady::now() + options_.purge_interval;
  std::vector<QueuedWrite> batch;
  for (;;) {
    auto wake = next_purge;
    const bool failing = !writes_.last_error().empty();
    if (failing) wake = std::min(wake, Steady::now() + options_.probe_interval);
    const WriteQueue::Take took = writes_.take(options_.max_batch, wake, &batch);
    if (took == WriteQueue::Take::kClosed) return;
    if (took == WriteQueue::Take::kBatch) {
      StoreStatus status;
      {
        std::lock_guard writer_lock(writer_mu_);
        status = commit(batch);
      }
      writes_.finish(batch, status.ok() ? "" : status.message());
    } else if (failing) {
      // Idle after a failure: a test write finds out whether the disk (or
      // the lock holder) has recovered, so health() does not wait for traffic.
      StoreStatus status;
      {
        std::lock_guard writer_lock(writer_mu_);
        status = probe_write();
      }
      if (status.ok()) writes_.set_last_error("");
    }
    if (Steady::now() >= next_purge) {
      purge_expired();
      next_purge = Steady::now() + options_.purge_interval;
    }
  }
}

// REQUIRES: writer_mu_ held (also for probe_write).
StoreStatus SqliteStore::commit(std::vector<QueuedWrite>& batch) {
  // Every write fails with the transaction unless it commits.
  auto fail_all = [&](const StoreStatus& s) {
    for (QueuedWrite& w : batch) w.status = s;
    return s;
  };
  // BEGIN IMMEDIATE takes the write lock up front, so a lock held by
  // another process fails here (after busy_timeout) and not half way.
  StoreStatus s = writer_->exec("BEGIN IMMEDIATE");
  if (!s.ok()) return fail_all(s);
  const int64_t now = now_seconds();
  sqlite3_stmt* put = writer_->put_;
  for (QueuedWrite& p : batch) {
    const std::string hashed = hashed_session_key(p.key);
    sqlite3_bind_text(put, 1, hashed.data(), static_cast<int>(hashed.size()), SQLITE_STATIC);
    sqlite3_bind_text(put, 2, p.record.state.data(), static_cast<int>(p.record.state.size()), SQLITE_STATIC);
    sqlite3_bind_text(put, 3, p.record.last_id.data(), static_cast<int>(p.record.last_id.size()), SQLITE_STATIC);
    sqlite3_bind_text(put, 4, p.record.last_reply.data(), static_cast<int>(p.record.last_reply.size()),
                      SQLITE_STATIC);
    sqlite3_bind_int64(put, 5, now);
    sqlite3_bind_int64(put, 6, static_cast<int64_t>(p.record.version));
    sqlite3_bind_int64(put, 7, now - options_.idle_expiry.count());
    sqlite3_bind_text(put, 8, p.record.earlier_ids.data(), static_cast<int>(p.record.earlier_ids.size()),
                      SQLITE_STATIC);
    int rc = sqlite3_step(put);
    // No row changed: the stored version was not the record's.
    p.status = rc == SQLITE_DONE && sqlite3_changes(writer_->db_) == 0 ? StoreStatus::conflict() : StoreStatus();
    sqlite3_reset(put);
    sqlite3_clear_bindings(put);
    if (rc != SQLITE_DONE) {
      s = writer_->error("write");
      writer_->exec("ROLLBACK");
      return fail_all(s);
    }
  }
  s = writer_->exec("COMMIT");
  if (s.ok()) return s;
  writer_->exec("ROLLBACK");
  return fail_all(s);
}

StoreStatus SqliteStore::probe_write() {
  sqlite3_bind_int64(writer_->probe_, 1, now_seconds());
  int rc = sqlite3_step(writer_->probe_);
  sqlite3_reset(writer_->probe_);
  return rc == SQLITE_DONE ? StoreStatus::ok_status() : writer_->error("probe");
}

StoreStatus SqliteStore::purge_expired(size_t* removed) {
  std::lock_guard writer_lock(writer_mu_);
  sqlite3_bind_int64(writer_->purge_, 1, now_seconds() - options_.idle_expiry.count());
  int rc = sqlite3_step(writer_->purge_);
  sqlite3_reset(writer_->purge_);
  if (rc != SQLITE_DONE) return writer_->error("purge");
  if (removed) *removed = static_cast<size_t>(sqlite3_changes(writer_->db_));
  return StoreStatus::ok_status();
}

void SqliteStore::flush() { writes_.flush(); }

size_t SqliteStore::pending_writes() { return writes_.pending(); }

StoreHealth SqliteStore::health() {
  StoreHealth h;
  h.kind = "sqlite";
  h.detail = options_.path;
  writes_.report(&h);
  return h;
}

uint64_t SqliteStore::transactions() const { return writes_.batches(); }

}  // namespace runbot
