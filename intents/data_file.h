// Data files and load errors shared by every loader (classifier, dialog,
// knowledge base). Plain values; no I/O happens here: callers read the files
// and pass their contents in, so the engine stays free of file access.
#ifndef RUNBOT_INTENTS_DATA_FILE_H_
#define RUNBOT_INTENTS_DATA_FILE_H_

#include <string>
#include <vector>

namespace runbot {

// One data file as read from disk: `name` is the path shown in errors
// (e.g. "intents/data/concepts.json"), `contents` its bytes.
struct DataFile {
  std::string name;
  std::string contents;
};

// One problem found while loading. Printed as
//   file: entry "id": message
// so that an operator can go straight to the broken line.
struct LoadError {
  std::string file;
  std::string entry;    // may be empty when the whole file is broken
  std::string message;

  std::string to_string() const {
    if (entry.empty()) return file + ": " + message;
    return file + ": " + entry + ": " + message;
  }
};

using LoadErrors = std::vector<LoadError>;

}  // namespace runbot

#endif  // RUNBOT_INTENTS_DATA_FILE_H_
