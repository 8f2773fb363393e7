// How a reply looks in the terminal: triage banner, text, numbered quick
// replies, source tags. Shared by the local and the network chat so both
// show the same thing. Colours only on a terminal.
#ifndef RUNBOT_BOT_CLI_CHAT_VIEW_H_
#define RUNBOT_BOT_CLI_CHAT_VIEW_H_

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace runbot {

struct ChatStyle {
  bool color = false;
};

// Prints a protocol `reply` object (spec/protocol.md).
void print_reply(std::ostream& out, const nlohmann::json& reply, const ChatStyle& style);
// Prints a protocol `error` object.
void print_error(std::ostream& out, const nlohmann::json& error, const ChatStyle& style);
// "treatment.ice" -> "Treatment": a readable tag from a knowledge id.
std::string source_label(const std::string& id);
// What the user typed, as the chat loops see it.
enum class InputKind { kLine, kQuit, kHandled };
// Reads one line: libedit with history on a terminal, plain getline when
// piped. /quit, /exit and end of input give kQuit; /help is answered here
// (kHandled); anything else is kLine with the text in *line.
InputKind read_input(bool tty, std::string* line);

// The quick reply a typed number picks ("2" -> second), or the line itself.
std::string pick_quick_reply(const std::string& line, const std::vector<std::string>& quick_replies);

}  // namespace runbot

#endif  // RUNBOT_BOT_CLI_CHAT_VIEW_H_
