// Engine: runbot's one entry point. handle(state, text) classifies the
// message, runs the triage dialog and answers from the knowledge base,
// returning the next state and the reply. Pure: no sockets, threads, clocks
// or files; the server, the terminal client, `runbot eval`, the fuzzers and
// the benchmarks all call this same function.
//
// Thread safety: an Engine is immutable after load() and is shared as
// shared_ptr<const Engine>; handle() may run on any number of threads.
//
// Example, written as a check:
//   auto r = engine->handle(SessionState{}, "the back of my knee hurts after running");
//   CHECK(r.reply.intent == "symptom_report");
//   CHECK(r.reply.expecting == "swelling");
#ifndef RUNBOT_BOT_ENGINE_H_
#define RUNBOT_BOT_ENGINE_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "bot/knowledge_base.h"
#include "bot/session_state.h"
#include "dialogs/dialog_engine.h"
#include "intents/classifier.h"

namespace runbot {

// The fields of a protocol `reply` (spec/protocol.md) that the engine owns.
struct Reply {
  std::string text;
  std::string intent;
  double confidence = 0;
  nlohmann::json entities = nlohmann::json::object();
  Triage triage = Triage::kNone;
  std::string expecting;                 // "" serialises as null
  std::vector<std::string> quick_replies;
  std::vector<std::string> sources;
};

// {"type":"reply", ...}; reply_to is the client's id or null.
nlohmann::json to_json(const Reply& r, const nlohmann::json& reply_to = nullptr);

struct HandleResult {
  SessionState state;
  Reply reply;
  Classification classification;  // for --debug and evaluation
};

class Engine {
 public:
  // The longest message text handled; longer input is cut (the server
  // refuses it before it gets here).
  static constexpr size_t kMaxTextBytes = 4096;

  // Builds the engine from data files named by their path relative to the
  // data root: intents/data/*.json, dialogs/data/triage.json,
  // bot/knowledge/*.json. Collects every problem; nullptr when any.
  static std::shared_ptr<const Engine> load(const std::vector<DataFile>& files, LoadErrors* errors);

  // Never throws on user text and always returns a reply.
  HandleResult handle(const SessionState& state, std::string_view text) const;

  const Classifier& classifier() const { return *classifier_; }
  const KnowledgeBase& knowledge() const { return *knowledge_; }
  const DialogEngine& dialog() const { return *dialog_; }

 private:
  Engine() = default;
  std::unique_ptr<Classifier> classifier_;
  std::unique_ptr<KnowledgeBase> knowledge_;
  std::unique_ptr<DialogEngine> dialog_;
};

}  // namespace runbot

#endif  // RUNBOT_BOT_ENGINE_H_
