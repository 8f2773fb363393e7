// SessionStore contract, for the in-memory store, SQLite and Redis: round
// trips, versions (compare-and-set), expiry, group commit, read-your-writes,
// and the failure paths (full disk, locked database, unopenable file, Redis
// down and back) as errors, never crashes. The Redis cases start their own
// redis-server on a free loopback port.
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "bot/store/memory_store.h"
#include "bot/store/sqlite_store.h"
#include "bot/store/write_queue.h"
#include "tests/server/store_contract.h"

namespace runbot {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::unique_ptr<SqliteStore> open_sqlite(const fs::path& file, SqliteStoreOptions o = {}) {
  o.path = file.string();
  std::string error;
  auto store = SqliteStore::open(std::move(o), &error);
  REQUIRE_MESSAGE(store, error);
  return store;
}

}  // namespace

TEST_SUITE("store") {

TEST_CASE("memory store: a session comes back as written and expires after the idle time") {
  FakeClock clock;
  MemoryStore store(std::chrono::hours(24 * 30), clock.fn());
  check_round_trip_and_expiry(store, clock);
}

TEST_CASE("memory store: writes are compare-and-set on the session's version") {
  MemoryStore store;
  check_versions(store);
}

TEST_CASE("memory store: failing writes report an error and keep the old record") {
  MemoryStore store;
  REQUIRE(put_sync(store, "t", kRecord).ok());
  store.fail_writes("disk full");
  StoreStatus s = put_sync(store, "t", SessionRecord{"{}", "", "", 1, ""});
  CHECK_FALSE(s.ok());
  CHECK(s.message() == "disk full");
  CHECK_FALSE(store.health().ok);
  CHECK(get_or_fail(store, "t") == at_version(kRecord, 1));
}

TEST_CASE("sqlite store: a session comes back as written and expires after the idle time") {
  TempDir dir;
  FakeClock clock;
  SqliteStoreOptions o;
  o.clock = clock.fn();
  auto store = open_sqlite(dir.path / "s.db", o);
  check_round_trip_and_expiry(*store, clock);
  StoreHealth h = store->health();
  CHECK(h.ok);
  CHECK(h.kind == "sqlite");
}

TEST_CASE("sqlite store: writes are compare-and-set on the session's version") {
  TempDir dir;
  auto store = open_sqlite(dir.path / "s.db");
  check_versions(*store);
}

TEST_CASE("sqlite store: racing writers of one session lose no write") {
  TempDir dir;
  auto store = open_sqlite(dir.path / "s.db");
  check_racing_writers(*store);
}

TEST_CASE("sqlite store: a file from before versions is upgraded and its sessions resume at version 0") {
  TempDir dir;
  const fs::path file = dir.path / "old.db";
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db,
                       "PRAGMA journal_mode=WAL;"
                       "CREATE TABLE sessions(key TEXT PRIMARY KEY, state TEXT NOT NULL, last_id TEXT NOT NULL,"
                       "  last_reply TEXT NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;"
                       "CREATE TABLE meta(k TEXT PRIMARY KEY, v) WITHOUT ROWID;"
                       "INSERT INTO meta VALUES('schema', 1);",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  auto store = open_sqlite(file);
  REQUIRE(put_sync(*store, "t", kRecord).ok());
  CHECK(get_or_fail(*store, "t")->version == 1);
}

TEST_CASE("sqlite store: sessions survive closing and reopening the file") {
  TempDir dir;
  open_sqlite(dir.path / "s.db");  // creates, then closes at once
  {
    auto store = open_sqlite(dir.path / "s.db");
    REQUIRE(put_sync(*store, "token-a", kRecord).ok());
  }
  auto again = open_sqlite(dir.path / "s.db");
  CHECK(get_or_fail(*again, "token-a") == at_version(kRecord, 1));
}

TEST_CASE("sqlite store: the file holds a hash of the token, never the token") {
  TempDir dir;
  const std::string token = "tok_3J9xQm2Lr7Vb8Kc1Pz0YwEaT5uGfHs";
  {
    auto store = open_sqlite(dir.path / "s.db");
    REQUIRE(put_sync(*store, token, kRecord).ok());
  }
  std::string bytes;
  for (const auto& entry : fs::directory_iterator(dir.path)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    bytes += ss.str();
  }
  CHECK(bytes.find(kRecord.state) != std::string::npos);
  CHECK(bytes.find(token) == std::string::npos);
}

TEST_CASE("sqlite store: writes from many threads are committed in few transactions, and reads see them") {
  TempDir dir;
  auto store = open_sqlite(dir.path / "s.db");
  check_grouped_writes_and_read_your_writes(*store, [&] { return store->transactions(); });
}

TEST_CASE("sqlite store: a completion runs after the row is readable") {
  TempDir dir;
  auto store = open_sqlite(dir.path / "s.db");
  std::promise<bool> seen;
  store->put("k", kRecord, [&](const StoreStatus& s) {
    std::optional<SessionRecord> r;
    seen.set_value(s.ok() && store->get("k", &r).ok() && r == at_version(kRecord, 1));
  });
  CHECK(seen.get_future().get());
}

TEST_CASE("sqlite store: a full disk fails writes with an error, and reads go on") {
  TempDir dir;
  SqliteStoreOptions o;
  o.max_page_count = 12;  // a few 4 KiB pages: the "disk" fills fast
  auto store = open_sqlite(dir.path / "s.db", o);
  REQUIRE(put_sync(*store, "first", kRecord).ok());
  SessionRecord big = kRecord;
  big.last_reply = std::string(3000, 'x');
  StoreStatus s;
  for (int i = 0; i < 200 && s.ok(); ++i) s = put_sync(*store, key("k", i), big);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("full") != std::string::npos);
  StoreHealth h = store->health();
  CHECK_FALSE(h.ok);
  CHECK(h.last_error == s.message());
  CHECK(get_or_fail(*store, "first") == at_version(kRecord, 1));
}

