// Evaluator: runs evaluation sets (spec/eval-format.md) through the engine
// and computes the figures `runbot eval` prints. Pure: the caller reads the
// files and passes their lines.
#ifndef RUNBOT_BOT_EVAL_EVALUATOR_H_
#define RUNBOT_BOT_EVAL_EVALUATOR_H_

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bot/engine.h"

namespace runbot {

struct EvalFailure {
  std::string where;     // "dev_nlu.jsonl:12" or "conv \"name\" turn 3"
  std::string text;      // the user's message
  std::string problem;   // what did not hold
};

struct EvalReport {
  // NLU lines
  int n_lines = 0, intent_ok = 0;
  int entity_lines = 0, entity_ok = 0;
  int no_triage_lines = 0, false_alarms = 0;
  // lines and turns with triage_at_least
  int redflag_total = 0, redflag_ok = 0;
  int emergency_total = 0, emergency_ok = 0;
  // conversations
  int n_convs = 0, conv_ok = 0, n_turns = 0, turn_ok = 0;
  // per intent: expected -> predicted -> count
  std::map<std::string, std::map<std::string, int>> confusion;
  std::vector<EvalFailure> failures;
  std::vector<std::string> bad_lines;  // lines that are not valid eval JSON

  double intent_acc() const;
  double entity_acc() const;
  double redflag_recall() const;
  double emergency_recall() const;
  double oos_f1() const;
  double false_alarm() const;
  double conv_pass() const;
  double turn_pass() const;
  // The machine-readable last line:
  // EVAL intent_acc=... entity_acc=... ... n_lines=N n_convs=K
  std::string summary_line() const;
  std::string to_text(size_t show_failures) const;
  nlohmann::json to_json() const;
};

// Adds the results of one file's lines (NLU lines and conversations may be
// mixed; each line is recognised by its keys). `name` labels failures.
void evaluate_lines(const Engine& engine, const std::string& name,
                    const std::vector<std::string>& lines, EvalReport* report);

}  // namespace runbot

#endif  // RUNBOT_BOT_EVAL_EVALUATOR_H_
