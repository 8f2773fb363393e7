#include "bot/store/redis_store.h"

#include <hiredis/hiredis.h>

#include <charconv>

#include "bot/store/key_hash.h"

namespace runbot {
namespace {

// The compare-and-set of SessionStore::put(), atomic because Redis runs a
// script without interleaving other commands. KEYS[1] the session hash;
// ARGV: expected version, state, last id, last reply, TTL seconds, earlier ids. Returns
// 1 when written, 0 on a version conflict. A missing key (never stored, or
// expired by its TTL) is version 0.
constexpr const char* kPutScript =
    "local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')\n"
    "if v ~= tonumber(ARGV[1]) then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'v', v + 1, 's', ARGV[2], 'i', ARGV[3], 'r', ARGV[4], 'e', ARGV[6])\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[5])\n"
    "return 1\n";

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

timeval to_timeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

std::string reply_text(const redisReply* r) { return r && r->str ? std::string(r->str, r->len) : std::string(); }

bool parse_int(std::string_view s, int* out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

std::optional<RedisStoreOptions> parse_redis_url(std::string_view url, std::string* error) {
  constexpr std::string_view kScheme = "redis://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    *error = "store URL must start with redis:// (e.g. redis://127.0.0.1:6379/0)";
    return std::nullopt;
  }
  RedisStoreOptions o;
  std::string_view rest = url.substr(kScheme.size());
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    // "user:password" or ":password"; a bare word is taken as the password,
    // as redis-cli -u does. ACL user names are not supported (AUTH with one
    // argument), so a user other than "default" is refused.
    auto colon = userinfo.find(':');
    std::string_view user = colon == std::string_view::npos ? "" : userinfo.substr(0, colon);
    o.password = std::string(colon == std::string_view::npos ? userinfo : userinfo.substr(colon + 1));
    if (!user.empty() && user != "default") {
      *error = "store URL: Redis ACL users are not supported; use redis://:PASSWORD@HOST:PORT/DB";
      return std::nullopt;
    }
  }
  std::string_view hostport = rest;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    hostport = rest.substr(0, slash);
    std::string_view db = rest.substr(slash + 1);
    if (!db.empty() && (!parse_int(db, &o.db) || o.db < 0)) {
      *error = "store URL: database must be a number, got \"" + std::string(db) + "\"";
      return std::nullopt;
    }
  }
  // host, host:port, [v6], [v6]:port
  size_t host_end = hostport.size();
  if (!hostport.empty() && hostport.front() == '[') {
    host_end = hostport.find(']');
    if (host_end == std::string_view::npos) {
      *error = "store URL: missing ] after IPv6 address";
      return std::nullopt;
    }
    ++host_end;
  } else if (auto colon = hostport.rfind(':'); colon != std::string_view::npos) {
    host_end = colon;
  }
  if (host_end < hostport.size()) {
    std::string_view port = hostport.substr(host_end);
    if (port.front() == ':') port.remove_prefix(1);
    if (!parse_int(port, &o.port) || o.port < 1 || o.port > 65535) {
      *error = "store URL: port must be 1-65535, got \"" + std::string(port) + "\"";
      return std::nullopt;
    }
    hostport = hostport.substr(0, host_end);
  }
  // [::1] -> ::1
  if (hostport.size() >= 2 && hostport.front() == '[' && hostport.back() == ']')
    hostport = hostport.substr(1, hostport.size() - 2);
  if (hostport.empty()) {
    *error = "store URL: host is missing";
    return std::nullopt;
  }
  o.host = std::string(hostport);
  return o;
}

// One hiredis connection; used by one thread at a time.
class RedisStore::Connection {
 public:
  explicit Connection(redisContext* ctx) : ctx_(ctx) {}
  ~Connection() {
    if (ctx_) redisFree(ctx_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one command. A null reply means the connection is broken (and
  // *status says why); an error reply comes back as a reply of type ERROR.
  Reply run(const std::vector<std::string_view>& args, StoreStatus* status) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (auto a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    Reply r(static_cast<redisReply*>(
        redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data())));
    if (!r) *status = broken();
    return r;
  }
  void append(const std::vector<std::string_view>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (auto a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data());
  }
  Reply next_reply(StoreStatus* status) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK) {
      *status = broken();
      return nullptr;
    }
    return Reply(static_cast<redisReply*>(raw));
  }
  StoreStatus broken() const {
    return StoreStatus::error(std::string("redis: ") + (ctx_->errstr[0] ? ctx_->errstr : "connection lost"));
  }

