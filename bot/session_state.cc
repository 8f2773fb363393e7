#include "bot/session_state.h"

#include <cstdint>
#include <limits>
#include <stdexcept>

namespace runbot {

using json = nlohmann::json;

json to_json(const SessionState& s) {
  const DialogState& d = s.dialog;
  json j = {{"v", SessionState::kVersion}, {"turns", s.turns}};
  json dj = json::object();
  if (d.active) dj["active"] = true;
  if (d.concluded) dj["concluded"] = true;
  if (!d.pending.empty()) dj["pending"] = d.pending;
  if (d.reprompts) dj["reprompts"] = d.reprompts;
  if (!d.slots.empty()) dj["slots"] = d.slots;
  if (!d.symptoms.empty()) dj["symptoms"] = d.symptoms;
  if (!d.flags_told.empty()) dj["flags"] = d.flags_told;
  if (d.triage != Triage::kNone) dj["triage"] = std::string(triage_name(d.triage));
  j["dialog"] = std::move(dj);
  return j;
}

namespace {

// A count stored as a JSON integer in [0, INT_MAX]. Anything else is corrupt:
// nlohmann's get<int>() on a float such as 1e300 is undefined behaviour
// (found by tests/fuzz/engine_fuzzer under UBSan), and a wider integer
// would wrap.
int read_count(const json& v) {
  if (!v.is_number_integer()) throw std::runtime_error("not an integer");
  const int64_t n = v.get<int64_t>();  // above INT64_MAX wraps negative: refused below
  if (n < 0 || n > std::numeric_limits<int>::max()) throw std::runtime_error("range");
  return static_cast<int>(n);
}

}  // namespace

SessionState session_state_from_json(const json& j, bool* ok) {
  SessionState s;
  try {
    if (!j.is_object() || read_count(j.at("v")) != SessionState::kVersion)
      throw std::runtime_error("version");
    s.turns = read_count(j.at("turns"));
    const json& dj = j.at("dialog");
    DialogState& d = s.dialog;
    d.active = dj.value("active", false);
    d.concluded = dj.value("concluded", false);
    d.pending = dj.value("pending", std::string());
    d.reprompts = dj.contains("reprompts") ? read_count(dj.at("reprompts")) : 0;
    if (dj.contains("slots")) d.slots = dj.at("slots").get<std::map<std::string, std::string>>();
    if (dj.contains("symptoms")) d.symptoms = dj.at("symptoms").get<std::vector<std::string>>();
    if (dj.contains("flags")) d.flags_told = dj.at("flags").get<std::vector<std::string>>();
    d.triage = triage_from_name(dj.value("triage", std::string()));
    // Slot values are numbers of days or short words; anything else is corrupt.
    for (const auto& [k, v] : d.slots)
      if (k.size() > 40 || v.size() > 40) throw std::runtime_error("slot");
    if (d.reprompts < 0 || d.reprompts > 10 || s.turns < 0) throw std::runtime_error("range");
    if (ok) *ok = true;
    return s;
  } catch (const std::exception&) {
    if (ok) *ok = false;
    return SessionState{};
  }
}

SessionState session_state_from_string(std::string_view text, bool* ok) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    if (ok) *ok = false;
    return SessionState{};
  }
  return session_state_from_json(j, ok);
}

}  // namespace runbot
