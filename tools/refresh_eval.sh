#!/usr/bin/env bash
# Copies the team's shared development sets into tests/eval/ (the tests only
# read the copies: a fresh clone has no ../shared). Run when ../shared changes.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-../shared/eval}
for f in dev_nlu.jsonl dev_conversations.jsonl clinc150_oos.jsonl; do
  if ! cmp -s "$src/$f" "tests/eval/$f"; then
    cp "$src/$f" "tests/eval/$f"
    echo "updated tests/eval/$f"
  fi
done
