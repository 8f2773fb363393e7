// KnowledgeBase: the article's facts as short chat answers (bot/knowledge/*.json),
// each reachable through routes (intent, optional entity value, optional cue
// concept). Loaded once and immutable afterwards; safe to share across threads.
#ifndef RUNBOT_BOT_KNOWLEDGE_BASE_H_
#define RUNBOT_BOT_KNOWLEDGE_BASE_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "intents/classifier.h"
#include "intents/data_file.h"

namespace runbot {

struct KnowledgeEntry {
  struct Route {
    std::string intent;
    std::string entity;   // condition, treatment, exercise, shoe_topic, or ""
    std::string value;    // the entity value the route needs
    int cue = -1;         // concept id that must fire, or -1
  };
  std::string id;         // section.entry, used in reply "sources"
  std::string section_title;
  std::string title;
  std::string text;
  std::vector<Route> routes;
};

class KnowledgeBase {
 public:
  // Loads every file of `files` (one JSON file per section). Checks ids,
  // sections, routes (known intents, entities, cues). nullptr + errors on failure.
  static std::unique_ptr<KnowledgeBase> load(const std::vector<DataFile>& files,
                                             const Classifier& classifier, LoadErrors* errors);

  // The best entry for a classified message: the route must name the
  // message's intent; a route's entity value and cue, when given, must match,
  // and each one matched makes the route more specific. nullptr when the
  // intent has no route.
  const KnowledgeEntry* answer(const Classification& c) const;

  const KnowledgeEntry* find(std::string_view id) const;
  const std::vector<KnowledgeEntry>& entries() const { return entries_; }

 private:
  KnowledgeBase() = default;
  std::vector<KnowledgeEntry> entries_;
};

}  // namespace runbot

#endif  // RUNBOT_BOT_KNOWLEDGE_BASE_H_