  std::string script_sha;

 private:
  redisContext* ctx_;
};

RedisStore::RedisStore(RedisStoreOptions options) : options_(std::move(options)) {}

std::unique_ptr<RedisStore> RedisStore::open(RedisStoreOptions options) {
  std::unique_ptr<RedisStore> store(new RedisStore(std::move(options)));
  StoreStatus s = store->connect(&store->writer_);
  store->note_error(s);
  store->writer_thread_ = std::thread([raw = store.get()] { raw->writer_loop(); });
  return store;
}

RedisStore::~RedisStore() {
  writes_.close();
  if (writer_thread_.joinable()) writer_thread_.join();
}

StoreStatus RedisStore::connect(std::unique_ptr<Connection>* out) const {
  redisContext* ctx = redisConnectWithTimeout(options_.host.c_str(), options_.port, to_timeval(options_.timeout));
  if (!ctx) return StoreStatus::error("redis: out of memory");
  if (ctx->err) {
    StoreStatus s = StoreStatus::error("redis: " + std::string(ctx->errstr) + " (" + options_.host + ":" +
                                       std::to_string(options_.port) + ")");
    redisFree(ctx);
    return s;
  }
  redisSetTimeout(ctx, to_timeval(options_.timeout));
  redisEnableKeepAlive(ctx);
  auto c = std::make_unique<Connection>(ctx);
  StoreStatus s;
  auto expect_ok = [&](const std::vector<std::string_view>& args, const char* what) {
    if (!s.ok()) return;
    Reply r = c->run(args, &s);
    if (r && r->type == REDIS_REPLY_ERROR) s = StoreStatus::error(std::string("redis ") + what + ": " + reply_text(r.get()));
  };
  if (!options_.password.empty()) expect_ok({"AUTH", options_.password}, "AUTH");
  if (options_.db != 0) {
    std::string db = std::to_string(options_.db);
    expect_ok({"SELECT", db}, "SELECT");
  }
  if (s.ok()) {
    Reply r = c->run({"SCRIPT", "LOAD", kPutScript}, &s);
    if (r && r->type == REDIS_REPLY_STRING)
      c->script_sha = reply_text(r.get());
    else if (r)
      s = StoreStatus::error("redis SCRIPT LOAD: " + reply_text(r.get()));
  }
  if (!s.ok()) return s;
  *out = std::move(c);
  return StoreStatus::ok_status();
}

std::string RedisStore::redis_key(const std::string& token) const {
  return options_.key_prefix + hashed_session_key(token);
}

void RedisStore::note_error(const StoreStatus& status) { writes_.set_last_error(status.ok() ? "" : status.message()); }

StoreStatus RedisStore::get(const std::string& key, std::optional<SessionRecord>* record) {
  {
    // Read your writes (as SqliteStore::get): bounded, so that a stuck
    // writer turns into a stale read rather than a hang.
    writes_.wait_until_idle(key, 2 * options_.timeout + std::chrono::seconds(1));
  }
  std::unique_ptr<Connection> c;
  {
    std::lock_guard lock(readers_mu_);
    if (!idle_readers_.empty()) {
      c = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    }
  }
  StoreStatus s;
  const std::string k = redis_key(key);
  Reply r;
  // A pooled connection may have died while idle (Redis restarted, or
  // closed it): that costs one attempt on a fresh connection, not a failed
  // read. A read has no side effect, so trying again is always safe.
  bool pooled = c != nullptr;
  for (;;) {
    if (!c) s = connect(&c);
    if (!s.ok()) {
      note_error(s);
      return s;
    }
    r = c->run({"HMGET", k, "v", "s", "i", "r", "e"}, &s);
    if (r || !pooled) break;
    c.reset();
    pooled = false;
    s = StoreStatus::ok_status();
  }
  if (!r) {
    note_error(s);
    return s;
  }
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 5) {
    s = StoreStatus::error("redis read: " + (r->type == REDIS_REPLY_ERROR ? reply_text(r.get()) : "unexpected reply"));
  } else if (r->element[0]->type != REDIS_REPLY_STRING) {
    record->reset();  // absent or expired
  } else {
    SessionRecord out;
    out.state = reply_text(r->element[1]);
    out.last_id = reply_text(r->element[2]);
    out.last_reply = reply_text(r->element[3]);
    out.earlier_ids = reply_text(r->element[4]);
    const std::string v = reply_text(r->element[0]);
    std::from_chars(v.data(), v.data() + v.size(), out.version);
    *record = std::move(out);
  }
  std::lock_guard lock(readers_mu_);
  idle_readers_.push_back(std::move(c));
  return s;
}

