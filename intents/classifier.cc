#include "intents/classifier.h"

#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace runbot {
namespace {

using json = nlohmann::json;

const DataFile* find_file(const std::vector<DataFile>& files, std::string_view suffix,
                          LoadErrors* errors) {
  for (const auto& f : files) {
    if (f.name.size() >= suffix.size() &&
        f.name.compare(f.name.size() - suffix.size(), suffix.size(), suffix) == 0)
      return &f;
  }
  errors->push_back({std::string(suffix), "", "required data file is missing"});
  return nullptr;
}

// Patterns are written as token sequences; a match must start and end on
// token boundaries of the normalised text.
std::string wrap(const std::string& pattern) {
  return "(?:^| )(?:" + pattern + ")(?: |$)";
}

RE2::Options pattern_options(int64_t max_mem) {
  RE2::Options o;
  o.set_log_errors(false);
  o.set_encoding(RE2::Options::EncodingLatin1);  // normalised text is ASCII
  o.set_max_mem(max_mem);
  return o;
}
// Memory budgets (RE2 builds DFA states lazily within them): one concept
// pattern is small; the atom set is a trie of ~1,000 words.
constexpr int64_t kPatternMaxMem = 1 << 20;
constexpr int64_t kAtomSetMaxMem = 32 << 20;

int count_tokens(const std::string& text) {
  if (text.empty()) return 0;
  int n = 1;
  for (char c : text) n += c == ' ';
  return n;
}

// Positions of every match of `re` (start offsets of the tokens matched).
struct Span {
  size_t begin, end;
};
void find_spans(const RE2& re, const std::string& text, std::vector<Span>* out) {
  re2::StringPiece input(text);
  re2::StringPiece match;
  size_t pos = 0;
  while (pos <= text.size() &&
         re.Match(input, pos, text.size(), RE2::UNANCHORED, &match, 1)) {
    size_t b = static_cast<size_t>(match.data() - text.data());
    size_t e = b + match.size();
    if (b < text.size() && text[b] == ' ') ++b;  // the wrapper's leading space
    out->push_back({b, e});
    // the wrapper consumes the trailing space: restart just before it so
    // adjacent matches ("no no") are all found
    pos = e > b ? (e > pos + 1 ? e - 1 : pos + 1) : pos + 1;
  }
}

}  // namespace

bool Classification::has_symptom(std::string_view s) const {
  return std::find(entities.symptoms.begin(), entities.symptoms.end(), s) !=
         entities.symptoms.end();
}
bool Classification::denies_symptom(std::string_view s) const {
  return std::find(entities.denied_symptoms.begin(), entities.denied_symptoms.end(), s) !=
         entities.denied_symptoms.end();
}

Classifier::Classifier() = default;
Classifier::~Classifier() = default;

