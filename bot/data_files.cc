#include "bot/data_files.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace runbot {

namespace fs = std::filesystem;

std::string default_data_root() {
  if (const char* env = std::getenv("RUNBOT_DATA"); env && *env) return env;
#ifdef RUNBOT_DATA_DIR
  return RUNBOT_DATA_DIR;
#else
  return ".";
#endif
}

std::vector<DataFile> read_data_files(const std::string& root, LoadErrors* errors) {
  std::vector<DataFile> files;
  auto read = [&](const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::string rel = fs::relative(path, root).generic_string();
    if (!in) {
      errors->push_back({rel, "", "cannot read file"});
      return;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    files.push_back({rel, ss.str()});
  };
  for (const char* dir : {"intents/data", "bot/knowledge"}) {
    std::error_code ec;
    std::vector<fs::path> paths;
    for (const auto& entry : fs::directory_iterator(fs::path(root) / dir, ec))
      if (entry.path().extension() == ".json") paths.push_back(entry.path());
    if (ec) errors->push_back({std::string(dir), "", "cannot list folder: " + ec.message()});
    std::sort(paths.begin(), paths.end());
    for (const auto& p : paths) read(p);
  }
  read(fs::path(root) / "dialogs/data/triage.json");
  return files;
}

std::shared_ptr<const Engine> load_engine(const std::string& root, LoadErrors* errors) {
  auto files = read_data_files(root, errors);
  if (!errors->empty()) return nullptr;
  return Engine::load(files, errors);
}

}  // namespace runbot
