#!/usr/bin/env bash
# The engine (intents/, dialogs/, bot/engine, knowledge base, session state)
# includes no networking, threads, files or databases (DESIGN.md).
set -u
root=${1:?source root}
cd "$root" || exit 2
files=$(ls intents/*.h intents/*.cc dialogs/*.h dialogs/*.cc bot/engine.* bot/knowledge_base.* bot/session_state.* 2>/dev/null)
bad=$(grep -nE '#include *<(boost/|asio|thread|fstream|filesystem|sqlite3|hiredis|sys/socket|netinet|unistd\.h|chrono|random)' $files)
if [ -n "$bad" ]; then
  echo "engine code must not do I/O, threads, clocks or randomness:"
  echo "$bad"
  exit 1
fi
echo "engine is pure: $(echo "$files" | wc -l) files checked"
