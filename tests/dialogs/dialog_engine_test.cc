#include "dialogs/dialog_engine.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "tests/test_support.h"

using runbot::Reply;
using runbot::SessionState;
using runbot::Triage;
using runbot::test::converse;

namespace {
bool mentions(const Reply& r, const std::string& word) {
  std::string t = r.text;
  std::transform(t.begin(), t.end(), t.begin(), ::tolower);
  return t.find(word) != std::string::npos;
}
}  // namespace

TEST_SUITE("dialog") {
  TEST_CASE("a symptom report starts the triage with the first question") {
    auto r = converse({"the back of my knee aches after running"});
    CHECK(r[0].intent == "symptom_report");
    CHECK(r[0].expecting == "swelling");
    CHECK(r[0].triage == Triage::kNone);
    CHECK_FALSE(r[0].quick_replies.empty());
  }
  TEST_CASE("all no answers end in self care with the plan and a disclaimer") {
    auto r = converse({"pain behind my knee after runs", "no", "no", "no", "5 days", "gradually",
                       "right behind the knee"});
    const Reply& last = r.back();
    CHECK(last.triage == Triage::kSelfCare);
    CHECK(last.expecting.empty());
    CHECK(mentions(last, "ice"));
    CHECK(mentions(last, "diagnosis"));
    CHECK(std::find(last.sources.begin(), last.sources.end(), "self_care.plan") != last.sources.end());
  }
  TEST_CASE("warmth is asked only after swelling is confirmed") {
    auto r = converse({"my knee hurts behind after running", "yes a little"});
    CHECK(r[1].expecting == "warmth_redness");
    auto r2 = converse({"my knee hurts behind after running", "no"});
    CHECK(r2[1].expecting == "locking_instability");
  }
  TEST_CASE("swelling with warmth is a red flag, told at once and kept") {
    auto r = converse({"back of knee sore after runs", "yes it's swollen", "yes it's warm"});
    CHECK(r[2].triage == Triage::kSeeDoctor);
    CHECK(mentions(r[2], "doctor"));
    auto more = converse({"back of knee sore after runs", "yes it's swollen", "yes it's warm", "no", "no",
                          "a week", "gradually", "top of my calf"});
    CHECK(more.back().triage == Triage::kSeeDoctor);
    CHECK(mentions(more.back(), "baker"));
    CHECK(mentions(more.back(), "calf strain"));
  }
  TEST_CASE("several slots in one message, and they are not asked again") {
    auto r = converse({"back of my knee hurts after running",
                       "it's not swollen, no locking, no tingling, about 4 days, came on gradually, right behind the knee"});
    CHECK(r[1].triage == Triage::kSelfCare);
  }
  TEST_CASE("pain longer than two weeks is a red flag even without rest") {
    auto r = converse({"back of knee has hurt for three weeks after running"});
    CHECK(r[0].triage == Triage::kSeeDoctor);
    auto exact = converse({"back of knee has hurt for a fortnight after running"});
    CHECK(exact[0].triage == Triage::kNone);
  }
  TEST_CASE("a side question is answered and the pending question asked again") {
    auto r = converse({"back of my knee hurts after running", "what's a baker's cyst?"});
    CHECK(r[1].intent == "condition_info");
    CHECK(r[1].expecting == "swelling");
    CHECK(mentions(r[1], "back to my question"));
  }
  TEST_CASE("why do you ask is answered with the reason for the pending question") {
    auto r = converse({"back of my knee hurts after running", "why do you ask?"});
    CHECK(r[1].expecting == "swelling");
    CHECK(mentions(r[1], "i ask because"));
  }
  TEST_CASE("an unclear answer is asked again, then skipped") {
    auto r = converse({"back of my knee hurts after running", "banana", "purple"});
    CHECK(r[1].expecting == "swelling");
    CHECK(r[2].expecting != "swelling");
    CHECK(mentions(r[2], "leave that one"));
  }
  TEST_CASE("I don't know is re-asked once, then accepted") {
    auto r = converse({"back of my knee hurts after running", "not sure", "I don't know"});
    CHECK(r[1].expecting == "swelling");
    CHECK(r[2].expecting == "locking_instability");
  }
  TEST_CASE("a bare no does not answer the question when the message says other things") {
    auto r = converse({"back of my knee hurts after running", "no tingling, about 5 days"});
    CHECK(r[1].expecting == "swelling");
  }
  TEST_CASE("a worded no to the locking question is a no, not a red flag") {
    // "it has" opens a yes only when the next word does not negate it.
    for (const char* answer : {"it has never given way", "it hasn't locked once", "it has not"}) {
      CAPTURE(answer);
      auto r = converse({"back of my knee hurts after running", "no", answer});
      CHECK(r[2].triage == Triage::kNone);
      CHECK(r[2].expecting == "numbness_tingling");
    }
    auto yes = converse({"back of my knee hurts after running", "no", "it has given way twice"});
    CHECK(yes[2].triage == Triage::kSeeDoctor);
  }
  TEST_CASE("an emergency at any turn ends the flow and outranks everything") {
    auto r = converse({"back of my knee hurts after running", "yes", "now my calf is hot red and swollen"});
    CHECK(r[2].triage == Triage::kEmergency);
    CHECK(r[2].expecting.empty());
    CHECK(mentions(r[2], "urgent"));
    auto after = converse({"felt a pop and it ballooned up", "ok thanks"});
    CHECK(after[1].triage == Triage::kEmergency);  // never lowered
  }
  TEST_CASE("start over forgets red flags") {
    auto r = converse({"my knee locks after runs and hurts behind", "start over", "back of my knee aches after parkrun"});
    CHECK(r[0].triage == Triage::kSeeDoctor);
    CHECK(r[1].triage == Triage::kNone);
    CHECK(r[1].expecting.empty());
    CHECK(r[2].triage == Triage::kNone);
    CHECK(r[2].expecting == "swelling");
  }
  TEST_CASE("urgency is never lowered within a session") {
    auto r = converse({"my knee gives way and the back hurts", "no", "no", "no", "3 days", "gradually",
                       "right behind the knee", "actually it feels fine now"});
    for (size_t i = 0; i < r.size(); ++i) CHECK(r[i].triage == Triage::kSeeDoctor);
  }
  TEST_CASE("a red flag outside the flow gets the red-flag advice") {
    auto r = converse({"my knee keeps locking, should I get it looked at?"});
    CHECK(r[0].intent == "ask_see_doctor");
    CHECK(r[0].triage == Triage::kSeeDoctor);
  }
  TEST_CASE("the same rules hold for someone else's knee") {
    auto r = converse({"my son's knee gives way when he runs and it hurts at the back"});
    CHECK(r[0].triage == Triage::kSeeDoctor);
  }
  TEST_CASE("likely causes follow the answers") {
    auto twist = converse({"back of my knee hurts after running", "no", "no", "no", "3 days",
                           "I twisted it on a trail", "right behind the knee"});
    CHECK(twist.back().triage == Triage::kSelfCare);
    CHECK(mentions(twist.back(), "meniscus"));
    auto hamstring = converse({"back of my knee hurts after running", "no", "no", "no", "a week",
                               "it came on gradually", "bottom of my hamstring"});
    CHECK(mentions(hamstring.back(), "hamstring tendonitis"));
  }
  TEST_CASE("conversation without pain has no triage and asks nothing") {
    auto r = converse({"hi", "how often should I replace running shoes?", "thanks", "bye"});
    for (const auto& reply : r) {
      CHECK(reply.triage == Triage::kNone);
      CHECK(reply.expecting.empty());
    }
    CHECK(mentions(r[1], "300"));
  }
  TEST_CASE("goodbye mid-flow keeps the question for later") {
    SessionState s;
    auto r = converse({"back of my knee hurts after running", "gotta go"}, &s);
    CHECK(r[1].expecting == "swelling");
    auto back = converse({"no"}, &s);
    CHECK(back[0].expecting == "locking_instability");
  }
}

