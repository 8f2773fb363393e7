#include "bot/engine.h"

#include <cmath>
#include <limits>

namespace runbot {
namespace {

using json = nlohmann::json;

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

json entities_json(const Entities& e) {
  json j = json::object();
  if (!e.condition.empty()) j["condition"] = e.condition;
  if (!e.treatment.empty()) j["treatment"] = e.treatment;
  if (!e.exercise.empty()) j["exercise"] = e.exercise;
  if (!e.shoe_topic.empty()) j["shoe_topic"] = e.shoe_topic;
  if (!e.symptoms.empty()) {
    json list = json::array();
    for (auto s : e.symptoms) list.push_back(s);
    j["symptom"] = std::move(list);
  }
  if (e.duration_days) j["duration_days"] = *e.duration_days;
  if (e.mileage) j["mileage"] = *e.mileage;
  return j;
}

// Drops bytes that are not valid UTF-8, so that nothing downstream (JSON
// output above all) ever sees them.
std::string valid_utf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + len <= in.size();
    for (size_t k = 1; ok && k < len; ++k)
      ok = (static_cast<unsigned char>(in[i + k]) >> 6) == 0x2;
    if (ok) out.append(in.substr(i, len));
    i += ok ? len : 1;
  }
  return out;
}

}  // namespace

json to_json(const Reply& r, const json& reply_to) {
  json j = {{"type", "reply"},
            {"reply_to", reply_to},
            {"text", r.text},
            {"intent", r.intent},
            {"confidence", std::round(r.confidence * 1000) / 1000},
            {"entities", r.entities},
            {"triage", nullptr},
            {"expecting", nullptr},
            {"quick_replies", r.quick_replies},
            {"sources", r.sources}};
  if (r.triage != Triage::kNone) j["triage"] = std::string(triage_name(r.triage));
  if (!r.expecting.empty()) j["expecting"] = r.expecting;
  return j;
}

std::shared_ptr<const Engine> Engine::load(const std::vector<DataFile>& files, LoadErrors* errors) {
  const size_t before = errors->size();
  std::vector<DataFile> intent_files, knowledge_files;
  const DataFile* triage = nullptr;
  for (const auto& f : files) {
    if (starts_with(f.name, "intents/data/")) intent_files.push_back(f);
    else if (starts_with(f.name, "bot/knowledge/")) knowledge_files.push_back(f);
    else if (f.name == "dialogs/data/triage.json") triage = &f;
  }
  std::shared_ptr<Engine> e(new Engine());
  e->classifier_ = Classifier::load(intent_files, errors);
  if (!e->classifier_) return nullptr;
  e->knowledge_ = KnowledgeBase::load(knowledge_files, *e->classifier_, errors);
  if (!e->knowledge_) return nullptr;
  if (triage == nullptr) {
    errors->push_back({"dialogs/data/triage.json", "", "required data file is missing"});
    return nullptr;
  }
  const KnowledgeBase* kb = e->knowledge_.get();
  e->dialog_ = DialogEngine::load(
      *triage, *e->classifier_,
      [kb](std::string_view id) -> const std::string* {
        const KnowledgeEntry* entry = kb->find(id);
        return entry ? &entry->text : nullptr;
      },
      errors);
  if (errors->size() != before || !e->dialog_) return nullptr;
  return e;
}

HandleResult Engine::handle(const SessionState& state, std::string_view raw) const {
  HandleResult r;
  std::string text = valid_utf8(raw.substr(0, kMaxTextBytes));
  ClassifyContext ctx;
  ctx.expecting = state.dialog.pending;
  r.classification = classifier_->classify(text, ctx);
  const Classification& c = r.classification;

  KnowledgeAnswer answer;
  const KnowledgeAnswer* answer_ptr = nullptr;
  if (const KnowledgeEntry* entry = knowledge_->answer(c)) {
    answer.text = entry->text;
    answer.sources = {entry->id};
    answer_ptr = &answer;
  }
  auto [dialog, turn] = dialog_->step(state.dialog, c, answer_ptr);
  r.state.dialog = std::move(dialog);
  // Saturates: a stored state may hold any count up to INT_MAX, and
  // overflowing it is undefined (found by tests/fuzz/engine_fuzzer).
  r.state.turns = state.turns < std::numeric_limits<int>::max() ? state.turns + 1 : state.turns;

  Reply& reply = r.reply;
  reply.text = std::move(turn.text);
  reply.intent = std::string(c.intent);
  reply.confidence = c.confidence;
  reply.entities = entities_json(c.entities);
  reply.triage = turn.triage;
  reply.expecting = std::move(turn.expecting);
  reply.quick_replies = std::move(turn.quick_replies);
  reply.sources = std::move(turn.sources);
  return r;
}

}  // namespace runbot
