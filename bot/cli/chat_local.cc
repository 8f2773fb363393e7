// runbot chat --local: the engine in this process, in the terminal.
// Line editing and history through libedit when stdin is a terminal; plain
// lines when piped, so scripts can drive it.
#include <unistd.h>

#include <iostream>
#include <string>

#include "bot/cli/chat_view.h"
#include "bot/cli/commands.h"
#include "bot/data_files.h"

namespace runbot {
namespace {

void print_debug(const HandleResult& r, const Engine& engine) {
  const Reply& reply = r.reply;
  std::cout << "  [debug] intent=" << reply.intent << " confidence=" << reply.confidence
            << " entities=" << reply.entities.dump() << " expecting=" << reply.expecting
            << " triage=" << triage_name(reply.triage) << "\n  [debug] normalized=\"" << r.classification.normalized
            << "\"\n  [debug] concepts:";
  for (const auto& c : engine.classifier().fired_concepts(r.classification)) std::cout << " " << c;
  std::cout << std::endl;
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
  ChatStyle style{tty && options.color};
  if (tty)
    std::cout << "runbot (local). Type a message; a number picks a suggested reply; /reset starts over, /quit leaves.\n";
  SessionState state;
  std::vector<std::string> last_quick_replies;
  while (true) {
    std::string line;
    InputKind input = read_input(tty, &line);
    if (input == InputKind::kQuit) break;
    if (input == InputKind::kHandled) continue;
    if (line == "/reset") line = "start over";
    if (line.empty()) continue;
    line = pick_quick_reply(line, last_quick_replies);
    if (!tty) std::cout << "you> " << line << "\n";
    HandleResult r = engine->handle(state, line);
    state = r.state;
    last_quick_replies = r.reply.quick_replies;
    print_reply(std::cout, to_json(r.reply), style);
    if (options.debug) print_debug(r, *engine);
  }
  return 0;
}

}  // namespace runbot
