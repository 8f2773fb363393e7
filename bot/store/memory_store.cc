#include "bot/store/memory_store.h"

namespace runbot {

MemoryStore::MemoryStore(std::chrono::seconds idle_expiry, std::function<Clock::time_point()> clock)
    : idle_expiry_(idle_expiry), clock_(std::move(clock)) {}

StoreStatus MemoryStore::get(const std::string& key, std::optional<SessionRecord>* record) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(key);
  if (it == sessions_.end() || clock_() - it->second.updated > idle_expiry_)
    record->reset();
  else
    *record = it->second.record;
  return StoreStatus::ok_status();
}

void MemoryStore::put(std::string key, SessionRecord record, Done done) {
  StoreStatus status;
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(key);
    const bool live = it != sessions_.end() && clock_() - it->second.updated <= idle_expiry_;
    const uint64_t current = live ? it->second.record.version : 0;
    if (!failure_.empty()) {
      status = StoreStatus::error(failure_);
    } else if (record.version != current) {
      status = StoreStatus::conflict();
    } else {
      record.version = current + 1;
      sessions_[std::move(key)] = Entry{std::move(record), clock_()};
    }
  }
  // Outside the lock: the callback may well call back into the store.
  if (done) done(status);
}

StoreStatus MemoryStore::purge_expired(size_t* removed) {
  std::lock_guard lock(mu_);
  const auto cutoff = clock_() - idle_expiry_;
  size_t n = std::erase_if(sessions_, [&](const auto& kv) { return kv.second.updated < cutoff; });
  if (removed) *removed = n;
  return StoreStatus::ok_status();
}

StoreHealth MemoryStore::health() {
  std::lock_guard lock(mu_);
  StoreHealth h;
  h.kind = "memory";
  h.ok = failure_.empty();
  h.last_error = failure_;
  return h;
}

void MemoryStore::fail_writes(std::string message) {
  std::lock_guard lock(mu_);
  failure_ = std::move(message);
}

size_t MemoryStore::size() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

}  // namespace runbot