TEST_CASE("sqlite store: a database locked by another process fails writes until it is released") {
  TempDir dir;
  SqliteStoreOptions o;
  o.busy_timeout = 50ms;
  o.probe_interval = 10ms;
  auto store = open_sqlite(dir.path / "s.db", o);
  REQUIRE(put_sync(*store, "k", kRecord).ok());

  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open((dir.path / "s.db").c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  StoreStatus s = put_sync(*store, "k", SessionRecord{"{}", "", "", 1, ""});
  CHECK_FALSE(s.ok());
  CHECK_FALSE(s.is_conflict());
  CHECK(s.message().find("locked") != std::string::npos);
  CHECK_FALSE(store->health().ok);
  CHECK(get_or_fail(*store, "k") == at_version(kRecord, 1));  // WAL readers are not blocked

  REQUIRE(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(other);
  CHECK(put_sync(*store, "k", at_version(kRecord, 1)).ok());
  CHECK(store->health().ok);
}

TEST_CASE("sqlite store: an unopenable path is an error, not a crash") {
  std::string error;
  SqliteStoreOptions o;
  o.path = "/nonexistent-folder/for/runbot.db";
  CHECK(SqliteStore::open(o, &error) == nullptr);
  CHECK(error.find("/nonexistent-folder/for/runbot.db: open") == 0);
}

TEST_CASE("write queue: batches, per-write status, read-your-writes wait and close") {
  using namespace std::chrono_literals;
  runbot::WriteQueue q;
  std::vector<std::string> seen;
  auto record = [&](std::string name) {
    return [&seen, name](const runbot::StoreStatus& s) { seen.push_back(name + (s.ok() ? ":ok" : ":" + s.message())); };
  };
  q.push("a", {}, record("a1"));
  q.push("b", {}, record("b1"));
  q.push("a", {}, record("a2"));
  CHECK(q.pending() == 3);
  std::vector<runbot::QueuedWrite> batch;
  // Idle means no writes before the deadline; a batch is at most max_batch.
  REQUIRE(q.take(2, runbot::WriteQueue::Clock::now(), &batch) == runbot::WriteQueue::Take::kBatch);
  CHECK(batch.size() == 2);
  CHECK_FALSE(q.wait_until_idle("a", 1ms));  // a2 still queued
  batch[1].status = runbot::StoreStatus::conflict();
  q.finish(batch, "");
  CHECK(seen.size() == 2);
  CHECK(seen[0] == "a1:ok");
  CHECK(seen[1] == "b1:" + runbot::StoreStatus::conflict().message());
  CHECK(q.wait_until_idle("b", 1ms));
  REQUIRE(q.take(8, runbot::WriteQueue::Clock::now(), &batch) == runbot::WriteQueue::Take::kBatch);
  // A throwing completion does not stop the others.
  q.push("c", {}, [](const runbot::StoreStatus&) { throw std::runtime_error("boom"); });
  std::vector<runbot::QueuedWrite> second;
  REQUIRE(q.take(8, runbot::WriteQueue::Clock::now(), &second) == runbot::WriteQueue::Take::kBatch);
  q.finish(second, "disk full");
  CHECK(q.last_error() == "disk full");
  runbot::StoreHealth failing;
  q.report(&failing);
  CHECK_FALSE(failing.ok);
  CHECK(failing.last_error == "disk full");
  CHECK(failing.pending_writes == 1);  // a2, taken and not finished
  q.finish(batch, "");
  CHECK(q.wait_until_idle("a", 1ms));
  CHECK(q.batches() == 2);
  CHECK(q.take(8, runbot::WriteQueue::Clock::now() + 1ms, &batch) == runbot::WriteQueue::Take::kIdle);
  q.flush();  // everything queued has completed: returns at once
  q.close();
  runbot::StoreHealth closed;
  q.report(&closed);
  CHECK_FALSE(closed.ok);  // no error, but closed
  q.push("d", {}, record("d1"));
  CHECK(seen.back() == "d1:store is closed");
  CHECK(q.take(8, runbot::WriteQueue::Clock::now() + 1s, &batch) == runbot::WriteQueue::Take::kClosed);
}

}  // TEST_SUITE
}  // namespace runbot
