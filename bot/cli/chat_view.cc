#include "bot/cli/chat_view.h"

#include <editline/readline.h>

#include <cctype>
#include <cstdlib>
#include <iostream>

namespace runbot {
namespace {

struct Codes {
  bool on;
  const char* bold() const { return on ? "\033[1m" : ""; }
  const char* dim() const { return on ? "\033[2m" : ""; }
  const char* red() const { return on ? "\033[1;37;41m" : ""; }
  const char* amber() const { return on ? "\033[1;30;43m" : ""; }
  const char* green() const { return on ? "\033[32m" : ""; }
  const char* reset() const { return on ? "\033[0m" : ""; }
};

std::string str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string source_label(const std::string& id) {
  // Section ids of bot/knowledge/, as people would name them.
  static const std::pair<const char*, const char*> kNames[] = {
      {"overview", "Overview"}, {"conditions", "Common causes"}, {"faq", "FAQ"},
      {"biomechanics", "Running form"}, {"treatment", "Treatment"}, {"exercises", "Exercises"},
      {"footwear", "Footwear"}, {"warmup", "Warm-up and cool-down"}, {"doctor", "When to see a doctor"},
      {"takeaways", "Key takeaways"}, {"conclusion", "Final thoughts"}, {"return", "Returning to running"},
      {"self_care", "Self-care plan"}};
  std::string section = id.substr(0, id.find('.'));
  for (const auto& [key, name] : kNames)
    if (section == key) return name;
  for (char& c : section)
    if (c == '_') c = ' ';
  if (!section.empty()) section[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(section[0])));
  return section;
}

InputKind read_input(bool tty, std::string* line) {
  if (tty) {
    char* raw = readline("you> ");
    if (raw == nullptr) return InputKind::kQuit;
    *line = raw;
    std::free(raw);
    if (!line->empty()) add_history(line->c_str());
  } else if (!std::getline(std::cin, *line)) {
    return InputKind::kQuit;
  }
  if (*line == "/quit" || *line == "/exit") return InputKind::kQuit;
  if (*line == "/help") {
    std::cout << "Commands: /reset starts over, /quit leaves. Type a number to pick a suggested reply.\n";
    return InputKind::kHandled;
  }
  return InputKind::kLine;
}

std::string pick_quick_reply(const std::string& line, const std::vector<std::string>& quick_replies) {
  if (line.empty() || line.size() > 2 || line.find_first_not_of("0123456789") != std::string::npos) return line;
  size_t n = std::stoul(line);
  return n >= 1 && n <= quick_replies.size() ? quick_replies[n - 1] : line;
}

void print_reply(std::ostream& out, const nlohmann::json& reply, const ChatStyle& style) {
  Codes c{style.color};
  const std::string triage = str(reply, "triage");
  if (triage == "emergency")
    out << c.red() << " URGENT: get medical care now " << c.reset() << "\n";
  else if (triage == "see_doctor")
    out << c.amber() << " See a doctor or physio soon " << c.reset() << "\n";
  out << c.green() << "runbot> " << c.reset() << str(reply, "text") << "\n";
  if (reply.contains("quick_replies") && reply["quick_replies"].is_array()) {
    size_t i = 0;
    for (const auto& q : reply["quick_replies"])
      if (q.is_string()) out << "  " << c.bold() << "[" << ++i << "]" << c.reset() << " " << q.get<std::string>() << "\n";
  }
  if (reply.contains("sources") && reply["sources"].is_array() && !reply["sources"].empty()) {
    out << c.dim() << "  From:";
    std::string last;
    for (const auto& s : reply["sources"]) {
      if (!s.is_string()) continue;
      std::string label = source_label(s.get<std::string>());
      if (label != last) out << " " << label;
      last = label;
    }
    out << c.reset() << "\n";
  }
  out.flush();
}

void print_error(std::ostream& out, const nlohmann::json& error, const ChatStyle& style) {
  Codes c{style.color};
  out << c.amber() << " " << str(error, "code") << " " << c.reset() << " " << str(error, "message") << "\n";
  out.flush();
}

}  // namespace runbot
