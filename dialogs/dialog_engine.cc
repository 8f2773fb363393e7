#include "dialogs/dialog_engine.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

namespace runbot {
namespace {

using json = nlohmann::json;

bool contains(const std::vector<std::string>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}
bool contains(const std::vector<std::string_view>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::string replace_all(std::string text, std::string_view key, std::string_view value) {
  for (size_t pos = text.find(key); pos != std::string::npos; pos = text.find(key, pos + value.size()))
    text.replace(pos, key.size(), value);
  return text;
}

// "a, b and c"
std::string join_and(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " and " : ", ";
    out += items[i];
  }
  return out;
}

void add_unique(std::vector<std::string>* v, const std::string& x) {
  if (!contains(*v, x)) v->push_back(x);
}

}  // namespace

std::string_view triage_name(Triage t) {
  switch (t) {
    case Triage::kSelfCare: return "self_care";
    case Triage::kSeeDoctor: return "see_doctor";
    case Triage::kEmergency: return "emergency";
    default: return "";
  }
}

Triage triage_from_name(std::string_view name) {
  if (name == "self_care") return Triage::kSelfCare;
  if (name == "see_doctor") return Triage::kSeeDoctor;
  if (name == "emergency") return Triage::kEmergency;
  return Triage::kNone;
}

std::unique_ptr<DialogEngine> DialogEngine::load(const DataFile& file, const Classifier& classifier,
                                                 const KnowledgeLookup& knowledge,
                                                 LoadErrors* errors) {
  const size_t before = errors->size();
  std::unique_ptr<DialogEngine> d(new DialogEngine());
  auto err = [&](const std::string& entry, const std::string& message) {
    errors->push_back({file.name, entry, message});
  };
  const auto symptoms = classifier.entity_values("symptom");
  const auto onsets = classifier.entity_values("onset");
  const auto locations = classifier.entity_values("location");
  auto parse_fact = [&](const std::string& s, const std::string& where) {
    Fact f;
    std::string body = s;
    if (!body.empty() && body[0] == '!') {
      f.kind = "!";
      body = body.substr(1);
    }
    size_t colon = body.find(':');
    if (colon == std::string::npos) {
      err(where, "fact \"" + s + "\" must look like kind:name");
      return f;
    }
    std::string kind = body.substr(0, colon), rest = body.substr(colon + 1);
    f.kind += kind;
    size_t eq = rest.find('=');
    f.name = rest.substr(0, eq);
    if (eq != std::string::npos) f.value = rest.substr(eq + 1);
    bool known = (kind == "slot" && !f.value.empty()) || (kind == "symptom" && contains(symptoms, f.name)) ||
                 (kind == "onset" && contains(onsets, f.name)) ||
                 (kind == "location" && contains(locations, f.name));
    if (!known) err(where, "unknown fact \"" + s + "\"");
    return f;
  };
  try {
    json doc = json::parse(file.contents);
    if (doc.at("version").get<int>() != 1) err("version", "unsupported version");
    const auto& ji = doc.at("intents");
    d->start_intents_ = ji.at("start").get<std::vector<std::string>>();
    d->answer_intents_ = ji.at("answers").get<std::vector<std::string>>();
    d->first_person_fact_intents_ = ji.at("facts_when_first_person").get<std::vector<std::string>>();
    for (const auto* list : {&d->start_intents_, &d->answer_intents_, &d->first_person_fact_intents_})
      for (const auto& name : *list)
        if (!classifier.has_intent(name)) err("intents", "unknown intent \"" + name + "\"");
    for (const auto& js : doc.at("slots")) {
      Slot slot;
      slot.name = js.at("name").get<std::string>();
      std::string where = "slot \"" + slot.name + "\"";
      std::string kind = js.at("kind").get<std::string>();
      if (kind == "yes_no") slot.kind = Kind::kYesNo;
      else if (kind == "days") slot.kind = Kind::kDays;
      else if (kind == "choice") slot.kind = Kind::kChoice;
      else err(where, "unknown kind \"" + kind + "\"");
      slot.question = js.at("question").get<std::string>();
      slot.reprompt = js.at("reprompt").get<std::string>();
      slot.why = js.at("why").get<std::string>();
      slot.quick_replies = js.at("quick_replies").get<std::vector<std::string>>();
      for (size_t i = 0; i < slot.quick_replies.size(); ++i)
        if (slot.quick_replies[i].empty())
          err(where, "quick_reply " + std::to_string(i + 1) + " is empty");
      if (slot.question.empty()) err(where, "question is empty");
      if (js.contains("symptoms")) {
        slot.symptoms = js.at("symptoms").get<std::vector<std::string>>();
        for (const auto& s : slot.symptoms)
          if (!contains(symptoms, s)) err(where, "unknown symptom \"" + s + "\"");
      }
      if (js.contains("values")) {
        slot.values = js.at("values").get<std::vector<std::string>>();
        const auto& known = slot.name == "onset" ? onsets : locations;
        for (const auto& v : slot.values)
          if (!contains(known, v)) err(where, "value \"" + v + "\" is not an entity value of the classifier");
      }
      if (js.contains("ask_if")) {
        for (auto& [k, v] : js.at("ask_if").items()) {
          slot.ask_if_slot = k;
          slot.ask_if_value = v.get<std::string>();
        }
      }
      if (slot.kind == Kind::kYesNo && slot.symptoms.empty())
        err(where, "a yes_no slot needs the symptoms that answer it");
      d->slots_.push_back(std::move(slot));
    }
    for (const auto& s : d->slots_)
      if (!s.ask_if_slot.empty() && d->slot(s.ask_if_slot) == nullptr)
        err("slot \"" + s.name + "\"", "ask_if names unknown slot \"" + s.ask_if_slot + "\"");
    for (const auto& jf : doc.at("red_flags")) {
      RedFlag rf;
      rf.id = jf.at("id").get<std::string>();
      rf.says = jf.at("says").get<std::string>();
      const auto& when = jf.at("when");
      rf.duration_over = when.value("duration_over", -1);
      if (when.contains("all"))
        for (const auto& f : when.at("all")) rf.all.push_back(parse_fact(f.get<std::string>(), "red_flag \"" + rf.id + "\""));
      if (rf.duration_over < 0 && rf.all.empty()) err("red_flag \"" + rf.id + "\"", "has no condition");
      if (jf.contains("unless")) rf.unless = jf.at("unless").get<std::vector<std::string>>();
      d->red_flags_.push_back(std::move(rf));
    }
    for (const auto& jc : doc.at("likely_causes")) {
      Cause cause;
      cause.condition = jc.at("condition").get<std::string>();
      cause.source = jc.at("source").get<std::string>();
      cause.name = jc.at("name").get<std::string>();
      std::string where = "likely_cause \"" + cause.condition + "\"";
      if (!knowledge(cause.source)) err(where, "unknown knowledge id \"" + cause.source + "\"");
      for (const auto& jb : jc.at("because")) {
        Because b;
        b.reason = jb.at("reason").get<std::string>();
        if (jb.contains("fact")) b.all.push_back(parse_fact(jb.at("fact").get<std::string>(), where));
        if (jb.contains("all"))
          for (const auto& f : jb.at("all")) b.all.push_back(parse_fact(f.get<std::string>(), where));
        cause.because.push_back(std::move(b));
      }
      d->causes_.push_back(std::move(cause));
    }
    for (auto& [k, v] : doc.at("texts").items()) d->texts_[k] = v.get<std::string>();
    for (const char* required : {"start", "resume", "not_understood", "skip", "why_prefix", "red_flag",
                                 "likely_causes_intro", "likely_causes_none", "noted", "red_flag_plural", "self_care", "see_doctor",
                                 "emergency", "come_back", "disclaimer", "restart", "greet", "goodbye",
                                 "goodbye_in_flow", "thanks", "help", "out_of_scope", "affirm_no_question",
                                 "deny_no_question", "unsure_no_question", "why_no_question"})
      if (!d->texts_.count(required)) err(std::string("texts \"") + required + "\"", "is missing");
    const auto& qr = doc.at("quick_replies");
    d->default_quick_replies_ = qr.at("default").get<std::vector<std::string>>();
    d->after_conclusion_replies_ = qr.at("after_conclusion").get<std::vector<std::string>>();
    for (auto& [k, v] : doc.at("sources").items()) {
      d->sources_[k] = v.get<std::vector<std::string>>();
      for (const auto& id : d->sources_[k])
        if (!knowledge(id)) err("sources \"" + k + "\"", "unknown knowledge id \"" + id + "\"");
    }
    if (d->sources_["self_care"].empty()) {
      err("sources \"self_care\"", "must name the self-care plan entry");
    } else if (const std::string* plan = knowledge(d->sources_["self_care"][0])) {
      d->self_care_plan_ = *plan;
    }
  } catch (const json::exception& e) {
    err("", e.what());
  }
  if (errors->size() != before) return nullptr;
  return d;
}

std::vector<std::string> DialogEngine::slot_names() const {
  std::vector<std::string> out;
  for (const auto& s : slots_) out.push_back(s.name);
  return out;
}

std::vector<std::string> DialogEngine::quick_replies_of(std::string_view slot_name) const {
  const Slot* s = slot(slot_name);
  return s ? s->quick_replies : std::vector<std::string>{};
}

std::string DialogEngine::text(const std::string& key) const {
  auto it = texts_.find(key);
  return it == texts_.end() ? std::string() : it->second;
}

const DialogEngine::Slot* DialogEngine::slot(std::string_view name) const {
  for (const auto& s : slots_)
    if (s.name == name) return &s;
  return nullptr;
}

bool DialogEngine::holds(const DialogState& s, const Fact& f) const {
  const bool negate = !f.kind.empty() && f.kind[0] == '!';
  std::string_view kind = negate ? std::string_view(f.kind).substr(1) : std::string_view(f.kind);
  bool result = false;
  if (kind == "slot") {
    auto it = s.slots.find(f.name);
    result = it != s.slots.end() && it->second == f.value;
  } else if (kind == "symptom") {
    result = contains(s.symptoms, f.name);
  } else if (kind == "onset" || kind == "location") {
    auto it = s.slots.find(std::string(kind));
    result = it != s.slots.end() && it->second == f.name;
  }
  return negate ? !result : result;
}

const DialogEngine::Slot* DialogEngine::next_slot(const DialogState& s) const {
  for (const auto& slot : slots_) {
    if (s.slots.count(slot.name)) continue;
    if (!slot.ask_if_slot.empty()) {
      auto it = s.slots.find(slot.ask_if_slot);
      if (it == s.slots.end() || it->second != slot.ask_if_value) continue;
    }
    return &slot;
  }
  return nullptr;
}

namespace {

// The whole of `text` as a non-negative int; false otherwise.
bool parse_days(const std::string& text, int* days) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *days);
  return ec == std::errc() && ptr == end && *days >= 0;
}

}  // namespace