std::unique_ptr<Classifier> Classifier::load(const std::vector<DataFile>& files,
                                             LoadErrors* errors) {
  const size_t before = errors->size();
  const DataFile* vocab = find_file(files, "vocabulary.json", errors);
  const DataFile* concepts = find_file(files, "concepts.json", errors);
  const DataFile* entities = find_file(files, "entities.json", errors);
  const DataFile* intents = find_file(files, "intents.json", errors);
  if (errors->size() != before) return nullptr;

  std::unique_ptr<Classifier> c(new Classifier());
  c->normalizer_ = Normalizer::load(*vocab, errors);

  // --- concepts: one RE2::Set of every pattern ---------------------------
  RE2::Options options = pattern_options(kPatternMaxMem);
  std::map<std::string, int> concept_ids;
  // Minimum atom length: measured with callgrind on unseen messages, 2
  // letters ran fewer instructions than 3 (-13%) or 4 (+38%).
  c->filtered_ = std::make_unique<re2::FilteredRE2>(2);
  try {
    json doc = json::parse(concepts->contents);
    if (doc.at("version").get<int>() != 1)
      errors->push_back({concepts->name, "version", "unsupported version"});
    for (auto& [name, body] : doc.at("concepts").items()) {
      Concept concept_;
      concept_.name = name;
      concept_.negatable = body.value("negatable", false);
      const auto& patterns = body.at("patterns");
      if (!patterns.is_array() || patterns.empty()) {
        errors->push_back({concepts->name, "concept \"" + name + "\"", "has no patterns"});
        continue;
      }
      int id = static_cast<int>(c->concepts_.size());
      for (size_t i = 0; i < patterns.size(); ++i) {
        std::string p = patterns[i].get<std::string>();
        RE2 raw(p, options);  // checked alone, so the error quotes the author's pattern
        if (!raw.ok()) {
          errors->push_back({concepts->name,
                             "concept \"" + name + "\" pattern " + std::to_string(i + 1),
                             "invalid RE2 pattern: " + raw.error()});
          continue;
        }
        int filtered_id = -1;
        if (c->filtered_->Add(wrap(p), options, &filtered_id) != RE2::NoError) {
          errors->push_back({concepts->name,
                             "concept \"" + name + "\" pattern " + std::to_string(i + 1),
                             "cannot add to the pattern filter"});
          continue;
        }
        c->pattern_concept_.push_back(id);
        concept_.patterns.push_back(filtered_id);
      }
      concept_ids[name] = id;
      c->concepts_.push_back(std::move(concept_));
    }
  } catch (const json::exception& e) {
    errors->push_back({concepts->name, "", e.what()});
  }
  if (errors->size() != before) return nullptr;
  std::vector<std::string> atoms;
  c->filtered_->Compile(&atoms);
  c->atoms_ = std::make_unique<RE2::Set>(pattern_options(kAtomSetMaxMem), RE2::UNANCHORED);
  for (const auto& atom : atoms) {
    std::string set_error;
    if (c->atoms_->Add(RE2::QuoteMeta(atom), &set_error) < 0) {
      errors->push_back({concepts->name, "", "cannot add atom \"" + atom + "\": " + set_error});
      return nullptr;
    }
  }
  // An empty RE2::Set cannot compile; one atom nobody types keeps it valid.
  if (atoms.empty()) c->atoms_->Add("\\x01", nullptr);
  if (!c->atoms_->Compile()) {
    errors->push_back({concepts->name, "", "the atom set does not fit in memory"});
    return nullptr;
  }
  auto need = [&](const char* name) {
    auto it = concept_ids.find(name);
    if (it == concept_ids.end()) {
      errors->push_back({concepts->name, std::string("concept \"") + name + "\"",
                         "is required by the classifier but not defined"});
      return -1;
    }
    return it->second;
  };
  c->negation_cue_ = need("negation_cue");
  c->uncertain_cue_ = need("uncertain_cue");
  c->scope_break_ = need("scope_break");
  c->yes_word_ = need("yes_word");
  c->no_word_ = need("no_word");
  c->unsure_word_ = need("unsure_word");
  c->first_person_ = need("first_person");
  c->hypothetical_ = need("hypothetical");
  c->knee_ = need("knee");
  c->back_of_knee_ = need("back_of_knee");
  c->calf_ = need("calf");
  c->hamstring_ = need("hamstring");
  c->other_domain_ = need("other_domain");
  c->offtopic_running_ = need("offtopic_running");
  c->body_other_ = need("body_other");
  c->pain_ = need("pain");

  // --- entities ------------------------------------------------------------
  try {
    json doc = json::parse(entities->contents);
    for (auto& [entity, values] : doc.at("entities").items()) {
      for (auto& [value, concept_name] : values.items()) {
        auto it = concept_ids.find(concept_name.get<std::string>());
        if (it == concept_ids.end()) {
          errors->push_back({entities->name, entity + " \"" + value + "\"",
                             "unknown concept \"" + concept_name.get<std::string>() + "\""});
          continue;
        }
        c->entity_values_.push_back({entity, value, it->second});
      }
    }
    std::vector<std::string> skip;
    if (doc.contains("skip_suffixes")) skip = doc.at("skip_suffixes").get<std::vector<std::string>>();
    for (size_t i = 0; i < doc.at("numbers").size(); ++i) {
      const auto& n = doc.at("numbers")[i];
      NumberPattern np;
      np.entity = n.at("entity").get<std::string>();
      np.multiplier = n.at("multiplier").get<double>();
      np.pattern = std::make_unique<RE2>(n.at("pattern").get<std::string>(), options);
      if (!np.pattern->ok() || np.pattern->NumberOfCapturingGroups() != 1) {
        errors->push_back({entities->name, "numbers " + std::to_string(i + 1),
                           np.pattern->ok() ? "a number pattern needs exactly one capture group"
                                            : "invalid RE2 pattern: " + np.pattern->error()});
        continue;
      }
      c->numbers_.push_back(std::move(np));
    }
    c->number_skip_suffixes_ = skip;
  } catch (const json::exception& e) {
    errors->push_back({entities->name, "", e.what()});
  }

  // --- intents and rules ---------------------------------------------------
  try {
    json doc = json::parse(intents->contents);
    std::map<std::string, std::vector<std::string>> groups;
    if (doc.contains("groups")) {
      for (auto& [g, members] : doc.at("groups").items())
        groups[g] = members.get<std::vector<std::string>>();
    }
    // Expands a name (concept, group, or @computed) into concept ids; computed
    // flags get negative ids.
    std::function<void(const std::string&, const std::string&, std::vector<int>*, int)> expand =
        [&](const std::string& name, const std::string& where, std::vector<int>* out, int depth) {
          static const std::map<std::string, int> kComputed = {
              {"@duration", kDuration}, {"@mileage", kMileage},
              {"@said_symptom", kSaidSymptom}, {"@denied_symptom", kDeniedSymptom},
              {"@elsewhere", kElsewhere}, {"@pain_elsewhere", kPainElsewhere}};
          auto comp = kComputed.find(name);
          if (comp != kComputed.end()) {
            out->push_back(comp->second);
            return;
          }
          auto cid = concept_ids.find(name);
          if (cid != concept_ids.end()) {
            out->push_back(cid->second);
            return;
          }
          auto g = groups.find(name);
          if (g != groups.end() && depth < 4) {
            for (const auto& m : g->second) expand(m, where, out, depth + 1);
            return;
          }
          errors->push_back({intents->name, where, "unknown concept or group \"" + name + "\""});
        };
    for (auto& [name, body] : doc.at("intents").items()) {
      Intent intent;
      intent.name = name;
      intent.examples = body.at("examples").get<std::vector<std::string>>();
      if (intent.examples.empty())
        errors->push_back({intents->name, "intent \"" + name + "\"", "has no examples"});
      const auto& rules = body.at("rules");
      for (size_t r = 0; r < rules.size(); ++r) {
        const auto& jr = rules[r];
        std::string where = "intent \"" + name + "\" rule " + std::to_string(r + 1);
        Rule rule;
        rule.score = jr.at("score").get<double>();
        if (!(rule.score > 0 && rule.score <= 1))
          errors->push_back({intents->name, where, "score must be in (0, 1]"});
        for (const auto& clause : jr.at("all")) {
          Condition cond;
          for (const auto& n : clause) expand(n.get<std::string>(), where, &cond.any, 0);
          rule.all.push_back(std::move(cond));
        }
        for (const auto& n : jr.at("none")) expand(n.get<std::string>(), where, &rule.none, 0);
        rule.max_tokens = jr.value("max_tokens", 0);
        rule.min_tokens = jr.value("min_tokens", 0);
        rule.max_foreign = jr.value("max_foreign", -1);
        rule.expecting = jr.value("expecting", std::string());
        if (rule.all.empty())
          errors->push_back({intents->name, where, "a rule needs at least one clause in \"all\""});
        intent.rules.push_back(std::move(rule));
      }
      c->intent_names_.push_back(name);
      c->intents_.push_back(std::move(intent));
    }
  } catch (const json::exception& e) {
    errors->push_back({intents->name, "", e.what()});
  }
  if (!c->has_intent(c->fallback_intent_))
    errors->push_back({intents->name, "intent \"out_of_scope\"", "the fallback intent is required"});
  if (errors->size() != before) return nullptr;
  return c;
}

