// runbot eval FILE...: every line through the engine, figures at the end.
#include <fstream>
#include <iostream>

#include "bot/cli/commands.h"
#include "bot/data_files.h"
#include "bot/eval/evaluator.h"

namespace runbot {

int run_eval(const EvalOptions& options) {
  LoadErrors errors;
  auto engine = load_engine(options.data_root, &errors);
  if (!engine) {
    for (const auto& e : errors) std::cerr << e.to_string() << "\n";
    return 2;
  }
  EvalReport report;
  for (const auto& path : options.files) {
    std::ifstream in(path);
    if (!in) {
      std::cerr << path << ": cannot read file\n";
      return 2;
    }
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    std::string name = path.substr(path.find_last_of('/') + 1);
    evaluate_lines(*engine, name, lines, &report);
  }
  if (options.json) std::cout << report.to_json().dump(1) << "\n";
  else std::cout << report.to_text(options.show_failures);
  std::cout << report.summary_line() << std::endl;
  return report.bad_lines.empty() ? 0 : 1;
}

}  // namespace runbot
