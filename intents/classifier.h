// Classifier: turns one user message into an intent, entities and the facts
// the triage dialog needs (symptoms said or denied, onset, location, a yes/no
// answer). All domain knowledge comes from the JSON files in intents/data/;
// this code only knows how to combine concepts.
//
// How a message is read (see DESIGN.md):
//   1. Normalizer: case, apostrophes, contractions, spelling variants, typos
//      of domain words, number words to digits.
//   2. Concept patterns matched in one pass of an RE2::Set over the literal
//      atoms they require, then only the candidate patterns run (RE2's
//      FilteredRE2); see the note at filtered_ for why not one big Set.
//   3. Negation and uncertainty scopes ("no swelling", "not sure if it locks")
//      decide whether a symptom-like concept is said, denied or unsure.
//   4. Intent rules (data) are scored; the dialog context acts as a prior.
//
// Thread safety: a loaded Classifier is immutable; classify() is const and
// safe to call from any number of threads at once.
//
// Example, written as a check:
//   auto c = classifier->classify("no swelling, but it locks", {});
//   CHECK(c.has_symptom("locking"));
//   CHECK(!c.has_symptom("swelling"));
#ifndef RUNBOT_INTENTS_CLASSIFIER_H_
#define RUNBOT_INTENTS_CLASSIFIER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <re2/re2.h>
#include <re2/filtered_re2.h>
#include <re2/set.h>

#include "intents/data_file.h"
#include "intents/normalizer.h"


namespace runbot {

// A set of concept ids, one bit each.
class ConceptSet {
 public:
  explicit ConceptSet(size_t n = 0) : bits_((n + 63) / 64, 0) {}
  void set(size_t i) { bits_[i / 64] |= uint64_t{1} << (i % 64); }
  bool test(size_t i) const { return (bits_[i / 64] >> (i % 64)) & 1; }
  bool any() const {
    for (uint64_t w : bits_) if (w) return true;
    return false;
  }
 private:
  std::vector<uint64_t> bits_;
};

// What a message says about one yes/no question.
enum class Polarity { kNone, kYes, kNo, kUnsure };

// Entities of spec/intents.md. Names point into the Classifier's own storage
// and stay valid as long as the Classifier lives.
struct Entities {
  std::string_view condition;
  std::string_view treatment;
  std::string_view exercise;
  std::string_view shoe_topic;
  std::vector<std::string_view> symptoms;          // said, catalog order
  std::vector<std::string_view> denied_symptoms;   // "no swelling"
  std::vector<std::string_view> unsure_symptoms;   // "not sure if it's swollen"
  std::optional<int> duration_days;
  std::optional<int> mileage;                      // miles
};

struct Classification {
  std::string_view intent;          // always a known intent name
  double confidence = 0;            // 0..1
  Entities entities;
  std::string_view onset;           // "", gradual, twist, hyperextension, blow
  std::string_view location;        // "", behind_knee, upper_calf, lower_hamstring
  Polarity answer = Polarity::kNone;  // a bare yes / no / don't-know word
  bool emergency = false;           // an emergency sign is described
  bool first_person = false;        // talks about their own knee ("my", "I", "it")
  bool hypothetical = false;        // "if I ever got tingling..."
  bool substantive = false;         // has domain content beyond yes/no words
  int foreign_words = 0;            // words of 4+ letters no concept knows
  ConceptSet concepts;              // every concept that fired, said or not
  ConceptSet denied;                // concepts only inside negation/uncertainty scopes
  std::vector<int> negated_ids;     // of those, the ones a negation (not doubt) covers
  std::string normalized;           // the normalised text (for --debug)

  bool has_symptom(std::string_view s) const;
  bool denies_symptom(std::string_view s) const;
};

// What the dialog currently waits for; a prior for short answers.
struct ClassifyContext {
  std::string_view expecting;  // slot name of the pending question, or ""
};

class Classifier {
 public:
  // Loads concepts.json, entities.json, intents.json and vocabulary.json
  // (matched by file name ending). On success returns the classifier and
  // leaves `errors` untouched; on any problem returns nullptr and appends
  // one LoadError per problem (all problems, not only the first).
  static std::unique_ptr<Classifier> load(const std::vector<DataFile>& files,
                                          LoadErrors* errors);
  ~Classifier();
  Classifier(const Classifier&) = delete;
  Classifier& operator=(const Classifier&) = delete;

