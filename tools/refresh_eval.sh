#!/usr/bin/env bash
# Copies the team's shared development sets into tests/eval/ (the tests only
# read the copies: a fresh clone has no shared folder beside it).
#   tools/refresh_eval.sh PATH_TO_SHARED_EVAL_FOLDER
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:?usage: tools/refresh_eval.sh PATH_TO_SHARED_EVAL_FOLDER}
for f in dev_nlu.jsonl dev_conversations.jsonl clinc150_oos.jsonl; do
  if ! cmp -s "$src/$f" "tests/eval/$f"; then
    cp "$src/$f" "tests/eval/$f"
    echo "updated tests/eval/$f"
  fi
done
