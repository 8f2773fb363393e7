// Data-integrity tests on the real files: every knowledge entry is reachable
// by a message, every intent has examples that classify as that intent.
#include "bot/knowledge_base.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "tests/test_support.h"

using namespace runbot;
using runbot::test::engine;

TEST_SUITE("knowledge") {
  TEST_CASE("every knowledge entry is reachable by its example messages") {
    // Examples live beside each entry in bot/knowledge/*.json.
    for (const auto& file : test::data_files()) {
      if (file.name.rfind("bot/knowledge/", 0) != 0) continue;
      auto doc = nlohmann::json::parse(file.contents);
      for (const auto& entry : doc.at("entries")) {
        const std::string id = entry.at("id");
        REQUIRE_MESSAGE(!entry.at("examples").empty(), id << " has no example message");
        for (const auto& ex : entry.at("examples")) {
          auto r = engine().handle(SessionState{}, ex.get<std::string>());
          bool reached = std::find(r.reply.sources.begin(), r.reply.sources.end(), id) != r.reply.sources.end();
          CHECK_MESSAGE(reached, id << " not reached by \"" << ex.get<std::string>() << "\" (intent "
                                    << r.reply.intent << ", sources " << nlohmann::json(r.reply.sources).dump() << ")");
        }
      }
    }
  }
  TEST_CASE("every article section has entries") {
    std::set<std::string> sections;
    for (const auto& e : engine().knowledge().entries()) sections.insert(e.id.substr(0, e.id.find('.')));
    for (const char* s : {"overview", "conditions", "biomechanics", "treatment", "exercises", "footwear", "warmup",
                          "doctor", "takeaways", "faq", "conclusion", "return"})
      CHECK_MESSAGE(sections.count(s), "no entries for section " << s);
  }
  TEST_CASE("the article's figures are kept") {
    auto text = [](const char* id) { return engine().knowledge().find(id)->text; };
    CHECK(text("treatment.ice").find("15") != std::string::npos);
    CHECK(text("treatment.ice").find("20") != std::string::npos);
    CHECK(text("footwear.replacement").find("300") != std::string::npos);
    CHECK(text("footwear.replacement").find("500") != std::string::npos);
    CHECK(text("exercises.hamstring_stretch").find("30 seconds") != std::string::npos);
    CHECK(text("exercises.quad_sets").find("5 seconds") != std::string::npos);
    CHECK(text("treatment.elevation").find("heart") != std::string::npos);
  }
  TEST_CASE("every intent has examples that classify as that intent") {
    const Classifier& c = engine().classifier();
    for (const auto& intent : c.intent_names()) {
      const auto& examples = c.examples(intent);
      CHECK_MESSAGE(!examples.empty(), intent << " has no examples");
      for (const auto& ex : examples)
        CHECK_MESSAGE(c.classify(ex, {}).intent == intent, "\"" << ex << "\" is not " << intent);
    }
  }
  TEST_CASE("every knowledge intent has a general answer") {
    for (const char* intent : {"ask_causes", "condition_info", "ask_biomechanics", "ask_treatment", "ask_exercises",
                               "ask_footwear", "ask_warmup_cooldown", "ask_see_doctor", "ask_prevention",
                               "ask_return_to_running"}) {
      bool general = false;
      for (const auto& e : engine().knowledge().entries())
        for (const auto& r : e.routes) general = general || (r.intent == intent && r.entity.empty() && r.cue < 0);
      CHECK_MESSAGE(general, intent << " has no general entry");
    }
  }
}