bool Classifier::has_intent(std::string_view name) const {
  return std::find(intent_names_.begin(), intent_names_.end(), name) != intent_names_.end();
}

int Classifier::concept_id(std::string_view name) const {
  for (size_t i = 0; i < concepts_.size(); ++i)
    if (concepts_[i].name == name) return static_cast<int>(i);
  return -1;
}

const std::vector<std::string>& Classifier::examples(std::string_view intent) const {
  static const std::vector<std::string> kNone;
  for (const auto& i : intents_)
    if (i.name == intent) return i.examples;
  return kNone;
}

std::vector<std::string> Classifier::entity_values(std::string_view entity) const {
  std::vector<std::string> out;
  for (const auto& ev : entity_values_)
    if (ev.entity == entity) out.push_back(ev.value);
  return out;
}

std::vector<std::string> Classifier::fired_concepts(const Classification& c) const {
  std::vector<std::string> out;
  for (size_t i = 0; i < concepts_.size(); ++i) {
    if (!c.concepts.test(i)) continue;
    out.push_back(c.denied.test(i) ? concepts_[i].name + "(denied)" : concepts_[i].name);
  }
  return out;
}

// A concept counts as said when it fired and, if negatable, was not wholly
// inside negation or uncertainty scopes.
bool Classifier::fired(const Classification& c, int id) const {
  switch (id) {
    case kDuration: return c.entities.duration_days.has_value();
    case kMileage: return c.entities.mileage.has_value();
    case kSaidSymptom: return !c.entities.symptoms.empty();
    case kDeniedSymptom: return !c.entities.denied_symptoms.empty();
    // Words of another domain, or running topics runbot does not cover, when
    // nothing ties the message to the knee ("worse when I sit in the car" is
    // still about the knee).
    case kElsewhere:
      return !c.substantive && (c.concepts.test(other_domain_) || c.concepts.test(offtopic_running_));
    // Pain somewhere runbot does not cover, and not the knee.
    case kPainElsewhere:
      return !c.substantive && c.concepts.test(body_other_) && c.concepts.test(pain_);
    default: return c.concepts.test(id) && !c.denied.test(id);
  }
}

