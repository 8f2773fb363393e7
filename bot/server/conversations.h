// Conversations: what happens to a session on each client request, apart
// from any transport (the WebSocket and POST /api/message both use it).
// Opens or resumes sessions by token, applies the retry rule, runs
// Engine::handle and commits the new state and reply to the store before
// the caller may send the reply. The engine is swapped whole on reload;
// a turn keeps the engine it started with.
//
// Thread safety: all methods are safe from any thread. Completions run on a
// store thread: post them to your own executor.
#ifndef RUNBOT_BOT_SERVER_CONVERSATIONS_H_
#define RUNBOT_BOT_SERVER_CONVERSATIONS_H_

#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "bot/engine.h"
#include "bot/server/metrics.h"
#include "bot/store/session_store.h"

namespace runbot {

// One session as a connection holds it between turns.
struct Conversation {
  std::string token;       // the session's secret name
  SessionState state;
  std::string last_id;     // JSON of the last turn's client id; "" if none
  std::string last_reply;  // the reply frame of that turn
  uint64_t version = 0;    // the stored version this copy was read at (SessionRecord)
  std::string earlier_ids; // SessionRecord::earlier_ids
};

struct TurnOutcome {
  StoreStatus status;   // not ok: nothing was committed, the session is unchanged
  Conversation next;    // the committed session (when ok)
  nlohmann::json reply; // {"type":"reply","reply_to":id,...} (when ok)
  bool replayed = false; // the turn had already been committed (elsewhere): `reply` is the stored one
};

class Conversations {
 public:
  // Runs `work` later on some other thread (the server posts it to its
  // io_context). Used to redo a turn after a write conflict: the redo reads
  // the store, and a read may wait for the store's own thread, on which the
  // conflict was reported. Null runs it inline (stores that complete inline).
  using Defer = std::function<void(std::function<void()> work)>;

  // How often one turn is redone after write conflicts before it fails with
  // the conflict status. Each redo means another writer committed a turn of
  // the same session in between, so the bound is only reached by a session
  // hammered from several places at once.
  static constexpr int kMaxAttempts = 8;

  // How many ids before the last one a session remembers: a copy of one of
  // those turns arriving late is refused instead of applied twice.
  static constexpr int kRememberedIds = 8;

  Conversations(std::shared_ptr<SessionStore> store, std::shared_ptr<const Engine> engine, Metrics* metrics,
                Defer defer = nullptr);

  std::shared_ptr<const Engine> engine() const;
  // Turns that start after this call use `engine`.
  void set_engine(std::shared_ptr<const Engine> engine);

  // A new session with a fresh token. Nothing is stored until its first
  // turn. Throws std::runtime_error only if the OS has no randomness.
  Conversation start() const;

  // Resumes the session `token` names, or starts a new one when the token is
  // absent, malformed, unknown or expired (*resumed false); a client never
  // gets a session whose token it did not hold. Fails only when the store
  // cannot be read, leaving *out untouched.
  StoreStatus open(const std::optional<std::string>& token, Conversation* out, bool* resumed) const;

  // The retry rule: the stored reply frame when `id` is the id of the
  // session's last turn, else nullopt. A null id never matches.
  std::optional<std::string> stored_reply(const Conversation& c, const nlohmann::json& id) const;

  // Runs one turn of `c` on `text` and commits it. `done` runs exactly once,
  // after the commit, on a store thread (or a Defer thread).
  //
  // When the commit conflicts (the session moved on since `c` was read:
  // another connection or server instance committed a turn), the session is
  // read again and then either the stored reply is returned, when the turn
  // with this `id` is the one that was committed (a client resending through
  // another instance), or the turn is redone on the fresh state. So a turn
  // is applied exactly once, whoever commits first. A turn whose id is one
  // of the session's earlier turns (a stale copy, the session has moved on)
  // fails with an error instead of being applied again.
  void run_turn(const Conversation& c, std::string_view text, const nlohmann::json& id,
                std::function<void(TurnOutcome)> done);

  // Forgets the dialog of `c` (keeping its token) and commits that, re-read
  // and redone on conflicts like run_turn().
  void reset(const Conversation& c, std::function<void(StoreStatus, Conversation)> done);

 private:
  struct Turn;
  void attempt_turn(std::shared_ptr<Turn> turn, Conversation c);
  void attempt_reset(Conversation c, int attempts_left, std::function<void(StoreStatus, Conversation)> done);
  // Reads the session again after a conflict (on the Defer thread) and calls
  // `then` with it, or `failed` with the read error.
  void reread(const std::string& token, std::function<void(Conversation)> then,
              std::function<void(StoreStatus)> failed);
  void commit(Conversation next, std::function<void(StoreStatus, Conversation)> done);

  std::shared_ptr<SessionStore> store_;
  // A mutex rather than std::atomic<shared_ptr>: libstdc++ 12's version is a
  // lock bit that ThreadSanitizer cannot see, and the lock is held for one
  // reference-count increment per turn.
  mutable std::mutex engine_mu_;
  std::shared_ptr<const Engine> engine_;  // GUARDED_BY(engine_mu_)
  Metrics* metrics_;
  Defer defer_;
};

}  // namespace runbot

#endif  // RUNBOT_BOT_SERVER_CONVERSATIONS_H_
