#include "bot/bridges/bridge_store.h"

#include <sqlite3.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace runbot::telegram {
namespace {

// Marks the file as this program's ("RBTG"), so --db pointed at the
// server's session database is refused rather than written into.
constexpr int kApplicationId = 0x52425447;
constexpr int kSchemaVersion = 1;
// Answered ids kept below the offset. Telegram never sends an update below
// the offset again; these are kept for the restart case and for debugging,
// and pruned so the file does not grow without end.
constexpr int64_t kKeepAnswered = 10000;

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS meta(
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS updates(
  update_id   INTEGER PRIMARY KEY,
  chat_id     INTEGER NOT NULL,
  kind        INTEGER NOT NULL,
  text        TEXT,
  callback_id TEXT,
  answered    INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS updates_pending ON updates(answered, update_id);
CREATE TABLE IF NOT EXISTS chats(
  chat_id INTEGER PRIMARY KEY,
  session TEXT NOT NULL);
)";

// A prepared statement, finalized at scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { ok_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) == SQLITE_OK; }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool ok() const { return ok_; }
  void bind(int i, int64_t v) { ok_ = ok_ && sqlite3_bind_int64(stmt_, i, v) == SQLITE_OK; }
  void bind(int i, const std::string& v) {
    ok_ = ok_ && sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) == SQLITE_OK;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return ok_ ? sqlite3_step(stmt_) : SQLITE_ERROR; }
  bool run() {
    int rc = step();
    sqlite3_reset(stmt_);
    return rc == SQLITE_DONE;
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  int64_t int_at(int col) { return sqlite3_column_int64(stmt_, col); }
  std::string text_at(int col) {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  bool ok_ = false;
};

}  // namespace

std::unique_ptr<BridgeStore> BridgeStore::open(const std::string& path, std::string* error) {
  // The file holds runbot session tokens, which are secrets: only this user
  // may read it. SQLite gives its -wal and -shm files the same mode.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = std::strerror(errno);
    return nullptr;
  }
  ::close(fd);
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    *error = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return nullptr;
  }
  std::unique_ptr<BridgeStore> store(new BridgeStore(db));
  sqlite3_busy_timeout(db, 5000);
  auto refuse = [&](std::string why) {
    *error = std::move(why);
    return nullptr;
  };
  int app_id = 0, version = 0, tables = 0;
  {
    Stmt q(db, "SELECT (SELECT application_id FROM pragma_application_id), (SELECT user_version FROM pragma_user_version),"
               " (SELECT count(*) FROM sqlite_master)");
    if (q.step() != SQLITE_ROW) return refuse(std::string("cannot read the database: ") + sqlite3_errmsg(db));
    app_id = static_cast<int>(q.int_at(0));
    version = static_cast<int>(q.int_at(1));
    tables = static_cast<int>(q.int_at(2));
  }
  if (tables > 0 && app_id != kApplicationId) return refuse("the file is not a Telegram bridge database");
  if (tables > 0 && version != kSchemaVersion) {
    std::string why = "the database has schema version ";
    why += std::to_string(version);
    why += ", this program knows ";
    why += std::to_string(kSchemaVersion);
    return refuse(std::move(why));
  }
  // WAL: readers never block the one writer. synchronous=FULL: a committed
  // "answered" or offset survives a power cut, which is the whole point.
  if (!store->exec("PRAGMA journal_mode=WAL") || !store->exec("PRAGMA synchronous=FULL") || !store->exec(kSchema) ||
      !store->exec("PRAGMA application_id=1380078663") || !store->exec("PRAGMA user_version=1"))
    return refuse(store->error_);
  static_assert(kApplicationId == 1380078663 && kSchemaVersion == 1, "keep the PRAGMAs above in step");
  return store;
}

BridgeStore::~BridgeStore() { sqlite3_close(db_); }

bool BridgeStore::exec(const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) == SQLITE_OK) return true;
  error_ = msg ? msg : sqlite3_errmsg(db_);
  sqlite3_free(msg);
  return false;
}

bool BridgeStore::fail(const char* what) {
  error_ = what;
  error_ += ": ";
  error_ += sqlite3_errmsg(db_);
  return false;
}

std::string BridgeStore::error() {
  std::lock_guard lock(mu_);
  return error_;
}

int64_t BridgeStore::offset() {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT value FROM meta WHERE key = 'offset'");
  return q.step() == SQLITE_ROW ? q.int_at(0) : 0;
}

