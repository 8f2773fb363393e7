// RedisStore against a real redis-server (Debian's, started here on a free
// loopback port with its AOF in a temporary folder): the store contract,
// TTL expiry, hashed keys, pipelined batches, Redis killed and back, and
// sessions surviving a Redis restart from the AOF.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "bot/store/key_hash.h"
#include "bot/store/redis_store.h"
#include "tests/server/store_contract.h"

namespace runbot {
namespace {

// A port nobody listens on right now (bind to 0, read it, close).
int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// One redis-server child with the AOF on (appendfsync always, as
// deploy/redis.conf), its files in `dir`. kill() is SIGKILL: what a crash does.
class RedisServer {
 public:
  explicit RedisServer(fs::path dir, int port = 0) : dir_(std::move(dir)), port_(port ? port : free_port()) {
    start();
  }
  ~RedisServer() { kill(); }

  int port() const { return port_; }

  void start() {
    pid_ = fork();
    if (pid_ == 0) {
      // Its start-up banner and warnings would bury the test's own output.
      int null_fd = ::open("/dev/null", O_WRONLY);
      dup2(null_fd, STDOUT_FILENO);
      dup2(null_fd, STDERR_FILENO);
      const std::string port = std::to_string(port_);
      execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--dir",
             dir_.c_str(), "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no",
             "--loglevel", "warning", static_cast<char*>(nullptr));
      _exit(127);
    }
    REQUIRE(pid_ > 0);
    // Ready when it answers PING (no sleeps as synchronisation: poll, with a deadline).
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (ping()) return;
      int status = 0;
      REQUIRE_MESSAGE(waitpid(pid_, &status, WNOHANG) == 0, "redis-server exited; is it installed?");
      std::this_thread::sleep_for(20ms);
    }
    FAIL("redis-server did not answer within 10 s");
  }

  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  bool ping() const {
    redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, timeval{0, 200000});
    bool ok = c && !c->err;
    if (ok) {
      auto* r = static_cast<redisReply*>(redisCommand(c, "PING"));
      ok = r && r->type == REDIS_REPLY_STATUS;
      if (r) freeReplyObject(r);
    }
    if (c) redisFree(c);
    return ok;
  }

  // One command's integer or string reply, for looking behind the store.
  std::string command(const std::vector<std::string>& args) const {
    redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, timeval{1, 0});
    REQUIRE((c && !c->err));
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.c_str());
      lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
    std::string out;
    if (r && r->type == REDIS_REPLY_INTEGER) out = std::to_string(r->integer);
    if (r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)) out.assign(r->str, r->len);
    if (r && r->type == REDIS_REPLY_ARRAY)
      for (size_t i = 0; i < r->elements; ++i) out.append(r->element[i]->str, r->element[i]->len).append("\n");
    if (r) freeReplyObject(r);
    redisFree(c);
    return out;
  }

 private:
  fs::path dir_;
  int port_;
  pid_t pid_ = -1;
};

RedisStoreOptions options_for(const RedisServer& redis) {
  RedisStoreOptions o;
  o.port = redis.port();
  o.timeout = 500ms;
  o.probe_interval = 50ms;
  return o;
}

// Polls health() until it says `ok` (the writer probes every 50 ms here).
bool wait_health(RedisStore& store, bool ok) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (store.health().ok == ok) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

}  // namespace

