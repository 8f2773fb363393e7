#include "intents/normalizer.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace runbot {
namespace {

using json = nlohmann::json;

bool is_alpha(char c) { return c >= 'a' && c <= 'z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool all_alpha(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_alpha);
}
bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

// Optimal string alignment distance (Damerau-Levenshtein without repeated
// edits of one substring); small words only, so a full table is cheap.
int edit_distance(std::string_view a, std::string_view b) {
  const size_t n = a.size(), m = b.size();
  if (n > 40 || m > 40) return 99;
  int d[41][41];
  for (size_t i = 0; i <= n; ++i) d[i][0] = static_cast<int>(i);
  for (size_t j = 0; j <= m; ++j) d[0][j] = static_cast<int>(j);
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

// Every string made by deleting up to `depth` letters of `word`.
void deletes_of(const std::string& word, int depth, std::vector<std::string>* out) {
  if (depth == 0 || word.size() <= 1) return;
  for (size_t i = 0; i < word.size(); ++i) {
    std::string shorter = word.substr(0, i) + word.substr(i + 1);
    if (std::find(out->begin(), out->end(), shorter) != out->end()) continue;
    out->push_back(shorter);
    deletes_of(shorter, depth - 1, out);
  }
}

int max_typo_distance(size_t length) { return length >= 8 ? 2 : 1; }
constexpr size_t kMinTypoLength = 5;

// Accented Latin letters (UTF-8 C3 80..BF) folded to ASCII, so "café" and
// "naïve" read as "cafe" and "naive"; 0 where the letter has no fold.
char fold_latin1(unsigned char second) {
  static const char* kFold =
      "aaaaaaaceeeeiiii" "dnooooo ouuuuyts"   // C3 80..9F (upper case)
      "aaaaaaaceeeeiiii" "dnooooo ouuuuyty";  // C3 A0..BF
  if (second < 0x80 || second > 0xBF) return 0;
  char c = kFold[second - 0x80];
  return c == ' ' ? 0 : c;
}

// Apostrophe forms joined to the previous word.
std::vector<std::string> expand_contraction(const std::string& token) {
  static const std::unordered_map<std::string, std::string> kWhole = {
      {"can't", "cannot"}, {"won't", "will not"}, {"shan't", "shall not"},
      {"ain't", "is not"}, {"let's", "let us"}, {"y'all", "you all"},
      {"g'day", "good day"}, {"o'clock", "oclock"}};
  auto whole = kWhole.find(token);
  if (whole != kWhole.end()) {
    std::vector<std::string> out;
    size_t start = 0, space;
    while ((space = whole->second.find(' ', start)) != std::string::npos) {
      out.push_back(whole->second.substr(start, space - start));
      start = space + 1;
    }
    out.push_back(whole->second.substr(start));
    return out;
  }
  auto ends = [&](std::string_view s) {
    return token.size() > s.size() && token.compare(token.size() - s.size(), s.size(), s) == 0;
  };
  auto stem = [&](size_t cut) { return token.substr(0, token.size() - cut); };
  if (ends("n't")) return {stem(3), "not"};
  if (ends("'re")) return {stem(3), "are"};
  if (ends("'ve")) return {stem(3), "have"};
  if (ends("'ll")) return {stem(3), "will"};
  if (ends("'d")) return {stem(2), "would"};
  if (ends("'m")) return {stem(2), "am"};
  if (ends("'s")) {
    static const std::unordered_set<std::string> kIs = {
        "it", "that", "what", "there", "here", "he", "she", "who", "where",
        "how", "when", "why", "this", "everything", "nothing", "something"};
    std::string base = stem(2);
    if (kIs.count(base)) return {base, "is"};
    return {base + "s"};  // possessive or noun contraction: "baker's" -> "bakers"
  }
  std::string plain;
  for (char c : token) if (c != '\'') plain += c;
  return {plain};
}

}  // namespace

std::unique_ptr<Normalizer> Normalizer::load(const DataFile& file, LoadErrors* errors) {
  std::unique_ptr<Normalizer> n(new Normalizer());
  size_t before = errors->size();
  try {
    json doc = json::parse(file.contents);
    if (doc.at("version").get<int>() != 1)
      errors->push_back({file.name, "version", "unsupported version"});
    for (auto& [from, to] : doc.at("replacements").items()) {
      std::string target = to.get<std::string>();
      if (from.empty()) {
        errors->push_back({file.name, "replacements", "empty key"});
        continue;
      }
      n->replacements_[from] = target;
      n->longest_replacement_ = std::max<size_t>(
          n->longest_replacement_, 1 + std::count(from.begin(), from.end(), ' '));
      if (from.find(' ') != std::string::npos) n->starts_multi_.insert(from.substr(0, from.find(' ')));
    }
    if (doc.contains("acronyms"))
      for (auto& [caps, meaning] : doc.at("acronyms").items()) n->acronyms_[caps] = meaning.get<std::string>();
    for (auto& [word, value] : doc.at("number_words").items())
      n->number_words_[word] = value.get<int>();
    for (auto& w : doc.at("unit_words")) n->unit_words_.insert(w.get<std::string>());
    for (auto& w : doc.at("domain_words")) {
      std::string word = w.get<std::string>();
      if (!all_alpha(word)) {
        errors->push_back({file.name, "domain_words \"" + word + "\"",
                           "a domain word must be lower-case letters only"});
        continue;
      }
      n->domain_.insert(word);
    }
    for (auto& w : doc.at("protected_words")) n->protected_.insert(w.get<std::string>());
  } catch (const json::exception& e) {
    errors->push_back({file.name, "", e.what()});
  }
  if (errors->size() != before) return nullptr;
  for (const std::string& word : n->domain_) {
    if (word.size() < kMinTypoLength - 1) continue;
    std::vector<std::string> dels;
    deletes_of(word, max_typo_distance(word.size() + 1), &dels);
    n->deletes_[word].push_back(&word);
    for (auto& d : dels) n->deletes_[d].push_back(&word);
  }
  return n;
}

bool Normalizer::is_known_word(std::string_view w) const {
  std::string s(w);
  if (domain_.count(s)) return true;
  // An inflection: a known stem plus a common ending ("elevat" + "ed").
  static constexpr std::string_view kEndings[] = {"s", "es", "d", "ed", "ing", "er", "ers", "ly", "y", "ion", "ions", "ness", "ment"};
  for (std::string_view ending : kEndings) {
    if (w.size() < ending.size() + 4 || w.substr(w.size() - ending.size()) != ending) continue;
    if (domain_.count(std::string(w.substr(0, w.size() - ending.size())))) return true;
  }
  return false;
}

std::string_view Normalizer::correct(std::string_view word) const {
  if (word.size() < kMinTypoLength) return word;
  std::string w(word);
  if (domain_.count(w) || protected_.count(w) || replacements_.count(w)) return word;
  const int max_d = max_typo_distance(w.size());
  std::vector<std::string> probes{w};
  deletes_of(w, max_d, &probes);
  const std::string* best = nullptr;
  int best_d = max_d + 1;
  bool tie = false;
  for (const auto& probe : probes) {
    auto it = deletes_.find(probe);
    if (it == deletes_.end()) continue;
    for (const std::string* cand : it->second) {
      if ((*cand)[0] != w[0]) continue;  // typos rarely hit the first letter
      int d = edit_distance(w, *cand);
      if (d < best_d) {
        best_d = d, best = cand, tie = false;
      } else if (d == best_d && best != cand) {
        tie = true;
      }
    }
  }
  if (best == nullptr || tie) return word;
  return *best;
}

void Normalizer::tokenize(std::string_view text, std::vector<std::string>* out) const {
  std::string cur, raw_word;
  enum Kind { kNone, kWord, kNumber } kind = kNone;
  auto flush = [&] {
    if (!raw_word.empty() && !acronyms_.empty()) {
      auto acronym = acronyms_.find(raw_word);
      if (acronym != acronyms_.end()) cur = acronym->second;
    }
    raw_word.clear();
    if (!cur.empty()) {
      if (cur.find('\'') != std::string::npos) {
        // trim apostrophes at the edges ("runners'" and quotes), then expand
        size_t b = cur.find_first_not_of('\''), e = cur.find_last_not_of('\'');
        if (b != std::string::npos) {
          for (auto& t : expand_contraction(cur.substr(b, e - b + 1)))
            if (!t.empty()) out->push_back(t);
        }
      } else {
        out->push_back(cur);
      }
    }
    cur.clear();
    kind = kNone;
  };
  auto punct = [&](const char* p) { flush(); out->push_back(p); };
  const size_t n = std::min(text.size(), kMaxInputBytes);
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    const char original = static_cast<char>(c);
    if (c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c - 'A' + 'a');
    if (is_alpha(static_cast<char>(c))) {
      if (kind == kNumber) flush();
      raw_word += original;
      cur += static_cast<char>(c);
      kind = kWord;
    } else if (is_digit(static_cast<char>(c))) {
      if (kind == kWord) flush();
      cur += static_cast<char>(c);
      kind = kNumber;
    } else if (c == '\'' || c == '`') {
      if (kind == kWord) cur += '\'';
      else flush();
    } else if (c == 0xE2 && i + 2 < n && static_cast<unsigned char>(text[i + 1]) == 0x80) {
      unsigned char third = static_cast<unsigned char>(text[i + 2]);
      i += 2;
      if (third == 0x98 || third == 0x99) {          // curly apostrophes
        if (kind == kWord) cur += '\'';
        else flush();
      } else if (third == 0x93 || third == 0x94) {   // en and em dash
        punct("-");
      } else {
        flush();
      }
    } else if (c == 0xC3 && i + 1 < n) {
      char folded = fold_latin1(static_cast<unsigned char>(text[i + 1]));
      ++i;
      if (folded) {
        if (kind == kNumber) flush();
        cur += folded;
        kind = kWord;
      } else {
        flush();
      }
    } else if (c == '-') {
      // "warm-up" -> "warm up"; a free-standing dash is a clause break.
      bool joins = kind == kWord && i + 1 < n &&
                   std::isalnum(static_cast<unsigned char>(text[i + 1]));
      if (joins) flush();
      else punct("-");
    } else if (c == ',' || c == '.' || c == ';' || c == ':' || c == '!' || c == '?' ||
               c == '(' || c == ')' || c == '/' || c == '&' || c == '+') {
      const char s[2] = {static_cast<char>(c), 0};
      punct(s);
    } else {
      flush();  // spaces, control bytes, other symbols, any other UTF-8
    }
  }
  flush();
}

