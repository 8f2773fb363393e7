// Conversations over a MemoryStore and the real engine: sessions by token,
// commit before completion, the retry rule, failures leaving the session
// as it was.
#include "bot/server/conversations.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <future>

#include "bot/data_files.h"
#include "bot/server/token.h"
#include "bot/store/memory_store.h"

namespace runbot {
namespace {

using json = nlohmann::json;

std::shared_ptr<const Engine> shared_engine() {
  static std::shared_ptr<const Engine> engine = [] {
    LoadErrors errors;
    auto e = load_engine(RUNBOT_SOURCE_DIR, &errors);
    REQUIRE(e);
    return e;
  }();
  return engine;
}

// run_turn() and wait for its completion.
TurnOutcome turn_sync(Conversations& on, const Conversation& c, std::string_view text, json id) {
  std::promise<TurnOutcome> p;
  on.run_turn(c, text, id, [&](TurnOutcome o) { p.set_value(std::move(o)); });
  return p.get_future().get();
}

struct Fixture {
  std::shared_ptr<MemoryStore> store = std::make_shared<MemoryStore>();
  Metrics metrics;
  Conversations conversations{store, shared_engine(), &metrics};

  TurnOutcome turn(const Conversation& c, std::string_view text, json id = nullptr) {
    return turn_sync(conversations, c, text, std::move(id));
  }
};

}  // namespace

TEST_SUITE("conversations") {

TEST_CASE("an absent, malformed or unknown token starts a new session with a new token") {
  Fixture f;
  const std::string forged = new_session_token();
  for (std::optional<std::string> token : {std::optional<std::string>{}, std::optional<std::string>{"short"},
                                           std::optional<std::string>{forged}}) {
    Conversation c;
    bool resumed = true;
    REQUIRE(f.conversations.open(token, &c, &resumed).ok());
    CHECK_FALSE(resumed);
    CHECK(is_well_formed_token(c.token));
    CHECK(c.token != forged);
    CHECK(c.state == SessionState{});
  }
}

TEST_CASE("a committed turn resumes by token, and the store holds slots, not the text") {
  Fixture f;
  Conversation c = f.conversations.start();
  TurnOutcome o = f.turn(c, "the back of my knee hurts after running", "m1");
  REQUIRE(o.status.ok());
  CHECK(o.reply["reply_to"] == "m1");
  CHECK(o.reply["expecting"] == "swelling");

  Conversation resumed;
  bool was_resumed = false;
  REQUIRE(f.conversations.open(c.token, &resumed, &was_resumed).ok());
  CHECK(was_resumed);
  CHECK(resumed.state == o.next.state);
  CHECK(resumed.state.dialog.pending == "swelling");

  std::optional<SessionRecord> record;
  REQUIRE(f.store->get(c.token, &record).ok());
  CHECK(record->state.find("knee hurts") == std::string::npos);
  CHECK(record->last_id == R"("m1")");
}

TEST_CASE("the same id as the last turn gets the stored reply and any other id does not") {
  Fixture f;
  TurnOutcome o = f.turn(f.conversations.start(), "the back of my knee hurts after running", "m1");
  REQUIRE(o.status.ok());
  CHECK(f.conversations.stored_reply(o.next, "m1") == o.reply.dump());
  CHECK_FALSE(f.conversations.stored_reply(o.next, "m2"));
  CHECK_FALSE(f.conversations.stored_reply(o.next, 1));
  CHECK_FALSE(f.conversations.stored_reply(o.next, nullptr));
}

TEST_CASE("a failed commit reports the error and stores nothing") {
  Fixture f;
  Conversation c = f.conversations.start();
  f.store->fail_writes("database or disk is full");
  TurnOutcome o = f.turn(c, "the back of my knee hurts after running", "m1");
  CHECK_FALSE(o.status.ok());
  CHECK(o.status.message() == "database or disk is full");
  CHECK(f.store->size() == 0);
}

TEST_CASE("reset keeps the token and forgets the dialog") {
  Fixture f;
  TurnOutcome o = f.turn(f.conversations.start(), "the back of my knee hurts after running", "m1");
  std::promise<Conversation> p;
  f.conversations.reset(o.next, [&](StoreStatus s, Conversation c) {
    CHECK(s.ok());
    p.set_value(std::move(c));
  });
  Conversation after = p.get_future().get();
  CHECK(after.token == o.next.token);
  CHECK(after.state == SessionState{});
  CHECK_FALSE(f.conversations.stored_reply(after, "m1"));
}

}  // TEST_SUITE
TEST_SUITE("conversations: two instances, one store") {

// Two servers (two Conversations) sharing one store, as two runbot
// instances share Redis. Each holds its own copy of a session between turns.
struct TwoInstances {
  std::shared_ptr<MemoryStore> store = std::make_shared<MemoryStore>();
  Metrics metrics_a, metrics_b;
  Conversations a{store, shared_engine(), &metrics_a};
  Conversations b{store, shared_engine(), &metrics_b};

  static TurnOutcome turn(Conversations& on, const Conversation& c, std::string_view text, json id) {
    return turn_sync(on, c, text, std::move(id));
  }
};

TEST_CASE("a turn on a stale copy is redone on the fresh state: both turns count") {
  TwoInstances t;
  Conversation c = t.a.start();
  TurnOutcome first = TwoInstances::turn(t.a, c, "the back of my knee hurts after running", "m1");
  REQUIRE(first.status.ok());
  Conversation stale_on_b = first.next;
  TurnOutcome second = TwoInstances::turn(t.a, first.next, "no swelling", "m2");
  REQUIRE(second.status.ok());
  CHECK(second.next.state.turns == 2);

  // b still holds the session as it was after m1; its turn m3 conflicts,
  // is redone on the state after m2, and commits as the third turn.
  TurnOutcome third = TwoInstances::turn(t.b, stale_on_b, "it's not warm", "m3");
  REQUIRE(third.status.ok());
  CHECK_FALSE(third.replayed);
  CHECK(third.next.state.turns == 3);
  CHECK(third.next.version == 3);
  CHECK(third.reply["reply_to"] == "m3");
  std::optional<SessionRecord> stored;
  REQUIRE(t.store->get(c.token, &stored).ok());
  CHECK(stored->version == 3);
  CHECK(t.metrics_b.render(0, true).find("runbot_store_conflicts_total 1") != std::string::npos);
}

TEST_CASE("a message resent through the other instance gets the stored reply, not a second turn") {
  TwoInstances t;
  Conversation c = t.a.start();
  TurnOutcome first = TwoInstances::turn(t.a, c, "the back of my knee hurts after running", "m1");
  REQUIRE(first.status.ok());
  TurnOutcome on_a = TwoInstances::turn(t.a, first.next, "no swelling", "m2");
  REQUIRE(on_a.status.ok());

  // The client never saw m2's reply (a died), reconnects to b, which had
  // read the session before m2, and resends m2 with the same id.
  TurnOutcome on_b = TwoInstances::turn(t.b, first.next, "no swelling", "m2");
  REQUIRE(on_b.status.ok());
  CHECK(on_b.replayed);
  CHECK(on_b.reply == on_a.reply);
  CHECK(on_b.next.state.turns == 2);
  CHECK(on_b.next.version == 2);
}

TEST_CASE("a late copy of an older turn is refused, not applied a second time") {
  TwoInstances t;
  Conversation c = t.a.start();
  // The client sent m1 to b, which stalled; it resent m1 through a and went
  // on with m2. Then b wakes up and runs its copy of m1.
  TurnOutcome m1 = TwoInstances::turn(t.a, c, "the back of my knee hurts after running", "m1");
  TurnOutcome m2 = TwoInstances::turn(t.a, m1.next, "no swelling", "m2");
  REQUIRE(m2.status.ok());
  TurnOutcome late = TwoInstances::turn(t.b, c, "the back of my knee hurts after running", "m1");
  CHECK_FALSE(late.status.ok());
  CHECK_FALSE(late.status.is_conflict());
  std::optional<SessionRecord> stored;
  REQUIRE(t.store->get(c.token, &stored).ok());
  CHECK(stored->version == 2);
  CHECK(stored->last_id == R"("m2")");
  CHECK(stored->earlier_ids == R"("m1")");
}

TEST_CASE("a session remembers the ids of its last turns, newest first, up to the bound") {
  Fixture f;
  Conversation c = f.conversations.start();
  for (int i = 0; i < Conversations::kRememberedIds + 3; ++i) {
    TurnOutcome o = f.turn(c, "hello", "m" + std::to_string(i));
    REQUIRE(o.status.ok());
    c = o.next;
  }
  const int last = Conversations::kRememberedIds + 2;
  CHECK(c.last_id == "\"m" + std::to_string(last) + "\"");
  CHECK(c.earlier_ids.rfind("\"m" + std::to_string(last - 1) + "\"\n", 0) == 0);
  CHECK(std::count(c.earlier_ids.begin(), c.earlier_ids.end(), '\n') == Conversations::kRememberedIds - 1);
}

TEST_CASE("reset on a stale copy still resets the current session") {
  TwoInstances t;
  Conversation c = t.a.start();
  TurnOutcome first = TwoInstances::turn(t.a, c, "the back of my knee hurts after running", "m1");
  TurnOutcome second = TwoInstances::turn(t.a, first.next, "no swelling", "m2");
  REQUIRE(second.status.ok());
  std::promise<std::pair<StoreStatus, Conversation>> p;
  t.b.reset(first.next, [&](StoreStatus s, Conversation next) { p.set_value({s, next}); });
  auto [status, next] = p.get_future().get();
  REQUIRE(status.ok());
  CHECK(next.state == SessionState{});
  CHECK(next.version == 3);
}

}  // TEST_SUITE
}  // namespace runbot
