// MemoryStore: a SessionStore in a map, for tests and for `runbot serve
// --db :memory:`-style throwaway runs (like leveldb's memenv). Writes
// complete inline, before put() returns. fail_writes() makes writes fail
// so that callers' error paths can be tested.
//
// Thread safety: all methods are safe to call concurrently.
#ifndef RUNBOT_BOT_STORE_MEMORY_STORE_H_
#define RUNBOT_BOT_STORE_MEMORY_STORE_H_

#include <functional>
#include <map>
#include <mutex>

#include "bot/store/session_store.h"

namespace runbot {

class MemoryStore final : public SessionStore {
 public:
  // `clock` stands in for the system clock (tests move time forward).
  explicit MemoryStore(std::chrono::seconds idle_expiry = std::chrono::hours(24 * 30),
                       std::function<Clock::time_point()> clock = &Clock::now);

  StoreStatus get(const std::string& key, std::optional<SessionRecord>* record) override;
  void put(std::string key, SessionRecord record, Done done) override;
  StoreStatus purge_expired(size_t* removed = nullptr) override;
  void flush() override {}
  StoreHealth health() override;
  size_t pending_writes() override { return 0; }  // writes complete inline

  // Every later write fails with `message` until called with "".
  void fail_writes(std::string message);
  size_t size() const;

 private:
  struct Entry {
    SessionRecord record;
    Clock::time_point updated;
  };
  const std::chrono::seconds idle_expiry_;
  const std::function<Clock::time_point()> clock_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> sessions_;  // GUARDED_BY(mu_)
  std::string failure_;                    // GUARDED_BY(mu_)
};

}  // namespace runbot

#endif  // RUNBOT_BOT_STORE_MEMORY_STORE_H_
