// runbot chat --local: the engine in this process, in the terminal.
// Line editing and history through libedit when stdin is a terminal; plain
// lines when piped, so scripts can drive it.
#include <editline/readline.h>
#include <unistd.h>

#include <iostream>
#include <string>

#include "bot/cli/commands.h"
#include "bot/data_files.h"

namespace runbot {
namespace {

struct Style {
  bool on;
  const char* bold() const { return on ? "\033[1m" : ""; }
  const char* dim() const { return on ? "\033[2m" : ""; }
  const char* red() const { return on ? "\033[1;37;41m" : ""; }
  const char* amber() const { return on ? "\033[1;30;43m" : ""; }
  const char* green() const { return on ? "\033[32m" : ""; }
  const char* reset() const { return on ? "\033[0m" : ""; }
};

void print_reply(const HandleResult& r, const Engine& engine, const Style& st, bool debug) {
  const Reply& reply = r.reply;
  if (reply.triage == Triage::kEmergency)
    std::cout << st.red() << " URGENT: seek care now " << st.reset() << "\n";
  else if (reply.triage == Triage::kSeeDoctor)
    std::cout << st.amber() << " See a doctor or physio soon " << st.reset() << "\n";
  std::cout << st.green() << "runbot> " << st.reset() << reply.text << "\n";
  for (size_t i = 0; i < reply.quick_replies.size(); ++i)
    std::cout << "  " << st.bold() << "[" << i + 1 << "]" << st.reset() << " " << reply.quick_replies[i] << "\n";
  if (!reply.sources.empty()) {
    std::cout << st.dim() << "  From:";
    for (const auto& s : reply.sources) {
      const KnowledgeEntry* e = engine.knowledge().find(s);
      std::string label = !e ? s : e->title == e->section_title ? e->title : e->section_title + " / " + e->title;
      std::cout << " " << label << ";";
    }
    std::cout << st.reset() << "\n";
  }
  if (debug) {
    std::cout << st.dim() << "  [debug] intent=" << reply.intent << " confidence=" << reply.confidence
              << " entities=" << reply.entities.dump() << " expecting=" << reply.expecting
              << " triage=" << triage_name(reply.triage) << "\n  [debug] normalized=\"" << r.classification.normalized
              << "\"\n  [debug] concepts:";
    for (const auto& c : engine.classifier().fired_concepts(r.classification)) std::cout << " " << c;
    std::cout << st.reset() << "\n";
  }
  std::cout << std::flush;
}

}  // namespace

int run_chat_local(const ChatOptions& options) {
  LoadErrors errors;
  auto engine = load_engine(options.data_root, &errors);
  if (!engine) {
    for (const auto& e : errors) std::cerr << e.to_string() << "\n";
    return 2;
  }
  const bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
  Style st{tty && options.color};
  if (tty)
    std::cout << st.bold() << "runbot" << st.reset()
              << " (local). Type a message; a number picks a suggested reply; /reset starts over, /quit leaves.\n";
  SessionState state;
  std::vector<std::string> last_quick_replies;
  while (true) {
    std::string line;
    if (tty) {
      char* raw = readline("you> ");
      if (raw == nullptr) break;
      line = raw;
      free(raw);
      if (!line.empty()) add_history(line.c_str());
    } else if (!std::getline(std::cin, line)) {
      break;
    }
    if (line == "/quit" || line == "/exit") break;
    if (line == "/help") {
      std::cout << "Commands: /reset starts over, /quit leaves. Type a number to pick a suggested reply.\n";
      continue;
    }
    if (line == "/reset") line = "start over";
    if (line.empty()) continue;
    // "2" picks the second suggested reply
    if (line.size() <= 2 && line.find_first_not_of("0123456789") == std::string::npos) {
      size_t n = std::stoul(line);
      if (n >= 1 && n <= last_quick_replies.size()) line = last_quick_replies[n - 1];
    }
    if (!tty) std::cout << "you> " << line << "\n";
    HandleResult r = engine->handle(state, line);
    state = r.state;
    last_quick_replies = r.reply.quick_replies;
    print_reply(r, *engine, st, options.debug);
  }
  return 0;
}

}  // namespace runbot