void Classifier::match_concepts(const std::string& text, Classification* c) const {
  c->concepts = ConceptSet(concepts_.size());
  c->denied = ConceptSet(concepts_.size());
  std::vector<int> atom_hits, pattern_hits;
  atoms_->Match(text, &atom_hits);
  filtered_->AllMatches(text, atom_hits, &pattern_hits);
  for (int h : pattern_hits) c->concepts.set(pattern_concept_[h]);
}

void Classifier::resolve_scopes(const std::string& text, Classification* c) const {
  const bool has_neg = c->concepts.test(negation_cue_);
  const bool has_unsure = c->concepts.test(uncertain_cue_);
  if (!has_neg && !has_unsure) return;

  // Scopes run from a cue to the next break, at most kScopeTokens tokens on.
  constexpr int kScopeTokens = 8;
  std::vector<Span> cues_neg, cues_unsure, breaks;
  auto spans_of = [&](int id, std::vector<Span>* out) {
    for (int p : concepts_[id].patterns) find_spans(pattern(p), text, out);
  };
  if (has_neg) spans_of(negation_cue_, &cues_neg);
  if (has_unsure) spans_of(uncertain_cue_, &cues_unsure);
  if (c->concepts.test(scope_break_)) spans_of(scope_break_, &breaks);

  // An uncertainty cue that also reads as negation ("not sure") is only
  // uncertainty.
  cues_neg.erase(std::remove_if(cues_neg.begin(), cues_neg.end(),
                                [&](const Span& n) {
                                  for (const auto& u : cues_unsure)
                                    if (n.begin >= u.begin && n.begin < u.end) return true;
                                  return false;
                                }),
                 cues_neg.end());

  auto scope_end = [&](const Span& cue) {
    size_t end = text.size();
    for (const auto& b : breaks)
      if (b.begin >= cue.end && b.begin < end) end = b.begin;
    // limit by token count
    int tokens = 0;
    for (size_t i = cue.end; i < end; ++i) {
      if (text[i] == ' ' && ++tokens > kScopeTokens) return i;
    }
    return end;
  };
  struct Scope { size_t begin, end; };
  std::vector<Scope> neg_scopes, unsure_scopes;
  for (const auto& s : cues_neg) neg_scopes.push_back({s.begin, scope_end(s)});
  for (const auto& s : cues_unsure) unsure_scopes.push_back({s.begin, scope_end(s)});

  std::vector<Span> spans;
  for (size_t id = 0; id < concepts_.size(); ++id) {
    if (!concepts_[id].negatable || !c->concepts.test(id)) continue;
    spans.clear();
    spans_of(static_cast<int>(id), &spans);
    bool any_plain = false, any_neg = false;
    for (const auto& sp : spans) {
      // The cue must come before the mention; a pattern that contains its
      // own "not" ("will not straighten") is a plain mention.
      bool in_neg = false, in_unsure = false;
      for (const auto& s : neg_scopes)
        if (sp.begin > s.begin && sp.begin < s.end && !(sp.begin <= s.begin)) in_neg = true;
      for (const auto& s : unsure_scopes)
        if (sp.begin > s.begin && sp.begin < s.end) in_unsure = true;
      if (in_neg) any_neg = true;
      else if (!in_unsure) any_plain = true;
    }
    if (!any_plain) {
      c->denied.set(id);
      if (any_neg) c->negated_ids.push_back(static_cast<int>(id));
    }
  }
}

