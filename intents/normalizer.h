// Normalizer: rewrites a raw message into the canonical form that concept
// patterns are written against: lower-case ASCII words and punctuation marks
// separated by single spaces, contractions expanded ("doesn't" -> "does not"),
// spelling variants and abbreviations replaced ("wks" -> "weeks"), typos of
// domain words corrected ("menicus" -> "meniscus"), number words turned into
// digits ("three weeks" -> "3 weeks", "a fortnight" -> "14 days").
//
// Thread safety: immutable after load(); normalize() is const and reentrant.
//
// Example, written as a check:
//   CHECK(n.normalize("It doesn't lock, for a fortnight") ==
//         "it does not lock , for 14 days");
#ifndef RUNBOT_INTENTS_NORMALIZER_H_
#define RUNBOT_INTENTS_NORMALIZER_H_

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "intents/data_file.h"

namespace runbot {

class Normalizer {
 public:
  // Longest message read; the rest is ignored so that no input can make
  // one classification slow.
  static constexpr size_t kMaxInputBytes = 4096;

  // Builds from vocabulary.json. Returns nullptr and appends errors on failure.
  static std::unique_ptr<Normalizer> load(const DataFile& vocabulary,
                                          LoadErrors* errors);

  std::string normalize(std::string_view text) const;

  // The typo correction alone, for one lower-case word: the domain word it
  // is a near miss of, or the word itself.
  std::string_view correct(std::string_view word) const;

  bool is_domain_word(std::string_view w) const { return domain_.count(std::string(w)) > 0; }
  size_t domain_word_count() const { return domain_.size(); }
  // A domain word, or an inflection of one ("elevated" from "elevat(e)").
  bool is_known_word(std::string_view w) const;

 private:
  Normalizer() = default;
  void tokenize(std::string_view text, std::vector<std::string>* out) const;
  void apply_replacements(std::vector<std::string>* tokens) const;
  void apply_numbers(std::vector<std::string>* tokens) const;

  // Whole-token (or multi-token, space separated) replacements.
  std::unordered_map<std::string, std::string> replacements_;
  size_t longest_replacement_ = 1;     // in tokens
  std::unordered_set<std::string> starts_multi_;   // first words of multi-token keys
  std::unordered_map<std::string, int> number_words_;
  // Words that mean something else in capitals ("RICE" the first-aid rule,
  // not the food); matched on the raw text before lower-casing.
  std::unordered_map<std::string, std::string> acronyms_;
  std::unordered_set<std::string> unit_words_;     // a/an + unit -> 1 unit
  std::unordered_set<std::string> domain_;         // words typos are corrected to
  std::unordered_set<std::string> protected_;      // real words never corrected
  // Symmetric-delete index: a word with up to two letters deleted -> the
  // domain words it comes from. Lookup cost is independent of vocabulary size.
  std::unordered_map<std::string, std::vector<const std::string*>> deletes_;
};

}  // namespace runbot

#endif  // RUNBOT_INTENTS_NORMALIZER_H_