std::vector<const DialogEngine::RedFlag*> DialogEngine::red_flags(const DialogState& s) const {
  std::vector<const RedFlag*> out;
  for (const auto& rf : red_flags_) {
    bool on = true;
    if (rf.duration_over >= 0) {
      auto it = s.slots.find("duration");
      // The state comes back from a store: a duration that is not a number
      // of days (corrupt or foreign, or "unknown") raises nothing rather than
      // throwing from std::stoi (found by tests/fuzz/engine_fuzzer).
      int days = 0;
      on = it != s.slots.end() && parse_days(it->second, &days) && days > rf.duration_over;
    }
    for (const auto& f : rf.all) on = on && holds(s, f);
    if (on) out.push_back(&rf);
  }
  // A general flag gives way to a more specific one that says the same.
  std::vector<const RedFlag*> kept;
  for (const auto* rf : out) {
    bool replaced = false;
    for (const auto* other : out) replaced = replaced || contains(rf->unless, other->id);
    if (!replaced) kept.push_back(rf);
  }
  return kept;
}

void DialogEngine::apply_facts(const Classification& c, DialogState* s, bool* filled_pending,
                               bool* filled_any) const {
  auto fill = [&](const std::string& name, const std::string& value) {
    s->slots[name] = value;
    *filled_any = true;
    if (name == s->pending) *filled_pending = true;
  };
  for (const auto& slot : slots_) {
    if (slot.kind != Kind::kYesNo) continue;
    bool said = false, denied = false;
    for (const auto& sym : slot.symptoms) {
      if (contains(c.entities.symptoms, sym)) said = true;
      if (contains(c.entities.denied_symptoms, sym)) denied = true;
    }
    if (said) fill(slot.name, "yes");
    else if (denied) fill(slot.name, "no");
  }
  for (auto sym : c.entities.symptoms) add_unique(&s->symptoms, std::string(sym));
  if (c.entities.duration_days) fill("duration", std::to_string(*c.entities.duration_days));
  if (!c.onset.empty()) fill("onset", std::string(c.onset));
  if (!c.location.empty()) fill("location", std::string(c.location));

  // A bare yes or no answers the question just asked, and only when the
  // message said nothing else ("no tingling, ..." answers tingling alone).
  if (!s->pending.empty() && !*filled_any) {
    const Slot* p = slot(s->pending);
    if (p != nullptr && p->kind == Kind::kYesNo) {
      if (c.answer == Polarity::kYes) fill(p->name, "yes");
      else if (c.answer == Polarity::kNo) fill(p->name, "no");
    }
  }
}

