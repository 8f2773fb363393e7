// Shared helpers for the tests: the engine built from the real data files.
#ifndef RUNBOT_TESTS_TEST_SUPPORT_H_
#define RUNBOT_TESTS_TEST_SUPPORT_H_

#include <string>
#include <vector>

#include "bot/engine.h"

namespace runbot::test {

// The engine loaded once from the source tree's data files.
const Engine& engine();
// The source tree's data files (for tests that break one on purpose).
std::vector<DataFile> data_files();
// Lines of a file under the source tree (tests/eval/...).
std::vector<std::string> read_lines(const std::string& relative_path);
// Runs a whole conversation, returning each reply.
std::vector<Reply> converse(const std::vector<std::string>& messages, SessionState* state = nullptr);

}  // namespace runbot::test

#endif  // RUNBOT_TESTS_TEST_SUPPORT_H_
