// Reading runbot's data files from disk (the only file I/O the engine's
// inputs need). Kept apart from the engine so the engine stays pure.
#ifndef RUNBOT_BOT_DATA_FILES_H_
#define RUNBOT_BOT_DATA_FILES_H_

#include <memory>
#include <string>
#include <vector>

#include "bot/engine.h"
#include "intents/data_file.h"

namespace runbot {

// The data root compiled in (the source tree), overridden by $RUNBOT_DATA.
std::string default_data_root();

// Reads intents/data/*.json, dialogs/data/triage.json and bot/knowledge/*.json
// under `root`, named by their relative paths. Unreadable files are errors.
std::vector<DataFile> read_data_files(const std::string& root, LoadErrors* errors);

// read_data_files + Engine::load.
std::shared_ptr<const Engine> load_engine(const std::string& root, LoadErrors* errors);

}  // namespace runbot

#endif  // RUNBOT_BOT_DATA_FILES_H_
