#include "bot/server/conversations.h"

#include <chrono>

#include "bot/server/token.h"

namespace runbot {

using json = nlohmann::json;

Conversations::Conversations(std::shared_ptr<SessionStore> store, std::shared_ptr<const Engine> engine,
                             Metrics* metrics)
    : store_(std::move(store)), engine_(std::move(engine)), metrics_(metrics) {}

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

StoreStatus Conversations::open(const std::optional<std::string>& token, Conversation* out, bool* resumed) const {
  *resumed = false;
  // A malformed token is never looked up, so odd strings cannot probe the store.
  if (token && is_well_formed_token(*token)) {
    std::optional<SessionRecord> record;
    StoreStatus s = store_->get(*token, &record);
    if (!s.ok()) return s;
    if (record) {
      bool ok = false;
      SessionState state = session_state_from_string(record->state, &ok);
      // A corrupt state starts the dialog afresh but keeps the session:
      // the token is genuine, only its contents were unreadable.
      *out = Conversation{*token, std::move(state), ok ? record->last_id : "", ok ? record->last_reply : ""};
      *resumed = ok;
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

void Conversations::run_turn(const Conversation& c, std::string_view text, const json& id,
                             std::function<void(TurnOutcome)> done) {
  std::shared_ptr<const Engine> engine = this->engine();
  HandleResult r = engine->handle(c.state, text);
  Conversation next{c.token, std::move(r.state), id.is_null() ? "" : id.dump(), ""};
  json reply = to_json(r.reply, id);
  next.last_reply = reply.dump();
  std::string intent = r.reply.intent;
  std::string triage(triage_name(r.reply.triage));
  commit(std::move(next), [this, done = std::move(done), reply = std::move(reply), intent = std::move(intent),
                           triage = std::move(triage)](StoreStatus s, Conversation committed) mutable {
    if (s.ok()) metrics_->count_reply(intent, triage);
    done(TurnOutcome{std::move(s), std::move(committed), std::move(reply)});
  });
}

void Conversations::reset(const Conversation& c, std::function<void(StoreStatus, Conversation)> done) {
  commit(Conversation{c.token, SessionState{}, "", ""}, std::move(done));
}

void Conversations::commit(Conversation next, std::function<void(StoreStatus, Conversation)> done) {
  SessionRecord record{to_json(next.state).dump(), next.last_id, next.last_reply};
  const auto queued = std::chrono::steady_clock::now();
  std::string key = next.token;
  store_->put(std::move(key), std::move(record),
              [this, queued, next = std::move(next), done = std::move(done)](const StoreStatus& s) mutable {
                metrics_->store_write_latency().observe(
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - queued).count());
                done(s, std::move(next));
              });
}

}  // namespace runbot
