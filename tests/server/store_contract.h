// What every SessionStore must do, as checks that each store's tests run
// (store_test.cc for memory and SQLite, redis_store_test.cc for Redis), plus
// the small helpers they share.
#ifndef RUNBOT_TESTS_SERVER_STORE_CONTRACT_H_
#define RUNBOT_TESTS_SERVER_STORE_CONTRACT_H_

#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "bot/store/session_store.h"

namespace runbot {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A fresh folder under the system temp dir, removed at scope exit.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "runbot_store_XXXXXX").string();
    path = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// A clock the test moves by hand.
struct FakeClock {
  std::shared_ptr<std::atomic<int64_t>> seconds = std::make_shared<std::atomic<int64_t>>(1'800'000'000);
  std::function<SessionStore::Clock::time_point()> fn() const {
    auto s = seconds;
    return [s] { return SessionStore::Clock::time_point(std::chrono::seconds(s->load())); };
  }
};

// put() and wait for its completion.
inline StoreStatus put_sync(SessionStore& store, const std::string& key, SessionRecord record) {
  std::promise<StoreStatus> done;
  auto f = done.get_future();
  store.put(key, std::move(record), [&](const StoreStatus& s) { done.set_value(s); });
  return f.get();
}

// "prefix" + n, built by appending: GCC 12 warns falsely (-Wrestrict,
// bug 105329) on `"literal" + std::string` at -O2.
inline std::string key(std::string prefix, int n) {
  prefix += std::to_string(n);
  return prefix;
}

inline std::optional<SessionRecord> get_or_fail(SessionStore& store, const std::string& key) {
  std::optional<SessionRecord> r;
  StoreStatus s = store.get(key, &r);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return r;
}

inline const SessionRecord kRecord{R"({"v":1,"turns":2,"dialog":{"pending":"swelling"}})", R"("m2")",
                                   R"({"type":"reply","reply_to":"m2","text":"..."})", 0, ""};

inline SessionRecord at_version(SessionRecord r, uint64_t version) {
  r.version = version;
  return r;
}

// Round trip, versions counting writes, expiry after 30 idle days (the
// store must read `clock`), purge, and a new dialog under an expired token.
inline void check_round_trip_and_expiry(SessionStore& store, FakeClock& clock) {
  CHECK_FALSE(get_or_fail(store, "unknown-token").has_value());
  REQUIRE(put_sync(store, "token-a", kRecord).ok());
  CHECK(get_or_fail(store, "token-a") == at_version(kRecord, 1));

  SessionRecord next = at_version(kRecord, 1);
  next.state = R"({"v":1,"turns":3,"dialog":{}})";
  REQUIRE(put_sync(store, "token-a", next).ok());
  CHECK(get_or_fail(store, "token-a") == at_version(next, 2));

  // 30 days idle is still alive; a second more and it is gone.
  *clock.seconds += 30 * 24 * 3600;
  CHECK(get_or_fail(store, "token-a").has_value());
  *clock.seconds += 1;
  CHECK_FALSE(get_or_fail(store, "token-a").has_value());
  REQUIRE(put_sync(store, "token-b", kRecord).ok());
  size_t removed = 0;
  REQUIRE(store.purge_expired(&removed).ok());
  CHECK(removed == 1);
  CHECK(get_or_fail(store, "token-b").has_value());
  // The expired token read as absent (version 0), so a write at version 0
  // starts it afresh.
  REQUIRE(put_sync(store, "token-a", kRecord).ok());
  CHECK(get_or_fail(store, "token-a")->version == 1);
}

// put() writes iff the stored version is the one the record says.
inline void check_versions(SessionStore& store) {
  REQUIRE(put_sync(store, "k", kRecord).ok());
  SessionRecord stale = kRecord;
  stale.state = "{\"stale\":true}";
  StoreStatus s = put_sync(store, "k", stale);  // version 0, but the session exists
  CHECK(s.is_conflict());
  CHECK_FALSE(s.ok());
  CHECK(put_sync(store, "k", at_version(stale, 2)).is_conflict());  // from the future
  SessionRecord second = at_version(kRecord, 1);
  second.last_id = "\"m3\"";
  second.earlier_ids = "\"m2\"\n\"m1\"";
  REQUIRE(put_sync(store, "k", second).ok());
  CHECK(get_or_fail(store, "k") == at_version(second, 2));
  CHECK(store.health().ok);  // a conflict is not a store failure
}

// Threads doing read-increment-write on one session, redoing on conflict:
// the final count is every increment, so no write was lost.
inline void check_racing_writers(SessionStore& store, int threads = 4, int per_thread = 40) {
  std::atomic<int> conflicts{0}, errors{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) {
        for (;;) {
          std::optional<SessionRecord> r;
          if (!store.get("counter", &r).ok()) {
            ++errors;
            return;
          }
          SessionRecord next = r.value_or(SessionRecord{"0", "", "", 0, ""});
          next.state = std::to_string(std::stoi(next.state) + 1);
          StoreStatus s = put_sync(store, "counter", next);
          if (s.ok()) break;
          if (!s.is_conflict()) {
            ++errors;
            return;
          }
          ++conflicts;
        }
      }
    });
  for (auto& th : pool) th.join();
  CHECK(errors == 0);
  auto r = get_or_fail(store, "counter");
  REQUIRE(r.has_value());
  CHECK(r->state == std::to_string(threads * per_thread));
  CHECK(r->version == static_cast<uint64_t>(threads * per_thread));
  MESSAGE("conflicts redone: " << conflicts.load());
}

// 4 threads x 250 writes to distinct sessions all succeed and are grouped:
// `groups()` (transactions or batches sent) stays under a quarter of the
// writes. Then a read right after each queued write sees it.
inline void check_grouped_writes_and_read_your_writes(SessionStore& store, const std::function<uint64_t()>& groups) {
  constexpr int kThreads = 4, kPerThread = 250;
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i)
        store.put(key(key("t", t) + "-", i), kRecord, [&](const StoreStatus& s) { (s.ok() ? ok : failed)++; });
    });
  for (auto& th : threads) th.join();
  store.flush();
  CHECK(ok == kThreads * kPerThread);
  CHECK(failed == 0);
  CHECK(groups() < kThreads * kPerThread / 4);
  CHECK(get_or_fail(store, "t3-249") == at_version(kRecord, 1));
  for (int i = 0; i < 50; ++i) {
    SessionRecord r = at_version(kRecord, i);
    r.last_id = std::to_string(i);
    store.put("same", r, nullptr);
    CHECK(get_or_fail(store, "same")->last_id == std::to_string(i));
  }
}

}  // namespace runbot

#endif  // RUNBOT_TESTS_SERVER_STORE_CONTRACT_H_
