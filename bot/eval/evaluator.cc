#include "bot/eval/evaluator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace runbot {
namespace {

using json = nlohmann::json;

int level(const json& triage) {
  if (!triage.is_string()) return 0;
  return static_cast<int>(triage_from_name(triage.get<std::string>()));
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Checks expected entities against the reply's; "" when they hold.
std::string check_entities(const json& expected, const json& got) {
  std::string problems;
  for (auto& [key, want] : expected.items()) {
    if (!got.contains(key)) {
      problems += key + " missing; ";
      continue;
    }
    const json& have = got.at(key);
    bool ok;
    if (key == "symptom") {
      ok = have.is_array();
      for (const auto& s : want) ok = ok && std::find(have.begin(), have.end(), s) != have.end();
    } else if (want.is_number()) {
      ok = have.is_number() && std::abs(have.get<double>() - want.get<double>()) <= 1.0;
    } else {
      ok = have == want;
    }
    if (!ok) problems += key + " " + have.dump() + " != " + want.dump() + "; ";
  }
  return problems;
}

// Checks one conversation turn's expectations; "" when all hold.
std::string check_turn(const json& expect, const json& reply) {
  std::string p;
  if (expect.contains("intent") && reply["intent"] != expect["intent"])
    p += "intent " + reply["intent"].dump() + " != " + expect["intent"].dump() + "; ";
  if (expect.contains("entities")) p += check_entities(expect["entities"], reply["entities"]);
  if (expect.contains("triage") && reply["triage"] != expect["triage"])
    p += "triage " + reply["triage"].dump() + " != " + expect["triage"].dump() + "; ";
  if (expect.contains("triage_at_least") && level(reply["triage"]) < level(expect["triage_at_least"]))
    p += "triage " + reply["triage"].dump() + " below " + expect["triage_at_least"].dump() + "; ";
  if (expect.contains("expecting") && reply["expecting"] != expect["expecting"])
    p += "expecting " + reply["expecting"].dump() + " != " + expect["expecting"].dump() + "; ";
  if (expect.contains("expecting_any")) {
    const auto& any = expect["expecting_any"];
    if (std::find(any.begin(), any.end(), reply["expecting"]) == any.end())
      p += "expecting " + reply["expecting"].dump() + " not in " + any.dump() + "; ";
  }
  if (expect.contains("not_expecting")) {
    const auto& none = expect["not_expecting"];
    if (std::find(none.begin(), none.end(), reply["expecting"]) != none.end())
      p += "asked " + reply["expecting"].dump() + " again; ";
  }
  const std::string text = lower(reply["text"].get<std::string>());
  if (expect.contains("mentions_any")) {
    bool any = false;
    for (const auto& m : expect["mentions_any"]) any = any || text.find(lower(m.get<std::string>())) != std::string::npos;
    if (!any) p += "text mentions none of " + expect["mentions_any"].dump() + "; ";
  }
  if (expect.contains("mentions_none")) {
    for (const auto& m : expect["mentions_none"])
      if (text.find(lower(m.get<std::string>())) != std::string::npos) p += "text mentions " + m.dump() + "; ";
  }
  return p;
}

std::string fixed3(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

double ratio(int num, int den) { return den == 0 ? 1.0 : static_cast<double>(num) / den; }

}  // namespace

double EvalReport::intent_acc() const { return ratio(intent_ok, n_lines); }
double EvalReport::entity_acc() const { return ratio(entity_ok, entity_lines); }
double EvalReport::redflag_recall() const { return ratio(redflag_ok, redflag_total); }
double EvalReport::emergency_recall() const { return ratio(emergency_ok, emergency_total); }
double EvalReport::false_alarm() const {
  return no_triage_lines == 0 ? 0.0 : static_cast<double>(false_alarms) / no_triage_lines;
}
double EvalReport::conv_pass() const { return ratio(conv_ok, n_convs); }
double EvalReport::turn_pass() const { return ratio(turn_ok, n_turns); }

double EvalReport::oos_f1() const {
  int tp = 0, fp = 0, fn = 0;
  for (const auto& [expected, row] : confusion) {
    for (const auto& [got, n] : row) {
      if (expected == "out_of_scope" && got == "out_of_scope") tp += n;
      else if (got == "out_of_scope") fp += n;
      else if (expected == "out_of_scope") fn += n;
    }
  }
  if (tp == 0) return (fp == 0 && fn == 0) ? 1.0 : 0.0;
  double precision = static_cast<double>(tp) / (tp + fp), recall = static_cast<double>(tp) / (tp + fn);
  return 2 * precision * recall / (precision + recall);
}

std::string EvalReport::summary_line() const {
  return "EVAL intent_acc=" + fixed3(intent_acc()) + " entity_acc=" + fixed3(entity_acc()) +
         " redflag_recall=" + fixed3(redflag_recall()) + " emergency_recall=" + fixed3(emergency_recall()) +
         " oos_f1=" + fixed3(oos_f1()) + " false_alarm=" + fixed3(false_alarm()) +
         " conv_pass=" + fixed3(conv_pass()) + " turn_pass=" + fixed3(turn_pass()) +
         " n_lines=" + std::to_string(n_lines) + " n_convs=" + std::to_string(n_convs);
}

std::string EvalReport::to_text(size_t show_failures) const {
  std::ostringstream out;
  if (n_lines > 0) {
    out << "Per intent (single messages)\n";
    char buf[160];
    std::snprintf(buf, sizeof buf, "  %-24s %6s %6s %6s %6s\n", "intent", "n", "prec", "recall", "f1");
    out << buf;
    std::map<std::string, int> predicted;
    for (const auto& [e, row] : confusion)
      for (const auto& [g, n] : row) predicted[g] += n;
    for (const auto& [e, row] : confusion) {
      int total = 0, ok = 0;
      for (const auto& [g, n] : row) total += n, ok += g == e ? n : 0;
      double p = predicted[e] ? static_cast<double>(ok) / predicted[e] : 0;
      double r = total ? static_cast<double>(ok) / total : 0;
      double f = p + r > 0 ? 2 * p * r / (p + r) : 0;
      std::snprintf(buf, sizeof buf, "  %-24s %6d %6.3f %6.3f %6.3f\n", e.c_str(), total, p, r, f);
      out << buf;
    }
    std::vector<std::pair<int, std::string>> confusions;
    for (const auto& [e, row] : confusion)
      for (const auto& [g, n] : row)
        if (g != e) confusions.push_back({n, e + " -> " + g});
    std::sort(confusions.rbegin(), confusions.rend());
    if (!confusions.empty()) {
      out << "Top confusions (expected -> got)\n";
      for (size_t i = 0; i < confusions.size() && i < 10; ++i)
        out << "  " << confusions[i].first << "  " << confusions[i].second << "\n";
    }
    out << "Entities: " << entity_ok << "/" << entity_lines << " lines correct\n";
  }
  if (n_convs > 0)
    out << "Conversations: " << conv_ok << "/" << n_convs << " passed, turns " << turn_ok << "/" << n_turns << "\n";
  out << "Red flags met: " << redflag_ok << "/" << redflag_total << ", emergencies met: " << emergency_ok << "/"
      << emergency_total << ", false emergencies: " << false_alarms << "/" << no_triage_lines << "\n";
  for (const auto& b : bad_lines) out << "bad line: " << b << "\n";
  if (!failures.empty()) {
    out << "Failures (" << failures.size() << ")";
    if (failures.size() > show_failures) out << ", first " << show_failures;
    out << "\n";
    for (size_t i = 0; i < failures.size() && i < show_failures; ++i)
      out << "  " << failures[i].where << ": \"" << failures[i].text << "\" -- " << failures[i].problem << "\n";
  }
  return out.str();
}

json EvalReport::to_json() const {
  json per_intent = json::object();
  for (const auto& [e, row] : confusion) per_intent[e] = row;
  json fails = json::array();
  for (const auto& f : failures) fails.push_back({{"where", f.where}, {"text", f.text}, {"problem", f.problem}});
  return {{"intent_acc", intent_acc()}, {"entity_acc", entity_acc()}, {"redflag_recall", redflag_recall()},
          {"emergency_recall", emergency_recall()}, {"oos_f1", oos_f1()}, {"false_alarm", false_alarm()},
          {"conv_pass", conv_pass()}, {"turn_pass", turn_pass()}, {"n_lines", n_lines}, {"n_convs", n_convs},
          {"n_turns", n_turns}, {"confusion", per_intent}, {"failures", fails}, {"bad_lines", bad_lines}};
}

void evaluate_lines(const Engine& engine, const std::string& name, const std::vector<std::string>& lines,
                    EvalReport* report) {
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = name + ":" + std::to_string(i + 1);
    json line = json::parse(lines[i], nullptr, false);
    if (line.is_discarded() || !line.is_object() ||
        !((line.contains("text") && line.contains("intent")) || line.contains("turns"))) {
      report->bad_lines.push_back(where);
      continue;
    }
    if (line.contains("turns")) {
      ++report->n_convs;
      SessionState state;
      bool all_ok = true;
      const std::string conv = name + " \"" + line.value("name", std::to_string(i + 1)) + "\"";
      int t = 0;
      for (const auto& turn : line["turns"]) {
        ++t;
        ++report->n_turns;
        const std::string user = turn.value("user", "");
        HandleResult r = engine.handle(state, user);
        state = r.state;
        json reply = to_json(r.reply);
        const json& expect = turn.value("expect", json::object());
        std::string problem = check_turn(expect, reply);
        if (expect.contains("triage_at_least")) {
          int want = level(expect["triage_at_least"]);
          bool met = level(reply["triage"]) >= want;
          ++report->redflag_total;
          report->redflag_ok += met;
          if (want == static_cast<int>(Triage::kEmergency)) {
            ++report->emergency_total;
            report->emergency_ok += met;
          }
        }
        if (problem.empty()) {
          ++report->turn_ok;
        } else {
          all_ok = false;
          report->failures.push_back({conv + " turn " + std::to_string(t), user, problem});
        }
      }
      report->conv_ok += all_ok;
      continue;
    }
    ++report->n_lines;
    const std::string text = line["text"].get<std::string>();
    const std::string want = line["intent"].get<std::string>();
    HandleResult r = engine.handle(SessionState{}, text);
    json reply = to_json(r.reply);
    std::string problem;
    report->confusion[want][r.reply.intent]++;
    if (r.reply.intent == want) ++report->intent_ok;
    else problem += "intent " + r.reply.intent + " != " + want + "; ";
    if (line.contains("entities")) {
      ++report->entity_lines;
      std::string ep = check_entities(line["entities"], reply["entities"]);
      if (ep.empty()) ++report->entity_ok;
      problem += ep;
    }
    if (line.contains("triage_at_least")) {
      int need = level(line["triage_at_least"]);
      bool met = level(reply["triage"]) >= need;
      ++report->redflag_total;
      report->redflag_ok += met;
      if (need == static_cast<int>(Triage::kEmergency)) {
        ++report->emergency_total;
        report->emergency_ok += met;
      }
      if (!met) problem += "triage " + reply["triage"].dump() + " below " + line["triage_at_least"].dump() + "; ";
    } else {
      ++report->no_triage_lines;
      if (r.reply.triage == Triage::kEmergency) {
        ++report->false_alarms;
        problem += "false emergency; ";
      }
    }
    if (!problem.empty()) report->failures.push_back({where, text, problem});
  }
}

}  // namespace runbot
