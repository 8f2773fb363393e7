// BridgeStore: the offset, the inbox and the chat sessions survive a
// reopen; nothing is taken in twice; failures are errors, not crashes.
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <fstream>

#include "bot/bridges/bridge_store.h"
#include "tests/bridges/bridge_harness.h"

namespace runbot::telegram {

using test::TempDir;

namespace {

Update text_update(int64_t id, int64_t chat, std::string text) {
  Update u;
  u.update_id = id;
  u.chat_id = chat;
  u.kind = UpdateKind::kText;
  u.text = std::move(text);
  return u;
}

std::unique_ptr<BridgeStore> open_ok(const std::string& path) {
  std::string error;
  auto store = BridgeStore::open(path, &error);
  INFO(error);
  REQUIRE(store);
  return store;
}

}  // namespace

TEST_SUITE("bridge store") {
  TEST_CASE("a new store starts at offset 0 with nothing pending and no sessions") {
    TempDir dir;
    auto store = open_ok((dir.path / "t.db").string());
    CHECK(store->offset() == 0);
    CHECK(store->pending()->empty());
    CHECK(store->session(42) == "");
  }

  TEST_CASE("a batch and its offset are stored together and survive a reopen") {
    TempDir dir;
    std::string path = (dir.path / "t.db").string();
    {
      auto store = open_ok(path);
      Update ignored;
      ignored.update_id = 12;
      ignored.kind = UpdateKind::kIgnored;
      auto fresh = store->accept({text_update(11, 1, "b"), text_update(10, 1, "a"), ignored}, 13);
      REQUIRE(fresh);
      REQUIRE(fresh->size() == 2);
      CHECK((*fresh)[0].update_id == 10);  // in update_id order
      CHECK((*fresh)[1] == text_update(11, 1, "b"));
      CHECK(store->answered(12));  // nothing to answer: stored as answered
    }
    auto store = open_ok(path);
    CHECK(store->offset() == 13);
    auto pending = store->pending();
    REQUIRE(pending);
    REQUIRE(pending->size() == 2);
    CHECK((*pending)[0] == text_update(10, 1, "a"));
  }

  TEST_CASE("an update seen before is not returned again, answered or not") {
    TempDir dir;
    auto store = open_ok((dir.path / "t.db").string());
    REQUIRE(store->accept({text_update(5, 1, "x")}, 6)->size() == 1);
    CHECK(store->accept({text_update(5, 1, "x")}, 6)->empty());
    CHECK(store->mark_answered(5));
    CHECK(store->accept({text_update(5, 1, "x"), text_update(6, 1, "y")}, 7)->size() == 1);
  }

  TEST_CASE("an update below the stored offset is never taken in again") {
    TempDir dir;
    auto store = open_ok((dir.path / "t.db").string());
    REQUIRE(store->accept({text_update(100, 1, "x")}, 101));
    CHECK(store->accept({text_update(50, 1, "old")}, 51)->empty());
    CHECK(store->offset() == 101);  // never lowered
  }

  TEST_CASE("answering removes an update from pending and forgets its text") {
    TempDir dir;
    std::string path = (dir.path / "t.db").string();
    auto store = open_ok(path);
    store->accept({text_update(1, 9, "private words"), text_update(2, 9, "more")}, 3);
    CHECK(store->mark_answered(1));
    CHECK(store->answered(1));
    CHECK(!store->answered(2));
    CHECK(store->pending()->size() == 1);
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "SELECT count(*) FROM updates WHERE text = 'private words'", -1, &q, nullptr) ==
            SQLITE_OK);
    REQUIRE(sqlite3_step(q) == SQLITE_ROW);
    CHECK(sqlite3_column_int(q, 0) == 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
  }

  TEST_CASE("chat sessions persist and can be replaced") {
    TempDir dir;
    std::string path = (dir.path / "t.db").string();
    {
      auto store = open_ok(path);
      CHECK(store->set_session(-100500, "tok-1"));
      CHECK(store->set_session(-100500, "tok-2"));
      CHECK(store->set_session(7, "tok-7"));
    }
    auto store = open_ok(path);
    CHECK(store->session(-100500) == "tok-2");
    CHECK(store->session(7) == "tok-7");
  }

  TEST_CASE("the file is readable by its owner only: it holds session tokens") {
    TempDir dir;
    std::string path = (dir.path / "t.db").string();
    open_ok(path);
    struct stat st{};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 077) == 0);
  }

  TEST_CASE("a missing folder, a file that is not SQLite, or another program's database are refused") {
    TempDir dir;
    std::string error;
    CHECK(!BridgeStore::open((dir.path / "no" / "such" / "t.db").string(), &error));
    CHECK(!error.empty());

    std::string junk = (dir.path / "junk.db").string();
    std::ofstream(junk) << "this is not a database, just some text that is long enough to have a header";
    error.clear();
    CHECK(!BridgeStore::open(junk, &error));
    CHECK(!error.empty());

    std::string other = (dir.path / "other.db").string();
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(other.c_str(), &db) == SQLITE_OK);
    sqlite3_exec(db, "CREATE TABLE sessions(key TEXT)", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    error.clear();
    CHECK(!BridgeStore::open(other, &error));
    CHECK(error == "the file is not a Telegram bridge database");
  }
}

}  // namespace runbot::telegram
