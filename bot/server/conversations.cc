#include "bot/server/conversations.h"

#include <chrono>

#include "bot/server/token.h"

namespace runbot {

using json = nlohmann::json;

Conversations::Conversations(std::shared_ptr<SessionStore> store, std::shared_ptr<const Engine> engine,
                             Metrics* metrics, Defer defer)
    : store_(std::move(store)), engine_(std::move(engine)), metrics_(metrics), defer_(std::move(defer)) {}

std::shared_ptr<const Engine> Conversations::engine() const {
  std::lock_guard lock(engine_mu_);
  return engine_;
}

void Conversations::set_engine(std::shared_ptr<const Engine> engine) {
  std::lock_guard lock(engine_mu_);
  // The old engine leaves in the argument, so it is freed outside the lock
  // (or later, by the last turn still using it).
  engine_.swap(engine);
}

Conversation Conversations::start() const {
  Conversation c;
  c.token = new_session_token();
  return c;
}

namespace {

// The session a stored record describes. A corrupt state starts the dialog
// afresh but keeps the session and its version: the token is genuine, only
// its contents were unreadable, and the next write must still win the
// compare-and-set. *readable says whether the state parsed.
Conversation from_record(const std::string& token, const SessionRecord& record, bool* readable) {
  bool ok = false;
  SessionState state = session_state_from_string(record.state, &ok);
  *readable = ok;
  return Conversation{token, std::move(state), ok ? record.last_id : "", ok ? record.last_reply : "",
                      record.version, record.earlier_ids};
}

// The earlier ids after a turn of `c`: its last id first, then what it
// remembered, at most Conversations::kRememberedIds of them.
std::string push_earlier_id(const Conversation& c) {
  if (c.last_id.empty()) return c.earlier_ids;
  std::string out = c.last_id;
  size_t kept = 1, pos = 0;
  while (pos < c.earlier_ids.size() && kept < static_cast<size_t>(Conversations::kRememberedIds)) {
    size_t end = c.earlier_ids.find('\n', pos);
    if (end == std::string::npos) end = c.earlier_ids.size();
    out += '\n';
    out.append(c.earlier_ids, pos, end - pos);
    ++kept;
    pos = end + 1;
  }
  return out;
}

bool is_earlier_id(const Conversation& c, const json& id) {
  if (id.is_null() || c.earlier_ids.empty()) return false;
  const std::string wanted = id.dump();
  size_t pos = 0;
  while (pos <= c.earlier_ids.size()) {
    size_t end = c.earlier_ids.find('\n', pos);
    if (end == std::string::npos) end = c.earlier_ids.size();
    if (c.earlier_ids.compare(pos, end - pos, wanted) == 0) return true;
    pos = end + 1;
  }
  return false;
}

}  // namespace

StoreStatus Conversations::open(const std::optional<std::string>& token, Conversation* out, bool* resumed) const {
  *resumed = false;
  // A malformed token is never looked up, so odd strings cannot probe the store.
  if (token && is_well_formed_token(*token)) {
    std::optional<SessionRecord> record;
    StoreStatus s = store_->get(*token, &record);
    if (!s.ok()) return s;
    if (record) {
      *out = from_record(*token, *record, resumed);
      return StoreStatus::ok_status();
    }
  }
  *out = start();
  return StoreStatus::ok_status();
}

std::optional<std::string> Conversations::stored_reply(const Conversation& c, const json& id) const {
  if (id.is_null() || c.last_id.empty() || c.last_reply.empty()) return std::nullopt;
  if (id.dump() != c.last_id) return std::nullopt;
  return c.last_reply;
}

// One message's turn across its attempts.
struct Conversations::Turn {
  std::string text;
  json id;
  std::function<void(TurnOutcome)> done;
  int attempts_left = kMaxAttempts;
};

void Conversations::run_turn(const Conversation& c, std::string_view text, const json& id,
                             std::function<void(TurnOutcome)> done) {
  auto turn = std::make_shared<Turn>(Turn{std::string(text), id, std::move(done)});
  attempt_turn(std::move(turn), c);
}

void Conversations::attempt_turn(std::shared_ptr<Turn> turn, Conversation c) {
  std::shared_ptr<const Engine> engine = this->engine();
  HandleResult r = engine->handle(c.state, turn->text);
  Conversation next{c.token,   std::move(r.state), turn->id.is_null() ? "" : turn->id.dump(), "", c.version,
                    push_earlier_id(c)};
  json reply = to_json(r.reply, turn->id);
  next.last_reply = reply.dump();
  std::string intent = r.reply.intent;
  std::string triage(triage_name(r.reply.triage));
  --turn->attempts_left;
  commit(std::move(next), [this, turn, reply = std::move(reply), intent = std::move(intent),
                           triage = std::move(triage)](StoreStatus s, Conversation committed) mutable {
    if (s.is_conflict() && turn->attempts_left > 0) {
      metrics_->count_conflict();
      reread(
          committed.token,
          [this, turn](Conversation fresh) {
            // The turn this id names was committed by whoever won: answer
            // with what they stored instead of applying it a second time.
            if (auto stored = stored_reply(fresh, turn->id)) {
              json stored_frame = json::parse(*stored, nullptr, /*allow_exceptions=*/false);
              if (!stored_frame.is_discarded()) {
                metrics_->count_retry();
                turn->done(TurnOutcome{StoreStatus::ok_status(), std::move(fresh), std::move(stored_frame), true});
                return;
              }
            }
            // An older turn than the last, committed long ago: this is a
            // stale copy (a stalled instance running a message the client
            // has since resent elsewhere and moved past). Applying it again
            // would double a turn; nobody waits for its reply any more.
            if (is_earlier_id(fresh, turn->id)) {
              turn->done(TurnOutcome{StoreStatus::error("message already answered; the session has moved on"),
                                     Conversation{}, json(), false});
              return;
            }
            attempt_turn(turn, std::move(fresh));
          },
          [turn](StoreStatus error) { turn->done(TurnOutcome{std::move(error), Conversation{}, json(), false}); });
      return;
    }
    if (s.ok()) metrics_->count_reply(intent, triage);
    turn->done(TurnOutcome{std::move(s), std::move(committed), std::move(reply), false});
  });
}

void Conversations::reset(const Conversation& c, std::function<void(StoreStatus, Conversation)> done) {
  attempt_reset(c, kMaxAttempts, std::move(done));
}

void Conversations::attempt_reset(Conversation c, int attempts_left,
                                  std::function<void(StoreStatus, Conversation)> done) {
  commit(Conversation{c.token, SessionState{}, "", "", c.version, push_earlier_id(c)},
         [this, attempts_left, done = std::move(done)](StoreStatus s, Conversation committed) mutable {
           if (s.is_conflict() && attempts_left > 1) {
             metrics_->count_conflict();
             auto shared_done = std::make_shared<std::function<void(StoreStatus, Conversation)>>(std::move(done));
             reread(
                 committed.token,
                 [this, attempts_left, shared_done](Conversation fresh) {
                   attempt_reset(std::move(fresh), attempts_left - 1, std::move(*shared_done));
                 },
                 [shared_done](StoreStatus error) { (*shared_done)(std::move(error), Conversation{}); });
             return;
           }
           done(std::move(s), std::move(committed));
         });
}

void Conversations::reread(const std::string& token, std::function<void(Conversation)> then,
                           std::function<void(StoreStatus)> failed) {
  auto work = [this, token, then = std::move(then), failed = std::move(failed)] {
    std::optional<SessionRecord> record;
    StoreStatus s = store_->get(token, &record);
    if (!s.ok()) return failed(std::move(s));
    bool readable = false;
    // Gone (expired or deleted since): the turn starts a new dialog under
    // the same token, at version 0.
    then(record ? from_record(token, *record, &readable) : Conversation{token, SessionState{}, "", "", 0, ""});
  };
  if (defer_)
    defer_(std::move(work));
  else
    work();
}

void Conversations::commit(Conversation next, std::function<void(StoreStatus, Conversation)> done) {
  SessionRecord record{to_json(next.state).dump(), next.last_id, next.last_reply, next.version, next.earlier_ids};
  const auto queued = std::chrono::steady_clock::now();
  std::string key = next.token;
  store_->put(std::move(key), std::move(record),
              [this, queued, next = std::move(next), done = std::move(done)](const StoreStatus& s) mutable {
                metrics_->store_write_latency().observe(
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - queued).count());
                if (s.ok()) ++next.version;
                done(s, std::move(next));
              });
}

}  // namespace runbot
