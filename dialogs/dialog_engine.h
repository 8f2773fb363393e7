// DialogEngine: the triage flow of DESIGN.md, driven by dialogs/data/triage.json.
// step() takes the dialog state and one classified message and returns the
// next state and what to say. Pure: no clocks, I/O or randomness.
//
// Thread safety: immutable after load(); step() is const and reentrant.
//
// Example, written as a check:
//   auto [state, turn] = dialog.step({}, classifier.classify("back of my knee hurts", {}), nullptr);
//   CHECK(state.active);
//   CHECK(turn.expecting == "swelling");
#ifndef RUNBOT_DIALOGS_DIALOG_ENGINE_H_
#define RUNBOT_DIALOGS_DIALOG_ENGINE_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "intents/classifier.h"
#include "intents/data_file.h"

namespace runbot {

// Triage levels, least to most urgent. kNone serialises as null.
enum class Triage { kNone = 0, kSelfCare = 1, kSeeDoctor = 2, kEmergency = 3 };
std::string_view triage_name(Triage t);           // "" for kNone
Triage triage_from_name(std::string_view name);   // kNone for unknown

// Everything the dialog remembers between messages. Small, copyable and
// round-trips through JSON (see bot/session_state.h).
struct DialogState {
  bool active = false;        // a triage is being asked
  bool concluded = false;     // a conclusion was given
  std::string pending;        // slot of the question just asked, or ""
  int reprompts = 0;          // unclear answers to the pending question
  std::map<std::string, std::string> slots;  // name -> yes|no|unknown|days|value
  std::vector<std::string> symptoms;         // said: swelling, locking, ...
  std::vector<std::string> flags_told;       // red flags already announced
  Triage triage = Triage::kNone;             // never lowered until restart

  bool operator==(const DialogState&) const = default;
};

// An answer from the knowledge base, passed in by the engine.
struct KnowledgeAnswer {
  std::string_view text;
  std::vector<std::string> sources;
};

// What the bot says this turn.
struct Turn {
  std::string text;
  std::string expecting;                 // "" when nothing was asked
  std::vector<std::string> quick_replies;
  std::vector<std::string> sources;
  Triage triage = Triage::kNone;
};

class DialogEngine {
 public:
  // Resolves a knowledge id to its text; nullptr when unknown.
  using KnowledgeLookup = std::function<const std::string*(std::string_view id)>;

  // Loads triage.json, checking slot kinds, symptoms and knowledge ids
  // against the classifier and the knowledge base. nullptr + errors on failure.
  static std::unique_ptr<DialogEngine> load(const DataFile& triage, const Classifier& classifier,
                                            const KnowledgeLookup& knowledge, LoadErrors* errors);

  // `answer` is the knowledge-base answer for knowledge intents, else nullptr.
  std::pair<DialogState, Turn> step(const DialogState& state, const Classification& c,
                                    const KnowledgeAnswer* answer) const;

  // Slot names in asking order.
  std::vector<std::string> slot_names() const;
  // The suggested answers shown with a slot's question.
  std::vector<std::string> quick_replies_of(std::string_view slot_name) const;
  const std::vector<std::string>& default_quick_replies() const { return default_quick_replies_; }

 private:
  enum class Kind { kYesNo, kDays, kChoice };
  struct Slot {
    std::string name;
    Kind kind = Kind::kYesNo;
    std::vector<std::string> symptoms;   // yes_no: symptoms that answer it
    std::vector<std::string> values;     // choice
    std::string ask_if_slot, ask_if_value;
    std::string question, reprompt, why;
    std::vector<std::string> quick_replies;
  };
  struct Fact {   // "slot:x=y", "symptom:x", "onset:x", "location:x"
    std::string kind, name, value;
  };
  struct RedFlag {
    std::string id, says;
    std::vector<std::string> unless;   // ids of more specific flags that replace this one
    int duration_over = -1;
    std::vector<Fact> all;
  };
  struct Because {
    std::vector<Fact> all;
    std::string reason;
  };
  struct Cause {
    std::string condition, source, name;
    std::vector<Because> because;
  };

  DialogEngine() = default;
  bool holds(const DialogState& s, const Fact& f) const;
  const Slot* slot(std::string_view name) const;
  const Slot* next_slot(const DialogState& s) const;
  std::vector<const RedFlag*> red_flags(const DialogState& s) const;
  void apply_facts(const Classification& c, DialogState* s, bool* filled_pending,
                   bool* filled_any) const;
  std::string conclusion(DialogState* s, Turn* turn) const;
  std::string text(const std::string& key) const;

  std::vector<Slot> slots_;
  std::vector<RedFlag> red_flags_;
  std::vector<Cause> causes_;
  std::map<std::string, std::string> texts_;
  std::vector<std::string> default_quick_replies_, after_conclusion_replies_;
  std::map<std::string, std::vector<std::string>> sources_;
  std::string self_care_plan_;   // text of the self_care source entry
  std::vector<std::string> start_intents_, answer_intents_, first_person_fact_intents_;
};

}  // namespace runbot

#endif  // RUNBOT_DIALOGS_DIALOG_ENGINE_H_
