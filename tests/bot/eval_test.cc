// The bar of issue 2, on the evaluation sets copied under tests/eval/.
#include "bot/eval/evaluator.h"

#include <doctest/doctest.h>

#include "tests/test_support.h"

using namespace runbot;

namespace {
EvalReport run(std::initializer_list<const char*> files) {
  EvalReport report;
  for (const char* f : files) evaluate_lines(test::engine(), f, test::read_lines(std::string("tests/eval/") + f), &report);
  MESSAGE(report.summary_line());
  MESSAGE(report.to_text(30));
  return report;
}
}  // namespace

TEST_SUITE("eval") {
  TEST_CASE("dev sets: intent accuracy >= 0.97, conversations >= 0.95, no red-flag or emergency miss") {
    EvalReport r = run({"dev_nlu.jsonl", "dev_conversations.jsonl"});
    CHECK(r.bad_lines.empty());
    CHECK(r.n_lines == 506);
    CHECK(r.n_convs == 34);
    CHECK(r.intent_acc() >= 0.97);
    CHECK(r.conv_pass() >= 0.95);
    CHECK(r.redflag_recall() == 1.0);
    CHECK(r.emergency_recall() == 1.0);
    CHECK(r.false_alarm() <= 0.01);
  }
  TEST_CASE("CLINC150 out-of-scope queries: at least 95% answered out_of_scope") {
    EvalReport r = run({"clinc150_oos.jsonl"});
    CHECK(r.n_lines == 1291);
    CHECK(r.intent_acc() >= 0.95);
    CHECK(r.false_alarm() == 0.0);
  }
  TEST_CASE("the summary line has the agreed shape") {
    EvalReport r;
    evaluate_lines(test::engine(), "inline",
                   {R"({"text": "hi", "intent": "greet"})",
                    R"({"name": "c", "turns": [{"user": "bye", "expect": {"intent": "goodbye"}}]})"},
                   &r);
    CHECK(r.summary_line() ==
          "EVAL intent_acc=1.000 entity_acc=1.000 redflag_recall=1.000 emergency_recall=1.000 oos_f1=1.000 "
          "false_alarm=0.000 conv_pass=1.000 turn_pass=1.000 n_lines=1 n_convs=1");
  }
  TEST_CASE("a line that is not eval JSON is reported, not skipped silently") {
    EvalReport r;
    evaluate_lines(test::engine(), "bad", {"{not json", R"({"intent": "greet"})"}, &r);
    CHECK(r.bad_lines.size() == 2);
  }
}