void Classifier::extract_entities(const std::string& text, Classification* c) const {
  Entities& e = c->entities;
  for (const auto& ev : entity_values_) {
    if (!c->concepts.test(ev.concept_id)) continue;
    const bool denied = c->denied.test(ev.concept_id);
    const bool negated = denied && std::find(c->negated_ids.begin(), c->negated_ids.end(),
                                             ev.concept_id) != c->negated_ids.end();
    if (ev.entity == "symptom") {
      if (!denied) e.symptoms.push_back(ev.value);
      else if (negated) e.denied_symptoms.push_back(ev.value);
      else e.unsure_symptoms.push_back(ev.value);
      continue;
    }
    if (denied) continue;
    std::string_view* slot = nullptr;
    if (ev.entity == "condition") slot = &e.condition;
    else if (ev.entity == "treatment") slot = &e.treatment;
    else if (ev.entity == "exercise") slot = &e.exercise;
    else if (ev.entity == "shoe_topic") slot = &e.shoe_topic;
    else if (ev.entity == "onset") slot = &c->onset;
    else if (ev.entity == "location") slot = &c->location;
    if (slot == nullptr) continue;
    if (slot->empty()) {
      *slot = ev.value;
      continue;
    }
    // Two values of one entity: the one said last wins, since a long message
    // usually ends with its question ("...had them a year; what does the
    // wear on the soles mean?").
    std::vector<Span> mine, theirs;
    for (int p : concepts_[ev.concept_id].patterns) find_spans(pattern(p), text, &mine);
    for (const auto& other : entity_values_)
      if (other.entity == ev.entity && other.value == *slot)
        for (int p : concepts_[other.concept_id].patterns) find_spans(pattern(p), text, &theirs);
    auto last = [](const std::vector<Span>& v) {
      size_t m = 0;
      for (const auto& sp : v) m = std::max(m, sp.begin);
      return m;
    };
    if (last(mine) > last(theirs)) *slot = ev.value;
  }
  // Numbers: the largest duration said ("a week or two" -> 14) and the first
  // distance.
  for (const auto& np : numbers_) {
    re2::StringPiece input(text), whole, number;
    size_t pos = 0;
    while (pos < text.size()) {
      re2::StringPiece groups[2];
      if (!np.pattern->Match(input, pos, text.size(), RE2::UNANCHORED, groups, 2)) break;
      whole = groups[0];
      number = groups[1];
      pos = static_cast<size_t>(whole.data() - text.data()) + std::max<size_t>(whole.size(), 1);
      bool skip = false;
      for (const auto& suffix : number_skip_suffixes_) {
        if (whole.size() > suffix.size() &&
            whole.substr(whole.size() - suffix.size()) == suffix) skip = true;
      }
      if (skip || number.size() > 6) continue;
      int raw = std::stoi(std::string(number));
      int value = static_cast<int>(std::lround(raw * np.multiplier));
      // "more than 2 weeks" is past the two-week line: one day more.
      const size_t at = static_cast<size_t>(whole.data() - text.data());
      for (std::string_view before : {"more than ", "over ", "longer than ", "past "})
        if (np.entity == "duration_days" && at >= before.size() &&
            text.compare(at - before.size(), before.size(), before) == 0) {
          ++value;
          break;
        }
      if (np.entity == "duration_days") {
        if (!e.duration_days || value > *e.duration_days) e.duration_days = value;
      } else if (np.entity == "mileage") {
        if (!e.mileage) e.mileage = value;
      }
    }
  }
}

