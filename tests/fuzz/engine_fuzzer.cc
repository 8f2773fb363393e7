// libFuzzer target: Engine::handle on arbitrary text and arbitrary saved
// state. The input's first line is the saved state as the stores keep it
// (JSON, or anything: a corrupt state must give a fresh session); each
// further line is one message, handled in turn with the state the previous
// one returned (at most kMaxTurns). The engine promises never to throw and
// always to reply; the state it returns must survive the stores' JSON round
// trip, and a triage level is never lowered except by "start over".
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "bot/data_files.h"
#include "bot/engine.h"
#include "bot/session_state.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

constexpr int kMaxTurns = 16;

const runbot::Engine& engine() {
  // Loaded once from the source tree (RUNBOT_DATA overrides): the real data.
  static const std::shared_ptr<const runbot::Engine> e = [] {
    runbot::LoadErrors errors;
    auto loaded = runbot::load_engine(runbot::default_data_root(), &errors);
    for (const auto& err : errors) std::fprintf(stderr, "%s\n", err.to_string().c_str());
    FUZZ_CHECK(loaded != nullptr);
    return loaded;
  }();
  return *e;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  engine();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t eol = input.find('\n');
  std::string_view saved = input.substr(0, eol);
  std::string_view rest = eol == std::string_view::npos ? std::string_view() : input.substr(eol + 1);

  bool ok = false;
  runbot::SessionState state = runbot::session_state_from_string(saved, &ok);
  if (!ok) FUZZ_CHECK(state == runbot::SessionState{});

  for (int turn = 0; turn < kMaxTurns; ++turn) {
    size_t end = rest.find('\n');
    std::string_view text = rest.substr(0, end);
    runbot::HandleResult r = engine().handle(state, text);

    FUZZ_CHECK(!r.reply.text.empty());
    // What the server sends and what the store keeps must serialise.
    (void)runbot::to_json(r.reply, "id").dump();
    std::string stored = runbot::to_json(r.state).dump();
    bool reloaded_ok = false;
    runbot::SessionState reloaded = runbot::session_state_from_string(stored, &reloaded_ok);
    FUZZ_CHECK(reloaded_ok);
    FUZZ_CHECK(reloaded == r.state);
    if (r.reply.intent != "restart") FUZZ_CHECK(r.state.dialog.triage >= state.dialog.triage);

    state = std::move(r.state);
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return 0;
}
