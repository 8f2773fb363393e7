#!/usr/bin/env bash
# runbot refuses to start on broken data: exit 2, one line naming file, entry
# and reason for each problem.
set -u
bin=${1:?runbot binary}
root=${2:?source root}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0

copy() { rm -rf "$work/data"; mkdir -p "$work/data"; cp -r "$root/intents" "$root/dialogs" "$root/bot" "$work/data/"; }
expect() {  # expect NAME PATTERN
  local out code
  out=$("$bin" --data "$work/data" eval "$root/tests/eval/dev_nlu.jsonl" 2>&1 >/dev/null)
  code=$?
  if [ $code -ne 2 ]; then echo "FAIL $1: exit $code, want 2"; fail=1; return; fi
  if ! grep -qF -- "$2" <<<"$out"; then echo "FAIL $1: stderr lacks: $2"; echo "$out" | head -5; fail=1; return; fi
  echo "ok $1"
}

copy; echo '{ "version": 1, "entries": [' > "$work/data/bot/knowledge/treatment.json"
expect "broken JSON" "bot/knowledge/treatment.json: [json.exception.parse_error.101]"

copy; sed -i 's/"symptom_report",/"symptom_reprot",/' "$work/data/dialogs/data/triage.json"
expect "unknown intent in dialog" 'dialogs/data/triage.json: intents: unknown intent "symptom_reprot"'

copy; sed -i 's/"kneecaps?"/"knee(caps?"/' "$work/data/intents/data/concepts.json"
expect "invalid RE2 pattern" 'intents/data/concepts.json: concept "knee" pattern 2: invalid RE2 pattern: missing )'

copy; rm "$work/data/intents/data/vocabulary.json"
expect "missing file" "vocabulary.json: required data file is missing"

if [ $fail -ne 0 ]; then exit 1; fi
echo "all bad-data checks passed"
