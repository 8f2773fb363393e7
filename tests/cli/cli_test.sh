#!/usr/bin/env bash
# runbot eval prints the EVAL line last; runbot chat --local works piped.
set -u
bin=${1:?runbot binary}
root=${2:?source root}
fail=0

last=$("$bin" --data "$root" eval "$root/tests/eval/dev_nlu.jsonl" "$root/tests/eval/dev_conversations.jsonl" | tail -n 1)
if [[ "$last" =~ ^EVAL\ intent_acc=[0-9]\.[0-9]{3}\ entity_acc=[0-9]\.[0-9]{3}\ redflag_recall=[0-9]\.[0-9]{3}\ emergency_recall=[0-9]\.[0-9]{3}\ oos_f1=[0-9]\.[0-9]{3}\ false_alarm=[0-9]\.[0-9]{3}\ conv_pass=[0-9]\.[0-9]{3}\ turn_pass=[0-9]\.[0-9]{3}\ n_lines=506\ n_convs=34$ ]]; then
  echo "ok eval summary line: $last"
else
  echo "FAIL eval summary line: $last"; fail=1
fi

json=$("$bin" --data "$root" eval --json "$root/tests/eval/dev_nlu.jsonl" | head -n -1)
if python3 -c 'import json,sys; d=json.load(sys.stdin); assert "intent_acc" in d and "confusion" in d' <<<"$json"; then
  echo "ok eval --json"
else
  echo "FAIL eval --json is not a JSON report"; fail=1
fi

out=$(printf 'the back of my knee hurts after running\n3\nno\n' | "$bin" --data "$root" chat --local --debug)
if grep -q "swollen" <<<"$out" && grep -q "\[1\] Yes" <<<"$out" && grep -q "intent=symptom_report" <<<"$out" \
   && grep -q "you> No" <<<"$out"; then
  echo "ok chat --local piped, numbered quick replies, --debug"
else
  echo "FAIL chat --local"; echo "$out" | head -20; fail=1
fi

if "$bin" --help | grep -q "chat" && "$bin" eval --help | grep -q -- "--show-failures"; then
  echo "ok --help"
else
  echo "FAIL --help"; fail=1
fi
"$bin" nonsense >/dev/null 2>&1; code=$?
if [ $code -eq 2 ]; then echo "ok unknown subcommand exits 2"; else echo "FAIL unknown subcommand exit $code"; fail=1; fi
exit $fail