TEST_SUITE("dialog data") {
  TEST_CASE("every quick reply of every question answers that question") {
    const auto& dialog = runbot::test::engine().dialog();
    for (const auto& name : dialog.slot_names()) {
      // Reach the question: a fresh triage with every other slot answered.
      runbot::SessionState s;
      s.dialog.active = true;
      s.dialog.pending = name;
      for (const auto& other : dialog.slot_names())
        if (other != name && other != "warmth_redness") s.dialog.slots[other] = "unknown";
      if (name == "warmth_redness") s.dialog.slots["swelling"] = "yes";
      for (const auto& qr : dialog.quick_replies_of(name)) {
        auto r = runbot::test::engine().handle(s, qr);
        bool answered = r.state.dialog.slots.count(name) > 0;
        bool unsure = qr == "Not sure";
        CHECK_MESSAGE(answered != unsure, "quick reply \"" << qr << "\" to " << name);
      }
    }
  }
}

TEST_SUITE("dialog safety") {
  TEST_CASE("a red flag said in passing raises the triage whatever the question") {
    auto r = converse({"my knee gives way since my long run, can I still race on sunday?"});
    CHECK(r[0].triage == Triage::kSeeDoctor);
    auto shoes = converse({"my knee locks after runs, could my shoes be the cause?"});
    CHECK(shoes[0].triage == Triage::kSeeDoctor);
  }
  TEST_CASE("a general question about a symptom is not the user's red flag") {
    auto r = converse({"does compression help with swelling behind the knee?"});
    CHECK(r[0].triage == Triage::kNone);
    auto hypo = converse({"what if my knee started to give way?"});
    CHECK(hypo[0].triage == Triage::kNone);
  }
}