std::string DialogEngine::conclusion(DialogState* s, Turn* turn) const {
  std::vector<std::string> parts;
  auto flags = red_flags(*s);
  if (flags.empty()) {
    s->triage = std::max(s->triage, Triage::kSelfCare);
    parts.push_back(text("self_care"));
    if (!self_care_plan_.empty()) parts.push_back(self_care_plan_);
    for (const auto& src : sources_.at("self_care")) add_unique(&turn->sources, src);
  } else {
    s->triage = std::max(s->triage, Triage::kSeeDoctor);
    std::vector<std::string> says;
    for (const auto* f : flags) says.push_back(f->says);
    parts.push_back(replace_all(text("see_doctor"), "{flags}", join_and(says)));
    for (const auto& src : sources_.at("see_doctor")) add_unique(&turn->sources, src);
  }
  std::string causes;
  for (const auto& cause : causes_) {
    std::vector<std::string> reasons;
    for (const auto& b : cause.because) {
      bool on = !b.all.empty();
      for (const auto& f : b.all) on = on && holds(*s, f);
      if (on) reasons.push_back(b.reason);
    }
    if (reasons.empty()) continue;
    std::string name = cause.name;
    name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
    causes += "\n- " + name + ": " + join_and(reasons) + ".";
    add_unique(&turn->sources, cause.source);
  }
  parts.push_back(causes.empty() ? text("likely_causes_none") : text("likely_causes_intro") + causes);
  parts.push_back(text("come_back"));
  parts.push_back(text("disclaimer"));
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += "\n\n";
    out += p;
  }
  return out;
}