void Normalizer::apply_replacements(std::vector<std::string>* tokens) const {
  std::vector<std::string> out;
  out.reserve(tokens->size() + 4);
  const auto& in = *tokens;
  for (size_t i = 0; i < in.size();) {
    bool replaced = false;
    // Multi-token keys are tried only after a word that starts one.
    const size_t longest = starts_multi_.count(in[i]) ? longest_replacement_ : 1;
    for (size_t len = std::min(longest, in.size() - i); len >= 1; --len) {
      std::string key = in[i];
      for (size_t k = 1; k < len; ++k) key += ' ' + in[i + k];
      auto it = replacements_.find(key);
      if (it == replacements_.end()) continue;
      size_t start = 0, space;
      const std::string& to = it->second;
      while ((space = to.find(' ', start)) != std::string::npos) {
        out.push_back(to.substr(start, space - start));
        start = space + 1;
      }
      if (start < to.size()) out.push_back(to.substr(start));
      i += len;
      replaced = true;
      break;
    }
    if (!replaced) {
      const std::string& t = in[i];
      if (all_alpha(t)) out.emplace_back(correct(t));
      else out.push_back(t);
      ++i;
    }
  }
  tokens->swap(out);
}

void Normalizer::apply_numbers(std::vector<std::string>* tokens) const {
  std::vector<std::string> out;
  out.reserve(tokens->size());
  auto& in = *tokens;
  for (size_t i = 0; i < in.size(); ++i) {
    auto num = number_words_.find(in[i]);
    if (num != number_words_.end()) {
      int value = num->second;
      // "twenty one" -> 21
      if (value >= 20 && value % 10 == 0 && i + 1 < in.size()) {
        auto unit = number_words_.find(in[i + 1]);
        if (unit != number_words_.end() && unit->second < 10) {
          value += unit->second;
          ++i;
        }
      }
      out.push_back(std::to_string(value));
      continue;
    }
    out.push_back(in[i]);
  }
  // "a week" -> "1 week"; "a 14 days" (from "a fortnight") -> "14 days"
  std::vector<std::string> final_tokens;
  final_tokens.reserve(out.size());
  for (size_t i = 0; i < out.size(); ++i) {
    // ... but not a rate: "3 times a day", "20 miles a week"
    const bool rate = i > 0 && (out[i - 1] == "times" || out[i - 1] == "per" ||
                                out[i - 1] == "miles" || out[i - 1] == "km");
    if ((out[i] == "a" || out[i] == "an") && i + 1 < out.size() && !rate) {
      if (all_digits(out[i + 1])) continue;
      if (unit_words_.count(out[i + 1])) {
        final_tokens.push_back("1");
        continue;
      }
    }
    final_tokens.push_back(out[i]);
  }
  tokens->swap(final_tokens);
}

std::string Normalizer::normalize(std::string_view text) const {
  std::vector<std::string> tokens;
  tokens.reserve(32);
  tokenize(text, &tokens);
  apply_replacements(&tokens);
  apply_numbers(&tokens);
  std::string out;
  out.reserve(text.size() + 16);
  for (const auto& t : tokens) {
    if (!out.empty()) out += ' ';
    out += t;
  }
  return out;
}

}  // namespace runbot
