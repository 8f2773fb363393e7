#include "intents/normalizer.h"

#include <doctest/doctest.h>

#include "tests/test_support.h"

using runbot::test::engine;

namespace {
std::string norm(const char* s) { return engine().classifier().normalizer().normalize(s); }
}  // namespace

TEST_SUITE("normalizer") {
  TEST_CASE("case, punctuation and contractions are canonical") {
    CHECK(norm("It DOESN'T lock, honestly.") == "it does not lock , honestly .");
    CHECK(norm("I can't walk") == "i cannot walk");
    CHECK(norm("what's a baker's cyst?") == "what is a bakers cyst ?");
  }
  TEST_CASE("curly apostrophes and dashes read like plain ones") {
    CHECK(norm("it isn\xE2\x80\x99t swollen \xE2\x80\x94 really") == "it is not swollen - really");
  }
  TEST_CASE("number words become digits and 'a' before a unit becomes 1") {
    CHECK(norm("three weeks") == "3 weeks");
    CHECK(norm("twenty one days") == "21 days");
    CHECK(norm("about a week") == "about 1 week");
    CHECK(norm("a fortnight") == "14 days");
    CHECK(norm("a couple of weeks") == "2 weeks");
  }
  TEST_CASE("a rate is not a duration") {
    CHECK(norm("3 times a day") == "3 times a day");
  }
  TEST_CASE("spelling variants and abbreviations are replaced") {
    CHECK(norm("2 wks") == "2 weeks");
    CHECK(norm("600km") == "600 km");
    CHECK(norm("warm-up") == "warmup");
    CHECK(norm("hamstring tendinitis") == "hamstring tendonitis");
  }
  TEST_CASE("typos of domain words are corrected") {
    CHECK(norm("menicus") == "meniscus");
    CHECK(norm("runing") == "running");
    CHECK(norm("cushoning") == "cushioning");
    CHECK(norm("ibuprofin") == "ibuprofen");
  }
  TEST_CASE("real words near a domain word are left alone") {
    CHECK(norm("shows") == "shows");
    CHECK(norm("hotel") == "hotel");
  }
  TEST_CASE("any bytes are accepted and the output is ASCII") {
    std::string junk = "\xff\xfe knee \xc3\xa9t\xc3\xa9 \x01\x02 \xf0\x9f\x98\x80";
    std::string out = engine().classifier().normalizer().normalize(junk);
    for (char c : out) CHECK(static_cast<unsigned char>(c) < 0x80);
    CHECK(out.find("knee") != std::string::npos);
  }
  TEST_CASE("very long input is cut, not slow") {
    std::string long_text(100000, 'a');
    CHECK(engine().classifier().normalizer().normalize(long_text).size() <= runbot::Normalizer::kMaxInputBytes);
  }
}