  // Never throws on user text; any byte string is accepted.
  Classification classify(std::string_view text,
                          const ClassifyContext& context) const;

  const Normalizer& normalizer() const { return *normalizer_; }
  const std::vector<std::string>& intent_names() const { return intent_names_; }
  bool has_intent(std::string_view name) const;
  // Concept id by name; -1 when unknown.
  int concept_id(std::string_view name) const;
  const std::string& concept_name(int id) const { return concepts_[id].name; }
  size_t concept_count() const { return concepts_.size(); }
  // Names of the concepts that fired (for --debug).
  std::vector<std::string> fired_concepts(const Classification& c) const;
  // Example sentences of an intent (from intents.json).
  const std::vector<std::string>& examples(std::string_view intent) const;
  // Values of an entity (condition, treatment, ...), catalog order.
  std::vector<std::string> entity_values(std::string_view entity) const;

 private:
  struct Concept {
    std::string name;
    std::vector<int> patterns;   // FilteredRE2 ids, also used to find spans
    bool negatable = false;
  };
  struct Condition {       // one clause of a rule: any of these concepts
    std::vector<int> any;
  };
  struct Rule {
    std::vector<Condition> all;   // each clause must hold
    std::vector<int> none;        // none of these may fire
    int max_tokens = 0;           // 0: no limit
    int min_tokens = 0;
    int max_foreign = -1;         // -1: no limit; else most words outside the vocabulary
    std::string expecting;        // rule holds only while this slot is asked ("*": any)
    double score = 0;
  };
  struct Intent {
    std::string name;
    std::vector<Rule> rules;
    std::vector<std::string> examples;
  };
  struct EntityValue {
    std::string entity;   // condition, treatment, ... symptom, onset, location
    std::string value;
    int concept_id = -1;
  };
  struct NumberPattern {
    std::string entity;   // duration_days or mileage
    std::unique_ptr<re2::RE2> pattern;  // one capture group: the number
    double multiplier = 1;
  };

  Classifier();
  void match_concepts(const std::string& text, Classification* c) const;
  const RE2& pattern(int filtered_id) const { return filtered_->GetRE2(filtered_id); }
  void resolve_scopes(const std::string& text, Classification* c) const;
  void extract_entities(const std::string& text, Classification* c) const;
  void choose_intent(const std::string& text, const ClassifyContext& ctx,
                     Classification* c) const;
  bool fired(const Classification& c, int id) const;

  std::unique_ptr<Normalizer> normalizer_;
  std::vector<Concept> concepts_;
  // Concept matching in two steps (RE2's FilteredRE2): an RE2::Set of the
  // literal atoms every pattern requires finds which atoms occur, then only
  // the patterns whose atoms are all there are run. One RE2::Set of all
  // ~1,300 patterns was fast on text it had seen but built new DFA states
  // for every new message (~900 us each); an atom set's DFA is little more
  // than a trie of words and stays warm (tests/bench/README.md).
  std::unique_ptr<re2::FilteredRE2> filtered_;
  std::unique_ptr<RE2::Set> atoms_;
  std::vector<int> pattern_concept_;       // FilteredRE2 id -> concept id
  std::vector<Intent> intents_;
  std::vector<std::string> intent_names_;
  std::vector<EntityValue> entity_values_;
  std::vector<NumberPattern> numbers_;
  std::vector<std::string> number_skip_suffixes_;
  // Computed rule terms ("@duration" ...) get ids below zero.
  static constexpr int kDuration = -1, kMileage = -2, kSaidSymptom = -3, kDeniedSymptom = -4,
                       kElsewhere = -5, kPainElsewhere = -6;
  int other_domain_ = -1, offtopic_running_ = -1, body_other_ = -1, pain_ = -1;
  int knee_ = -1, back_of_knee_ = -1, calf_ = -1, hamstring_ = -1;
  int negation_cue_ = -1, uncertain_cue_ = -1, scope_break_ = -1;
  int yes_word_ = -1, no_word_ = -1, unsure_word_ = -1;
  int first_person_ = -1, hypothetical_ = -1, emergency_ = -1;
  int substantive_ = -1;
  std::string fallback_intent_ = "out_of_scope";
};

}  // namespace runbot

#endif  // RUNBOT_INTENTS_CLASSIFIER_H_
