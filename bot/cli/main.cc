// runbot: one executable, subcommands in the manner of git or rasa.
#include <CLI/CLI.hpp>
#include <iostream>

#include "bot/cli/commands.h"
#include "bot/data_files.h"

int main(int argc, char** argv) {
  using namespace runbot;
  CLI::App app{"runbot: a chat assistant for runners with pain at the back of the knee"};
  app.require_subcommand(1);
  std::string data_root = default_data_root();
  app.add_option("--data", data_root,
                 "Folder holding intents/, dialogs/ and bot/knowledge/ (env RUNBOT_DATA)")
      ->envname("RUNBOT_DATA");

  ChatOptions chat;
  auto* chat_cmd = app.add_subcommand("chat", "Chat in the terminal");
  chat_cmd->add_flag("--local", chat.local, "Run the engine in this process (no server)");
  chat_cmd->add_flag("--debug", chat.debug, "Show intent, confidence, entities and the concepts that fired");
  bool no_color = false;
  chat_cmd->add_flag("--no-color", no_color, "Plain text even on a terminal");

  EvalOptions eval;
  auto* eval_cmd = app.add_subcommand("eval", "Run evaluation sets (JSON Lines) through the engine");
  eval_cmd->add_option("files", eval.files, "Evaluation files (single messages and/or conversations)")
      ->required()
      ->check(CLI::ExistingFile);
  eval_cmd->add_option("--show-failures", eval.show_failures, "How many failures to list")
      ->capture_default_str();
  eval_cmd->add_flag("--json", eval.json, "Print a JSON report before the EVAL line");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (*chat_cmd) {
    chat.data_root = data_root;
    chat.color = !no_color;
    if (!chat.local) {
      std::cerr << "runbot chat: the network client comes with the server; use --local for now\n";
      return 2;
    }
    return run_chat_local(chat);
  }
  if (*eval_cmd) {
    eval.data_root = data_root;
    return run_eval(eval);
  }
  return 2;
}