void RedisStore::put(std::string key, SessionRecord record, Done done) {
  writes_.push(std::move(key), std::move(record), std::move(done));
}

void RedisStore::writer_loop() {
  using Steady = std::chrono::steady_clock;
  auto last_contact = Steady::now();
  std::vector<QueuedWrite> batch;
  for (;;) {
    const WriteQueue::Take took = writes_.take(options_.max_batch, last_contact + options_.probe_interval, &batch);
    if (took == WriteQueue::Take::kClosed) return;
    if (took == WriteQueue::Take::kIdle) {
      // Idle: a ping keeps health() true to Redis's state without traffic.
      note_error(probe());
      last_contact = Steady::now();
      continue;
    }
    StoreStatus link = commit(batch);
    last_contact = Steady::now();
    writes_.finish(batch, link.ok() ? "" : link.message());
  }
}

StoreStatus RedisStore::commit(std::vector<QueuedWrite>& batch) {
  StoreStatus link;
  if (!writer_) link = connect(&writer_);
  if (!link.ok()) {
    for (QueuedWrite& p : batch) p.status = link;
    return link;
  }
  const std::string ttl = std::to_string(options_.idle_expiry.count());
  // Pipelined: every command is formatted into hiredis's output buffer
  // (which copies the arguments), all go out in one write on the first
  // redisGetReply, then the replies are read in order.
  for (const QueuedWrite& p : batch) {
    const std::string k = redis_key(p.key);
    const std::string v = std::to_string(p.record.version);
    writer_->append({"EVALSHA", writer_->script_sha, "1", k, v, p.record.state, p.record.last_id,
                     p.record.last_reply, ttl, p.record.earlier_ids});
  }
  for (QueuedWrite& p : batch) {
    if (!link.ok()) {
      // The connection broke part way: these writes may or may not have
      // been applied. Reporting failure is safe: the client resends with the
      // same id, and the compare-and-set plus the retry rule make the turn
      // count once either way.
      p.status = link;
      continue;
    }
    Reply r = writer_->next_reply(&link);
    if (!r) {
      p.status = link;
    } else if (r->type == REDIS_REPLY_INTEGER) {
      p.status = r->integer == 1 ? StoreStatus::ok_status() : StoreStatus::conflict();
    } else {
      // OOM with maxmemory noeviction, READONLY replica, NOSCRIPT after a
      // SCRIPT FLUSH: this write failed; the next connection reloads the script.
      std::string text = reply_text(r.get());
      p.status = StoreStatus::error("redis write: " + text);
      if (text.rfind("NOSCRIPT", 0) == 0) link = p.status;
    }
  }
  if (!link.ok()) writer_.reset();
  return link;
}

StoreStatus RedisStore::probe() {
  StoreStatus s;
  if (!writer_) s = connect(&writer_);
  if (!s.ok()) return s;
  Reply r = writer_->run({"PING"}, &s);
  if (!r) {
    writer_.reset();
    return s;
  }
  if (r->type == REDIS_REPLY_ERROR) return StoreStatus::error("redis: " + reply_text(r.get()));
  return s;
}

StoreStatus RedisStore::purge_expired(size_t* removed) {
  if (removed) *removed = 0;
  return StoreStatus::ok_status();
}

void RedisStore::flush() { writes_.flush(); }

size_t RedisStore::pending_writes() { return writes_.pending(); }

StoreHealth RedisStore::health() {
  StoreHealth h;
  h.kind = "redis";
  h.detail = options_.host + ":" + std::to_string(options_.port) + "/" + std::to_string(options_.db);
  writes_.report(&h);
  return h;
}

uint64_t RedisStore::batches() const { return writes_.batches(); }

}  // namespace runbot
