// Broken data files stop start-up with errors naming file, entry and reason.
#include <doctest/doctest.h>

#include <algorithm>

#include "bot/engine.h"
#include "tests/test_support.h"

using namespace runbot;

namespace {

// The real data with one file's contents changed by `edit`.
std::vector<DataFile> with_edit(const std::string& name, const std::string& from, const std::string& to) {
  auto files = test::data_files();
  auto it = std::find_if(files.begin(), files.end(), [&](const DataFile& f) { return f.name == name; });
  REQUIRE(it != files.end());
  size_t pos = it->contents.find(from);
  REQUIRE_MESSAGE(pos != std::string::npos, "fixture text not found in " << name);
  it->contents.replace(pos, from.size(), to);
  return files;
}

std::vector<std::string> load_errors(const std::vector<DataFile>& files) {
  LoadErrors errors;
  auto engine = Engine::load(files, &errors);
  CHECK(engine == nullptr);
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.to_string());
  return out;
}

bool has(const std::vector<std::string>& errors, const std::string& text) {
  return std::find(errors.begin(), errors.end(), text) != errors.end();
}

}  // namespace

TEST_SUITE("loader") {
  TEST_CASE("the real data loads without errors") {
    LoadErrors errors;
    CHECK(Engine::load(test::data_files(), &errors) != nullptr);
    CHECK(errors.empty());
  }
  TEST_CASE("a broken JSON file is named") {
    auto files = test::data_files();
    for (auto& f : files)
      if (f.name == "bot/knowledge/treatment.json") f.contents = "{ \"version\": 1, \"entries\": [";
    auto errors = load_errors(files);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].rfind("bot/knowledge/treatment.json: [json.exception.parse_error.101]", 0) == 0);
  }
  TEST_CASE("an invalid RE2 pattern is named with concept and pattern number") {
    auto errors = load_errors(with_edit("intents/data/concepts.json", "\"kneecaps?\"", "\"knee(caps?\""));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0] == "intents/data/concepts.json: concept \"knee\" pattern 2: invalid RE2 pattern: "
                       "missing ): knee(caps?");
  }
  TEST_CASE("an unknown intent name in the dialog is named") {
    auto errors = load_errors(with_edit("dialogs/data/triage.json", "\"start\": [\n   \"symptom_report\"",
                                        "\"start\": [\n   \"symptom_reports\""));
    CHECK(has(errors, "dialogs/data/triage.json: intents: unknown intent \"symptom_reports\""));
  }
  TEST_CASE("an unknown knowledge id in the dialog is named") {
    auto errors = load_errors(with_edit("dialogs/data/triage.json", "\"source\": \"conditions.bakers_cyst\"",
                                        "\"source\": \"conditions.bakers_cist\""));
    CHECK(has(errors, "dialogs/data/triage.json: likely_cause \"bakers_cyst\": unknown knowledge id \"conditions.bakers_cist\""));
  }
  TEST_CASE("an empty quick reply is named") {
    auto errors = load_errors(with_edit("dialogs/data/triage.json", "\"A little\"", "\"\""));
    CHECK(has(errors, "dialogs/data/triage.json: slot \"swelling\": quick_reply 2 is empty"));
  }
  TEST_CASE("an intent rule naming an unknown concept is named") {
    auto errors = load_errors(with_edit("intents/data/intents.json", "\"greet_only\"", "\"greet_onlyy\""));
    CHECK(has(errors, "intents/data/intents.json: intent \"greet\" rule 1: unknown concept or group \"greet_onlyy\""));
  }
  TEST_CASE("a knowledge route with an unknown intent or cue is named") {
    auto errors = load_errors(with_edit("bot/knowledge/return.json", "\"intent\": \"ask_return_to_running\"",
                                        "\"intent\": \"ask_return\""));
    CHECK(has(errors, "bot/knowledge/return.json: entry \"return.overview\": unknown intent \"ask_return\""));
  }
  TEST_CASE("a missing file is named") {
    auto files = test::data_files();
    files.erase(std::remove_if(files.begin(), files.end(),
                               [](const DataFile& f) { return f.name == "intents/data/entities.json"; }),
                files.end());
    auto errors = load_errors(files);
    CHECK(has(errors, "entities.json: required data file is missing"));
  }
  TEST_CASE("all problems are reported, not only the first") {
    auto files = with_edit("dialogs/data/triage.json", "\"A little\"", "\"\"");
    for (auto& f : files)
      if (f.name == "dialogs/data/triage.json") {
        auto pos = f.contents.find("\"Not sure\"");
        f.contents.replace(pos, 10, "\"\"");
      }
    CHECK(load_errors(files).size() >= 2);
  }
}
