#include "intents/classifier.h"

#include <doctest/doctest.h>

#include "tests/test_support.h"

using runbot::Classification;
using runbot::test::engine;

namespace {
Classification classify(const char* text, const char* expecting = "") {
  return engine().classifier().classify(text, {expecting});
}
}  // namespace

TEST_SUITE("classifier") {
  TEST_CASE("a negated symptom is not taken as the symptom") {
    auto c = classify("no swelling, but it locks");
    CHECK(c.has_symptom("locking"));
    CHECK_FALSE(c.has_symptom("swelling"));
    CHECK(c.denies_symptom("swelling"));
  }
  TEST_CASE("negation covers a coordinated list until a break") {
    auto c = classify("it doesn't lock or give way, and it's swollen");
    CHECK(c.denies_symptom("locking"));
    CHECK(c.denies_symptom("instability"));
    CHECK(c.has_symptom("swelling"));
  }
  TEST_CASE("doubt is neither yes nor no") {
    auto c = classify("not sure if it's swollen");
    CHECK_FALSE(c.has_symptom("swelling"));
    CHECK_FALSE(c.denies_symptom("swelling"));
    CHECK(c.answer == runbot::Polarity::kUnsure);
  }
  TEST_CASE("a pattern with its own 'not' is a plain mention") {
    CHECK(classify("my knee won't straighten").has_symptom("locking"));
  }
  TEST_CASE("several symptoms at once") {
    auto c = classify("back of my knee is puffy and red and i get pins and needles");
    CHECK(c.has_symptom("swelling"));
    CHECK(c.has_symptom("warmth_redness"));
    CHECK(c.has_symptom("numbness_tingling"));
  }
  TEST_CASE("durations from digits and words") {
    CHECK(classify("it's hurt for ten days").entities.duration_days == 10);
    CHECK(classify("three weeks now").entities.duration_days == 21);
    CHECK(classify("a fortnight").entities.duration_days == 14);
    CHECK(classify("about a month").entities.duration_days == 30);
    CHECK(classify("more than 2 weeks").entities.duration_days == 15);
  }
  TEST_CASE("mileage in miles or kilometres, not weekly totals") {
    CHECK(classify("my shoes have done 450 miles").entities.mileage == 450);
    CHECK(classify("my shoes have 800 km on them").entities.mileage == 497);
    CHECK_FALSE(classify("I run 30 miles a week").entities.mileage.has_value());
  }
  TEST_CASE("entities: condition, treatment, exercise, shoe topic") {
    CHECK(classify("what is a popliteal cyst").entities.condition == "bakers_cyst");
    CHECK(classify("could it be a torn menicus").entities.condition == "meniscus_tear");
    CHECK(classify("should I take naproxen").entities.treatment == "pain_relievers");
    CHECK(classify("how do I do heel raises").entities.exercise == "calf_raises");
    CHECK(classify("do I need more arch support").entities.shoe_topic == "arch_support");
  }
  TEST_CASE("intents of typical messages") {
    CHECK(classify("my knee hurts at the back when I jog").intent == "symptom_report");
    CHECK(classify("why would the back of the knee ache after a long run").intent == "ask_causes");
    CHECK(classify("is a compression sleeve any good").intent == "ask_treatment");
    CHECK(classify("best way to warm up before parkrun?").intent == "ask_warmup_cooldown");
    CHECK(classify("should I get an x-ray").intent == "ask_see_doctor");
    CHECK(classify("hiya").intent == "greet");
    CHECK(classify("cheers mate").intent == "thanks");
  }
  TEST_CASE("emergency signs win over everything") {
    CHECK(classify("I can't bear weight on my leg at all").intent == "emergency");
    CHECK(classify("heard a pop and it swelled up straight away").intent == "emergency");
    CHECK(classify("my calf is red hot and swollen").intent == "emergency");
    CHECK(classify("my toes have gone blue and cold").intent == "emergency");
  }
  TEST_CASE("a hypothetical is not a report") {
    auto c = classify("what if I couldn't put weight on it");
    CHECK(c.intent != "emergency");
    CHECK(c.hypothetical);
  }
  TEST_CASE("other domains and other body parts are out of scope") {
    CHECK(classify("book me a table for two tonight").intent == "out_of_scope");
    CHECK(classify("my elbow hurts after tennis").intent == "out_of_scope");
    CHECK(classify("how do I treat plantar fasciitis").intent == "out_of_scope");
    CHECK(classify("what causes inflation").intent == "out_of_scope");
  }
  TEST_CASE("a short answer reads against the question asked") {
    auto c = classify("right behind the knee", "location");
    CHECK(c.location == "behind_knee");
    CHECK(classify("top of the calf", "location").location == "upper_calf");
  }
  TEST_CASE("yes, no and don't know") {
    CHECK(classify("yep a bit").intent == "affirm");
    CHECK(classify("nah").intent == "deny");
    CHECK(classify("no idea").intent == "unsure");
  }
  TEST_CASE("instability in its everyday wordings") {
    CHECK(classify("my knee has given way a few times").has_symptom("instability"));
    CHECK(classify("feels like it wants to fold under me").has_symptom("instability"));
    CHECK(classify("it's never given out").denies_symptom("instability"));
  }
  TEST_CASE("a named muscle as a possible cause is a condition question") {
    CHECK(classify("could it be my hamstring").entities.condition == "hamstring_tendonitis");
    CHECK(classify("how long should I rest before I run again").intent == "ask_return_to_running");
    // "management" alone is no treatment question.
    CHECK(classify("any time management tips").intent == "out_of_scope");
    // Skipping the warm-up, in everyday words.
    CHECK(classify("I usually go straight into my intervals").intent == "ask_warmup_cooldown");
    CHECK(classify("is it bad to just start running right away").intent == "ask_warmup_cooldown");
  }
  TEST_CASE("never throws on junk") {
    for (const char* junk : {"", " ", "????", "\xff\xff", "no no no no no", ",,,,"}) {
      auto c = classify(junk);
      CHECK_FALSE(c.intent.empty());
    }
  }
}
