// The web widget's files (web/: index.html, widget.js, widget.css), read
// once at start and on reload, and served from memory. A fixed list, not a
// mapping of URL paths onto the filesystem, so no request can reach any
// other file.
//
// Thread safety: immutable after load(); shared read-only.
#ifndef RUNBOT_BOT_SERVER_STATIC_FILES_H_
#define RUNBOT_BOT_SERVER_STATIC_FILES_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace runbot {

struct StaticFile {
  std::string content_type;
  std::string body;
};

class StaticFiles {
 public:
  // Reads the widget files from `web_dir`; a missing file is left out (the
  // server then answers 404 for it, and GET / falls back to a placeholder).
  static std::shared_ptr<const StaticFiles> load(const std::string& web_dir);
  // The file served at `path` ("/", "/widget.js", "/widget.css"), or nullptr.
  const StaticFile* find(std::string_view path) const;

 private:
  std::map<std::string, StaticFile, std::less<>> files_;
};

}  // namespace runbot

#endif  // RUNBOT_BOT_SERVER_STATIC_FILES_H_