TEST_SUITE("redis store") {

TEST_CASE("redis URL: host, port, database and password are read; mistakes are named") {
  std::string error;
  auto o = parse_redis_url("redis://10.0.0.7:6380/2", &error);
  REQUIRE(o);
  CHECK(o->host == "10.0.0.7");
  CHECK(o->port == 6380);
  CHECK(o->db == 2);
  CHECK(o->password.empty());
  o = parse_redis_url("redis://:s3cret@cache", &error);
  REQUIRE(o);
  CHECK(o->host == "cache");
  CHECK(o->port == 6379);
  CHECK(o->db == 0);
  CHECK(o->password == "s3cret");
  o = parse_redis_url("redis://[::1]:7000/1", &error);
  REQUIRE(o);
  CHECK(o->host == "::1");
  CHECK(o->port == 7000);

  CHECK_FALSE(parse_redis_url("http://localhost", &error));
  CHECK(error.find("redis://") != std::string::npos);
  CHECK_FALSE(parse_redis_url("redis://localhost:99999", &error));
  CHECK(error == "store URL: port must be 1-65535, got \"99999\"");
  CHECK_FALSE(parse_redis_url("redis://:pw@localhost/x", &error));
  CHECK(error == "store URL: database must be a number, got \"x\"");
  CHECK(error.find("pw") == std::string::npos);
  CHECK_FALSE(parse_redis_url("redis://", &error));
  CHECK(error == "store URL: host is missing");
}

TEST_CASE("redis store: round trip, versions and racing writers") {
  TempDir dir;
  RedisServer redis(dir.path);
  auto store = RedisStore::open(options_for(redis));
  CHECK(store->health().ok);
  CHECK(store->health().kind == "redis");
  CHECK_FALSE(get_or_fail(*store, "unknown").has_value());
  REQUIRE(put_sync(*store, "token-a", kRecord).ok());
  CHECK(get_or_fail(*store, "token-a") == at_version(kRecord, 1));
  check_versions(*store);
  check_racing_writers(*store);
}

TEST_CASE("redis store: keys are hashed tokens with the idle expiry as their TTL") {
  TempDir dir;
  RedisServer redis(dir.path);
  RedisStoreOptions o = options_for(redis);
  o.idle_expiry = std::chrono::hours(24 * 30);
  auto store = RedisStore::open(o);
  const std::string token = "tok_3J9xQm2Lr7Vb8Kc1Pz0YwEaT5uGfHs";
  REQUIRE(put_sync(*store, token, kRecord).ok());
  const std::string keys = redis.command({"KEYS", "*"});
  CHECK(keys == "runbot:session:" + hashed_session_key(token) + "\n");
  CHECK(keys.find(token) == std::string::npos);
  const long ttl = std::stol(redis.command({"TTL", "runbot:session:" + hashed_session_key(token)}));
  CHECK(ttl > 30 * 24 * 3600 - 60);
  CHECK(ttl <= 30 * 24 * 3600);
  // Expiry is Redis's: a key past its TTL reads as absent, and a write at
  // version 0 starts the session afresh.
  redis.command({"PEXPIRE", "runbot:session:" + hashed_session_key(token), "1"});
  while (redis.command({"EXISTS", "runbot:session:" + hashed_session_key(token)}) == "1")
    std::this_thread::sleep_for(5ms);
  CHECK_FALSE(get_or_fail(*store, token).has_value());
  CHECK(put_sync(*store, token, kRecord).ok());
}

TEST_CASE("redis store: writes from many threads go out in few pipelined batches, and reads see them") {
  TempDir dir;
  RedisServer redis(dir.path);
  auto store = RedisStore::open(options_for(redis));
  check_grouped_writes_and_read_your_writes(*store, [&] { return store->batches(); });
}

TEST_CASE("redis store: Redis down fails reads and writes with an error, and the store recovers by itself") {
  TempDir dir;
  RedisServer redis(dir.path);
  auto store = RedisStore::open(options_for(redis));
  REQUIRE(put_sync(*store, "k", kRecord).ok());

  redis.kill();
  StoreStatus s = put_sync(*store, "k", at_version(kRecord, 1));
  CHECK_FALSE(s.ok());
  CHECK_FALSE(s.is_conflict());
  CHECK(s.message().rfind("redis", 0) == 0);
  std::optional<SessionRecord> r;
  CHECK_FALSE(store->get("k", &r).ok());
  CHECK(wait_health(*store, false));
  CHECK(store->health().last_error.rfind("redis", 0) == 0);

  // Back on the same port, from its AOF: health turns ok without any
  // traffic, and the session written before the crash is there.
  redis.start();
  CHECK(wait_health(*store, true));
  CHECK(get_or_fail(*store, "k") == at_version(kRecord, 1));
  CHECK(put_sync(*store, "k", at_version(kRecord, 1)).ok());
}

TEST_CASE("redis store: every acknowledged write survives kill -9 of Redis (AOF, appendfsync always)") {
  TempDir dir;
  RedisServer redis(dir.path);
  {
    auto store = RedisStore::open(options_for(redis));
    for (int i = 0; i < 200; ++i) store->put(key("s", i), kRecord, nullptr);
    store->flush();
  }
  redis.kill();
  redis.start();
  auto store = RedisStore::open(options_for(redis));
  for (int i = 0; i < 200; ++i) CHECK(get_or_fail(*store, key("s", i)).has_value());
}

TEST_CASE("redis store: a server that is not there yet is reported, not fatal") {
  RedisStoreOptions o;
  o.port = free_port();
  o.timeout = 200ms;
  auto store = RedisStore::open(o);
  StoreHealth h = store->health();
  CHECK_FALSE(h.ok);
  CHECK(h.last_error.find("redis") == 0);
  CHECK(h.detail == "127.0.0.1:" + std::to_string(o.port) + "/0");
  StoreStatus s = put_sync(*store, "k", kRecord);
  CHECK_FALSE(s.ok());
}

}  // TEST_SUITE
}  // namespace runbot