std::optional<std::vector<Update>> BridgeStore::accept(const std::vector<Update>& batch, int64_t next_offset) {
  std::lock_guard lock(mu_);
  if (!exec("BEGIN IMMEDIATE")) return std::nullopt;
  auto rollback = [this] {
    std::string keep = error_;
    exec("ROLLBACK");
    error_ = keep;
    return std::nullopt;
  };
  int64_t current = 0;
  {
    Stmt q(db_, "SELECT value FROM meta WHERE key = 'offset'");
    int rc = q.step();
    if (rc == SQLITE_ROW) {
      current = q.int_at(0);
    } else if (rc != SQLITE_DONE) {
      fail("read offset");
      return rollback();
    }
  }
  std::vector<Update> fresh;
  Stmt insert(db_,
              "INSERT OR IGNORE INTO updates(update_id, chat_id, kind, text, callback_id, answered)"
              " VALUES(?, ?, ?, ?, ?, ?)");
  if (!insert.ok()) {
    fail("prepare insert");
    return rollback();
  }
  for (const Update& u : batch) {
    // Below the stored offset: Telegram was told it is handled, and its row
    // may already be pruned. Never take it in again.
    if (u.update_id < current) continue;
    bool answer = u.kind != UpdateKind::kIgnored;
    insert.reset();
    insert.bind(1, u.update_id);
    insert.bind(2, u.chat_id);
    insert.bind(3, static_cast<int64_t>(u.kind));
    insert.bind(4, u.text);
    insert.bind(5, u.callback_id);
    insert.bind(6, answer ? 0 : 1);
    if (!insert.run()) {
      fail("insert update");
      return rollback();
    }
    if (sqlite3_changes(db_) == 1 && answer) fresh.push_back(u);
  }
  Stmt set(db_, "INSERT INTO meta(key, value) VALUES('offset', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  set.bind(1, std::max(current, next_offset));
  if (!set.run()) {
    fail("write offset");
    return rollback();
  }
  Stmt prune(db_, "DELETE FROM updates WHERE answered = 1 AND update_id < ?");
  prune.bind(1, std::max(current, next_offset) - kKeepAnswered);
  if (!prune.run()) {
    fail("prune");
    return rollback();
  }
  if (!exec("COMMIT")) return rollback();
  std::sort(fresh.begin(), fresh.end(), [](const Update& a, const Update& b) { return a.update_id < b.update_id; });
  return fresh;
}

std::optional<std::vector<Update>> BridgeStore::pending() {
  std::lock_guard lock(mu_);
  Stmt q(db_,
         "SELECT update_id, chat_id, kind, text, callback_id FROM updates WHERE answered = 0 ORDER BY update_id");
  std::vector<Update> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    Update u;
    u.update_id = q.int_at(0);
    u.chat_id = q.int_at(1);
    int64_t kind = q.int_at(2);
    // A kind from a newer version: answer it the safe way, as a button
    // whose text is lost.
    u.kind = kind >= 0 && kind <= static_cast<int64_t>(UpdateKind::kIgnored) ? static_cast<UpdateKind>(kind)
                                                                             : UpdateKind::kExpiredButton;
    u.text = q.text_at(3);
    u.callback_id = q.text_at(4);
    out.push_back(std::move(u));
  }
  if (rc != SQLITE_DONE) {
    fail("read pending updates");
    return std::nullopt;
  }
  return out;
}

bool BridgeStore::mark_answered(int64_t update_id) {
  std::lock_guard lock(mu_);
  Stmt q(db_, "UPDATE updates SET answered = 1, text = NULL WHERE update_id = ?");
  q.bind(1, update_id);
  return q.run() || fail("mark answered");
}

bool BridgeStore::answered(int64_t update_id) {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT answered FROM updates WHERE update_id = ?");
  q.bind(1, update_id);
  return q.step() == SQLITE_ROW && q.int_at(0) == 1;
}

std::optional<std::string> BridgeStore::session(int64_t chat_id) {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT session FROM chats WHERE chat_id = ?");
  q.bind(1, chat_id);
  int rc = q.step();
  if (rc == SQLITE_ROW) return q.text_at(0);
  if (rc == SQLITE_DONE) return std::string();
  fail("read session");
  return std::nullopt;
}

bool BridgeStore::set_session(int64_t chat_id, const std::string& token) {
  std::lock_guard lock(mu_);
  Stmt q(db_, "INSERT INTO chats(chat_id, session) VALUES(?, ?) ON CONFLICT(chat_id) DO UPDATE SET session = excluded.session");
  q.bind(1, chat_id);
  q.bind(2, token);
  return q.run() || fail("write session");
}

}  // namespace runbot::telegram
