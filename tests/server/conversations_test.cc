// Conversations over a MemoryStore and the real engine: sessions by token,
// commit before completion, the retry rule, failures leaving the session
// as it was.
#include "bot/server/conversations.h"

#include <doctest/doctest.h>

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

struct Fixture {
  std::shared_ptr<MemoryStore> store = std::make_shared<MemoryStore>();
  Metrics metrics;
  Conversations conversations{store, shared_engine(), &metrics};

  TurnOutcome turn(const Conversation& c, std::string_view text, json id = nullptr) {
    std::promise<TurnOutcome> p;
    conversations.run_turn(c, text, id, [&](TurnOutcome o) { p.set_value(std::move(o)); });
    return p.get_future().get();
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
}  // namespace runbot