void Classifier::choose_intent(const std::string& text, const ClassifyContext& ctx,
                               Classification* c) const {
  const int tokens = count_tokens(text);
  const Intent* best = nullptr;
  double best_score = 0;
  for (const auto& intent : intents_) {
    for (const auto& rule : intent.rules) {
      if (rule.score <= best_score) continue;
      if (rule.max_tokens && tokens > rule.max_tokens) continue;
      if (rule.min_tokens && tokens < rule.min_tokens) continue;
      if (rule.max_foreign >= 0 && c->foreign_words > rule.max_foreign) continue;
      if (!rule.expecting.empty()) {
        if (ctx.expecting.empty()) continue;
        if (rule.expecting != "*" && rule.expecting != ctx.expecting) continue;
      }
      bool ok = true;
      for (const auto& cond : rule.all) {
        bool any = false;
        for (int id : cond.any) if (fired(*c, id)) { any = true; break; }
        if (!any) { ok = false; break; }
      }
      if (!ok) continue;
      for (int id : rule.none) if (fired(*c, id)) { ok = false; break; }
      if (!ok) continue;
      best = &intent;
      best_score = rule.score;
    }
  }
  if (best == nullptr) {
    c->intent = fallback_intent_;
    // Confidence that nothing in the domain was meant: lower when some
    // domain words were there.
    c->confidence = c->substantive ? 0.55 : 0.9;
    return;
  }
  c->intent = best->name;
  c->confidence = best_score;
}

Classification Classifier::classify(std::string_view raw, const ClassifyContext& ctx) const {
  Classification c;
  c.normalized = normalizer_->normalize(raw);
  const std::string& text = c.normalized;
  match_concepts(text, &c);
  resolve_scopes(text, &c);
  extract_entities(text, &c);

  // Words the vocabulary does not know: evidence of another domain that lets
  // short generic rules ("what causes X?") stay out of topics they can't see.
  for (size_t b = 0; b < text.size();) {
    size_t e = text.find(' ', b);
    if (e == std::string::npos) e = text.size();
    std::string_view w(text.data() + b, e - b);
    bool alpha = w.size() >= 4;
    for (char ch : w) alpha = alpha && ch >= 'a' && ch <= 'z';
    if (alpha && !normalizer_->is_known_word(w)) ++c.foreign_words;
    b = e + 1;
  }
  c.first_person = fired(c, first_person_);
  c.hypothetical = fired(c, hypothetical_);
  if (c.concepts.test(unsure_word_)) c.answer = Polarity::kUnsure;
  else if (c.concepts.test(no_word_)) c.answer = Polarity::kNo;
  else if (c.concepts.test(yes_word_)) c.answer = Polarity::kYes;
  for (int anchor : {knee_, back_of_knee_, calf_, hamstring_})
    if (c.concepts.test(anchor)) c.substantive = true;

  // A bare place answers "where exactly?" when that is what was asked.
  if (ctx.expecting == "location" && c.location.empty()) {
    if (c.concepts.test(calf_)) c.location = "upper_calf";
    else if (c.concepts.test(hamstring_)) c.location = "lower_hamstring";
    else if (c.concepts.test(back_of_knee_) || c.concepts.test(knee_)) c.location = "behind_knee";
  }
  choose_intent(text, ctx, &c);
  c.emergency = c.intent == "emergency";
  return c;
}

}  // namespace runbot
