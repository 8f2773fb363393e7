#include "bot/knowledge_base.h"

#include <nlohmann/json.hpp>
#include <set>

namespace runbot {
namespace {

using json = nlohmann::json;

constexpr const char* kEntityKeys[] = {"condition", "treatment", "exercise", "shoe_topic"};

std::string_view entity_of(const Classification& c, std::string_view key) {
  if (key == "condition") return c.entities.condition;
  if (key == "treatment") return c.entities.treatment;
  if (key == "exercise") return c.entities.exercise;
  if (key == "shoe_topic") return c.entities.shoe_topic;
  return {};
}

}  // namespace

std::unique_ptr<KnowledgeBase> KnowledgeBase::load(const std::vector<DataFile>& files,
                                                   const Classifier& classifier,
                                                   LoadErrors* errors) {
  const size_t before = errors->size();
  std::unique_ptr<KnowledgeBase> kb(new KnowledgeBase());
  std::set<std::string> ids;
  if (files.empty()) errors->push_back({"bot/knowledge", "", "no knowledge files found"});
  for (const auto& file : files) {
    try {
      json doc = json::parse(file.contents);
      if (doc.at("version").get<int>() != 1)
        errors->push_back({file.name, "version", "unsupported version"});
      const std::string section = doc.at("section").get<std::string>();
      const std::string section_title = doc.at("title").get<std::string>();
      for (const auto& je : doc.at("entries")) {
        KnowledgeEntry e;
        e.id = je.at("id").get<std::string>();
        const std::string where = "entry \"" + e.id + "\"";
        e.title = je.at("title").get<std::string>();
        e.text = je.at("text").get<std::string>();
        e.section_title = section_title;
        if (e.id.rfind(section + ".", 0) != 0)
          errors->push_back({file.name, where, "id must start with the section \"" + section + ".\""});
        if (!ids.insert(e.id).second)
          errors->push_back({file.name, where, "duplicate id"});
        if (e.text.empty()) errors->push_back({file.name, where, "text is empty"});
        if (e.text.find('<') != std::string::npos)
          errors->push_back({file.name, where, "text must be plain text (found '<')"});
        for (const auto& jr : je.at("answers")) {
          KnowledgeEntry::Route r;
          r.intent = jr.at("intent").get<std::string>();
          if (!classifier.has_intent(r.intent))
            errors->push_back({file.name, where, "unknown intent \"" + r.intent + "\""});
          for (const char* key : kEntityKeys) {
            if (!jr.contains(key)) continue;
            r.entity = key;
            r.value = jr.at(key).get<std::string>();
            auto values = classifier.entity_values(key);
            if (std::find(values.begin(), values.end(), r.value) == values.end())
              errors->push_back({file.name, where, std::string("unknown ") + key + " \"" + r.value + "\""});
          }
          if (jr.contains("cue")) {
            std::string cue = jr.at("cue").get<std::string>();
            r.cue = classifier.concept_id(cue);
            if (r.cue < 0) errors->push_back({file.name, where, "unknown cue concept \"" + cue + "\""});
          }
          e.routes.push_back(std::move(r));
        }
        kb->entries_.push_back(std::move(e));
      }
    } catch (const json::exception& ex) {
      errors->push_back({file.name, "", ex.what()});
    }
  }
  if (errors->size() != before) return nullptr;
  return kb;
}

const KnowledgeEntry* KnowledgeBase::answer(const Classification& c) const {
  const KnowledgeEntry* best = nullptr;
  int best_score = -1;
  for (const auto& e : entries_) {
    for (const auto& r : e.routes) {
      if (r.intent != c.intent) continue;
      int score = 0;
      if (!r.entity.empty()) {
        if (entity_of(c, r.entity) != r.value) continue;
        score += 2;
      }
      if (r.cue >= 0) {
        if (!c.concepts.test(r.cue) || c.denied.test(r.cue)) continue;
        score += 1;
      }
      if (score > best_score) {
        best = &e;
        best_score = score;
      }
    }
  }
  return best;
}

const KnowledgeEntry* KnowledgeBase::find(std::string_view id) const {
  for (const auto& e : entries_)
    if (e.id == id) return &e;
  return nullptr;
}

}  // namespace runbot
