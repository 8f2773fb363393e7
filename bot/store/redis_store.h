// RedisStore: the shared SessionStore, for several `runbot serve` instances
// behind one load balancer (deploy/README.md). Sessions live in Redis as
// hashes under "runbot:session:" + SHA-256(token), with Redis's own TTL as
// the idle expiry (every write resets it).
//
// Same promises as SqliteStore:
//  - put() completes only after Redis has acknowledged the write (with the
//    AOF on and appendfsync always, as deploy/redis.conf sets, that is after
//    the fsync), so a reply is never sent for a state that is not stored.
//  - put() is a compare-and-set on the session's version (a Lua script runs
//    it atomically inside Redis), so two instances writing one session never
//    lose a turn: the loser gets StoreStatus::conflict() and redoes its turn.
//  - One writer thread pipelines every write queued while the previous batch
//    was in flight (the network round trip is paid once per batch, like
//    SQLite's group commit). get() uses a pool of reader connections and
//    first waits for queued writes to the same key (read your writes).
//
// Redis down or unreachable: operations fail with "redis: <reason>" after at
// most `timeout`, health() turns not ok (within `probe_interval` even when
// idle: the writer pings), and everything recovers by itself once Redis is
// back: connections are reopened on the next use. Nothing throws.
//
// Thread safety: all methods are safe to call concurrently.
#ifndef RUNBOT_BOT_STORE_REDIS_STORE_H_
#define RUNBOT_BOT_STORE_REDIS_STORE_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bot/store/session_store.h"
#include "bot/store/write_queue.h"

namespace runbot {

struct RedisStoreOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;            // SELECTed on every connection
  std::string password;  // AUTH when not empty; never logged or shown
  // Sessions idle for longer than this expire (Redis TTL). Default 30 days.
  std::chrono::seconds idle_expiry = std::chrono::hours(24 * 30);
  // Connecting, and waiting for any one reply. Default 2 s.
  std::chrono::milliseconds timeout{2000};
  // Most writes pipelined in one batch. Default 1024.
  size_t max_batch = 1024;
  // How often an idle writer pings Redis, so health() follows Redis going
  // down and coming back without traffic. Default 1 s.
  std::chrono::milliseconds probe_interval{1000};
  // Prefix of every key, so one Redis can hold other data (or two bots).
  std::string key_prefix = "runbot:session:";
};

// Parses "redis://[[user]:password@]host[:port][/db]" (port 6379 and db 0 by
// default). Returns nullopt and sets *error (which names what is wrong, never
// the password) when the URL is malformed.
std::optional<RedisStoreOptions> parse_redis_url(std::string_view url, std::string* error);

class RedisStore final : public SessionStore {
 public:
  // Starts the writer and tries to connect. Redis being down is not an
  // error here: the store reports it through health() and keeps trying,
  // so a server can start before its Redis.
  static std::unique_ptr<RedisStore> open(RedisStoreOptions options);

  // Completes every queued write (or fails it, if Redis is gone), then stops.
  ~RedisStore() override;
  RedisStore(const RedisStore&) = delete;
  RedisStore& operator=(const RedisStore&) = delete;

  StoreStatus get(const std::string& key, std::optional<SessionRecord>* record) override;
  void put(std::string key, SessionRecord record, Done done) override;
  // Redis expires sessions itself (TTL): nothing to do, *removed = 0.
  StoreStatus purge_expired(size_t* removed = nullptr) override;
  void flush() override;
  StoreHealth health() override;
  size_t pending_writes() override;

  // Batches sent so far (tests check that writes were pipelined together).
  uint64_t batches() const;

 private:
  class Connection;

  explicit RedisStore(RedisStoreOptions options);
  StoreStatus connect(std::unique_ptr<Connection>* out) const;
  void writer_loop();
  // Sends the batch down the writer connection and fills in each status;
  // returns the connection-level error, if any.
  StoreStatus commit(std::vector<QueuedWrite>& batch);
  StoreStatus probe();
  std::string redis_key(const std::string& token) const;
  void note_error(const StoreStatus& status);

  const RedisStoreOptions options_;
  std::unique_ptr<Connection> writer_;  // only the writer thread touches it

  WriteQueue writes_;

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;  // GUARDED_BY(readers_mu_)

  std::thread writer_thread_;
};

}  // namespace runbot

#endif  // RUNBOT_BOT_STORE_REDIS_STORE_H_
