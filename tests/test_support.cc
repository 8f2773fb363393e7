#include "tests/test_support.h"

#include <doctest/doctest.h>

#include <fstream>
#include <stdexcept>

#include "bot/data_files.h"

namespace runbot::test {

std::vector<DataFile> data_files() {
  LoadErrors errors;
  auto files = read_data_files(RUNBOT_SOURCE_DIR, &errors);
  if (!errors.empty()) throw std::runtime_error(errors.front().to_string());
  return files;
}

const Engine& engine() {
  static std::shared_ptr<const Engine> e = [] {
    LoadErrors errors;
    auto loaded = Engine::load(data_files(), &errors);
    if (!loaded) throw std::runtime_error(errors.empty() ? "load failed" : errors.front().to_string());
    return loaded;
  }();
  return *e;
}

std::vector<std::string> read_lines(const std::string& relative_path) {
  std::ifstream in(std::string(RUNBOT_SOURCE_DIR) + "/" + relative_path);
  if (!in) throw std::runtime_error("cannot read " + relative_path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<Reply> converse(const std::vector<std::string>& messages, SessionState* state) {
  SessionState local;
  SessionState& s = state ? *state : local;
  std::vector<Reply> replies;
  for (const auto& m : messages) {
    HandleResult r = engine().handle(s, m);
    s = r.state;
    replies.push_back(r.reply);
  }
  return replies;
}

}  // namespace runbot::test
