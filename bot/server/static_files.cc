#include "bot/server/static_files.h"

#include <fstream>
#include <sstream>

namespace runbot {

std::shared_ptr<const StaticFiles> StaticFiles::load(const std::string& web_dir) {
  auto files = std::make_shared<StaticFiles>();
  struct Entry {
    const char* path;
    const char* file;
    const char* type;  // exact types: browsers refuse a cross-origin stylesheet served as anything else
  };
  static constexpr Entry kEntries[] = {{"/", "index.html", "text/html; charset=utf-8"},
                                       {"/widget.js", "widget.js", "text/javascript; charset=utf-8"},
                                       {"/widget.css", "widget.css", "text/css; charset=utf-8"}};
  for (const auto& e : kEntries) {
    std::ifstream in(web_dir + "/" + e.file, std::ios::binary);
    if (!in) continue;
    std::ostringstream body;
    body << in.rdbuf();
    files->files_[e.path] = StaticFile{e.type, body.str()};
  }
  return files;
}

const StaticFile* StaticFiles::find(std::string_view path) const {
  auto it = files_.find(path);
  return it == files_.end() ? nullptr : &it->second;
}

}  // namespace runbot
