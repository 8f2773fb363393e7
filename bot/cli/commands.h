// Subcommands of the `runbot` executable. Each returns the process exit code:
// 0 success, 1 failure of the command's own check, 2 bad data or usage.
#ifndef RUNBOT_BOT_CLI_COMMANDS_H_
#define RUNBOT_BOT_CLI_COMMANDS_H_

#include <string>
#include <vector>

namespace runbot {

struct ChatOptions {
  std::string data_root;
  std::string url = "ws://127.0.0.1:8080/chat";  // server for the network client
  bool local = false;
  bool debug = false;
  bool color = true;   // only used on a terminal
};
int run_chat_local(const ChatOptions& options);
int run_chat_remote(const ChatOptions& options);

struct EvalOptions {
  std::string data_root;
  std::vector<std::string> files;
  size_t show_failures = 20;
  bool json = false;
};
int run_eval(const EvalOptions& options);

}  // namespace runbot

#endif  // RUNBOT_BOT_CLI_COMMANDS_H_