std::pair<DialogState, Turn> DialogEngine::step(const DialogState& in, const Classification& c,
                                                const KnowledgeAnswer* answer) const {
  DialogState s = in;
  Turn t;
  const std::string_view intent = c.intent;
  auto finish = [&](std::vector<std::string> parts) {
    for (const auto& p : parts) {
      if (p.empty()) continue;
      if (!t.text.empty()) t.text += "\n\n";
      t.text += p;
    }
    t.triage = s.triage;
    return std::make_pair(s, t);
  };

  if (intent == "restart") {
    s = DialogState{};
    t.quick_replies = default_quick_replies_;
    return finish({text("restart")});
  }
  if (c.emergency) {
    s.triage = Triage::kEmergency;
    s.active = false;
    s.concluded = true;
    s.pending.clear();
    s.reprompts = 0;
    t.sources = sources_.at("emergency");
    return finish({replace_all(text("emergency"), "{sign}", text("emergency_signs"))});
  }

  const bool in_flow = s.active && !s.pending.empty();
  auto is_answer_intent = [&](std::string_view i) { return contains(answer_intents_, i); };
  const bool takes_facts = !c.hypothetical &&
                           (is_answer_intent(intent) ||
                            (c.first_person && (in_flow || contains(first_person_fact_intents_, intent))));
  bool filled_pending = false, filled_any = false;
  if (takes_facts) apply_facts(c, &s, &filled_pending, &filled_any);

  std::vector<std::string> parts;
  bool reprompt = false, resume = false, skipped = false;
  // What the message itself gets, before the triage part.
  if (answer != nullptr) {
    parts.emplace_back(answer->text);
    t.sources = answer->sources;
    resume = in_flow;
  } else if (intent == "why_ask") {
    const Slot* p = in_flow ? slot(s.pending) : nullptr;
    parts.push_back(p ? replace_all(text("why_prefix"), "{why}", p->why) : text("why_no_question"));
    resume = in_flow;
  } else if (intent == "greet") {
    parts.push_back(in_flow ? text("greet_again") : text("greet"));
    resume = in_flow;
  } else if (intent == "thanks") {
    parts.push_back(text("thanks"));
    resume = in_flow;
  } else if (intent == "help") {
    parts.push_back(text("help"));
    resume = in_flow;
  } else if (intent == "goodbye") {
    parts.push_back(in_flow ? text("goodbye_in_flow") : text("goodbye"));
  } else if (in_flow && !filled_any) {
    // An answer we could not read: ask again with the choices, then move on.
    bool unsure = c.answer == Polarity::kUnsure || intent == "unsure";
    if (intent == "out_of_scope" && !unsure && c.answer == Polarity::kNone &&
        !c.normalized.empty() && c.normalized.back() == '?') {
      parts.push_back(text("out_of_scope"));
      resume = true;
    } else if (++s.reprompts >= 2) {
      s.slots[s.pending] = "unknown";
      s.reprompts = 0;
      skipped = true;
      parts.push_back(text("skip"));
    } else {
      if (!unsure) parts.push_back(text("not_understood"));
      reprompt = true;
    }
  } else if (!s.active && !is_answer_intent(intent)) {
    parts.push_back(text("out_of_scope"));
  } else if (!s.active && !contains(start_intents_, intent)) {
    parts.push_back(intent == "affirm" ? text("affirm_no_question")
                    : intent == "deny" ? text("deny_no_question")
                                       : text("unsure_no_question"));
  }
  if (filled_pending || (filled_any && !reprompt)) s.reprompts = 0;

  // Start (or reopen) the triage on a report of one's own pain.
  if (contains(start_intents_, intent) && !s.active && !c.hypothetical) {
    if (!s.concluded) parts.push_back(text("start"));
    s.active = true;
    s.concluded = false;
  }

  // Red flags are told once, as soon as they are known.
  std::vector<std::string> new_flags;
  for (const auto* rf : red_flags(s)) {
    if (contains(s.flags_told, rf->id)) continue;
    s.flags_told.push_back(rf->id);
    new_flags.push_back(rf->says);
  }
  if (!new_flags.empty()) {
    s.triage = std::max(s.triage, Triage::kSeeDoctor);
    std::string says = join_and(new_flags);
    says[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(says[0])));
    parts.push_back(replace_all(text(new_flags.size() > 1 ? "red_flag_plural" : "red_flag"), "{flags}", says));
    for (const auto& src : sources_.at("red_flag")) add_unique(&t.sources, src);
  }

  if (s.active && intent != "goodbye") {
    const Slot* next = next_slot(s);
    if (next != nullptr) {
      if (reprompt && next->name == s.pending) parts.push_back(next->reprompt);
      else if (filled_any && !filled_pending && next->name == s.pending && new_flags.empty())
      {
        std::string q = next->question;
        q[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(q[0])));
        parts.push_back(replace_all(text("noted"), "{question}", q));
      }
      else if (resume && next->name == s.pending) parts.push_back(replace_all(text("resume"), "{question}", next->question));
      else parts.push_back(next->question);
      if (next->name != s.pending) s.reprompts = 0;
      s.pending = next->name;
      t.expecting = next->name;
      t.quick_replies = next->quick_replies;
    } else {
      parts.push_back(conclusion(&s, &t));
      s.active = false;
      s.concluded = true;
      s.pending.clear();
      s.reprompts = 0;
      t.quick_replies = after_conclusion_replies_;
    }
  } else if (s.active) {
    t.expecting = s.pending;  // goodbye mid-flow: the question still stands
  } else {
    t.quick_replies = s.concluded ? after_conclusion_replies_ : default_quick_replies_;
  }
  (void)skipped;
  return finish(std::move(parts));
}

}  // namespace runbot
