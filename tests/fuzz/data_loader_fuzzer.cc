// libFuzzer target: the data-file loaders (knowledge base, triage dialog
// and, on request, the classifier). The first input byte picks one of the
// real data files; the rest replaces its contents, and the engine is loaded
// the way Engine::load does it. A loader must report problems as LoadErrors
// and return nullptr, never crash, throw or hang.
//
// Only the stages that depend on the replaced file run again: the classifier
// and knowledge base built from the real files are reused when a knowledge
// or triage file is replaced. The intents/data files are left out unless
// RUNBOT_FUZZ_INTENTS=1: replacing one rebuilds the whole classifier
// (normaliser typo index and every RE2 pattern), which takes seconds per
// input under ASan, too slow for a bounded CI run and near -timeout=10.
// Byte 0 picks, in order: bot/knowledge/*.json (sorted), triage.json, then
// intents/data/*.json (sorted); tests/fuzz/make_corpus.py writes seeds so.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bot/data_files.h"
#include "bot/engine.h"
#include "bot/knowledge_base.h"
#include "dialogs/dialog_engine.h"
#include "intents/classifier.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using runbot::DataFile;
using runbot::LoadErrors;

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

struct RealData {
  std::vector<DataFile> files;  // sorted as read_data_files returns them
  std::vector<size_t> fuzzed;   // indexes into files that inputs may replace
  std::unique_ptr<runbot::Classifier> classifier;
  std::unique_ptr<runbot::KnowledgeBase> knowledge;
};

const RealData& real() {
  static const RealData* data = [] {
    auto* d = new RealData;
    LoadErrors errors;
    d->files = runbot::read_data_files(runbot::default_data_root(), &errors);
    std::vector<DataFile> intents, knowledge;
    for (const auto& f : d->files) {
      if (starts_with(f.name, "intents/data/")) intents.push_back(f);
      if (starts_with(f.name, "bot/knowledge/")) knowledge.push_back(f);
    }
    d->classifier = runbot::Classifier::load(intents, &errors);
    if (d->classifier) d->knowledge = runbot::KnowledgeBase::load(knowledge, *d->classifier, &errors);
    for (const auto& err : errors) std::fprintf(stderr, "%s\n", err.to_string().c_str());
    FUZZ_CHECK(errors.empty() && d->knowledge != nullptr);
    const char* with_intents = std::getenv("RUNBOT_FUZZ_INTENTS");
    for (std::string_view prefix : {"bot/knowledge/", "dialogs/", "intents/data/"}) {
      if (prefix == "intents/data/" && !(with_intents && std::string_view(with_intents) == "1")) break;
      for (size_t i = 0; i < d->files.size(); ++i)
        if (starts_with(d->files[i].name, prefix)) d->fuzzed.push_back(i);
    }
    return d;
  }();
  return *data;
}

// A loader's result and its errors agree: nullptr iff something was reported,
// and every report names its file.
template <typename T>
void check_result(const T& loaded, const LoadErrors& errors) {
  FUZZ_CHECK((loaded == nullptr) == !errors.empty());
  for (const auto& e : errors) FUZZ_CHECK(!e.file.empty() && !e.message.empty());
}

runbot::DialogEngine::KnowledgeLookup lookup_in(const runbot::KnowledgeBase* kb) {
  return [kb](std::string_view id) -> const std::string* {
    const runbot::KnowledgeEntry* entry = kb->find(id);
    return entry ? &entry->text : nullptr;
  };
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  real();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const RealData& r = real();
  std::vector<DataFile> files = r.files;
  DataFile& target = files[r.fuzzed[data[0] % r.fuzzed.size()]];
  target.contents.assign(reinterpret_cast<const char*>(data + 1), size - 1);

  LoadErrors errors;
  if (starts_with(target.name, "intents/data/")) {
    // The classifier changes, so everything built on it is checked again.
    auto engine = runbot::Engine::load(files, &errors);
    check_result(engine, errors);
    // A data set that loads must answer like any other.
    if (engine) (void)engine->handle({}, "the back of my knee hurts after running");
  } else if (starts_with(target.name, "bot/knowledge/")) {
    std::vector<DataFile> knowledge;
    for (const auto& f : files)
      if (starts_with(f.name, "bot/knowledge/")) knowledge.push_back(f);
    auto kb = runbot::KnowledgeBase::load(knowledge, *r.classifier, &errors);
    check_result(kb, errors);
    if (kb) {
      const DataFile* triage = nullptr;
      for (const auto& f : files)
        if (f.name == "dialogs/data/triage.json") triage = &f;
      FUZZ_CHECK(triage != nullptr);
      auto dialog = runbot::DialogEngine::load(*triage, *r.classifier, lookup_in(kb.get()), &errors);
      check_result(dialog, errors);
    }
  } else {
    FUZZ_CHECK(target.name == "dialogs/data/triage.json");
    auto dialog = runbot::DialogEngine::load(target, *r.classifier, lookup_in(r.knowledge.get()), &errors);
    check_result(dialog, errors);
  }
  return 0;
}
