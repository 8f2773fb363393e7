#!/usr/bin/env bash
# runbot chat URL against a real runbot serve: piped use, session resume from
# the saved token, /reset; then interactive use in a pseudo-terminal (tmux)
# with libedit: typing a number picks a quick reply, the triage banner shows.
set -u
bin=${1:?runbot binary}
root=${2:?source root}
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; tmux -L runbot-test kill-server 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail=0
ok() { echo "ok $1"; }
bad() { echo "FAIL $1"; fail=1; }

RUNBOT_BIN=$bin
. "$root/tests/lib/serve.sh"
start_runbot "$work/log" --data "$root" --db "$work/db" || exit 1
server=$RUNBOT_PID
port=$RUNBOT_PORT
url="ws://127.0.0.1:$port/chat"
export XDG_CONFIG_HOME="$work/config"

out=$(printf 'the back of my knee hurts after running\n3\n' | "$bin" chat "$url")
grep -q "you> No" <<<"$out" && grep -q "lock, catch" <<<"$out" && ok "piped chat, a number picks a quick reply" || { bad "piped chat"; echo "$out"; }
grep -q "$url" "$XDG_CONFIG_HOME/runbot/sessions.json" && ok "token saved under the config directory" || bad "token saved"
perms=$(stat -c %a "$XDG_CONFIG_HOME/runbot/sessions.json")
[ "$perms" = "600" ] && ok "token file is private (600)" || bad "token file mode $perms"

out=$(printf 'no\n' | "$bin" chat "$url")
grep -q "numbness, tingling" <<<"$out" && ok "a new run resumes the dialog where it was" || { bad "resume"; echo "$out"; }

out=$(printf '/reset\nhi\n' | "$bin" chat "$url")
grep -q "(started over)" <<<"$out" && grep -q "I'm runbot" <<<"$out" && ok "/reset starts over" || { bad "/reset"; echo "$out"; }

if command -v tmux >/dev/null; then
  tmux -L runbot-test new-session -d -x 120 -y 40 "XDG_CONFIG_HOME=$XDG_CONFIG_HOME $bin chat $url"
  screen() { tmux -L runbot-test capture-pane -p; }
  wait_for() {  # wait_for TEXT: poll the screen until TEXT shows (bounded)
    for _ in $(seq 1 100); do screen | grep -qF -- "$1" && return 0; sleep 0.05; done
    return 1
  }
  wait_for "you>" || bad "interactive prompt"
  tmux -L runbot-test send-keys "my knee keeps giving way and the back aches" Enter
  wait_for "See a doctor or physio soon" && ok "interactive: triage banner shows" || { bad "interactive banner"; screen; }
  tmux -L runbot-test send-keys "3" Enter
  wait_for "you> No" || wait_for "numbness" && ok "interactive: typed number picks the quick reply" || { bad "interactive quick reply"; screen; }
  tmux -L runbot-test send-keys Up
  recalled=no
  for _ in $(seq 1 40); do
    screen | grep -v '^$' | tail -1 | grep -q "you> 3" && { recalled=yes; break; }
    sleep 0.05
  done
  [ $recalled = yes ] && ok "interactive: libedit history (Up recalls the last line)" || { bad "history"; screen | grep -v '^$' | tail -3; }
  tmux -L runbot-test send-keys C-u "/quit" Enter
else
  echo "tmux missing: interactive checks not run (counted as failure)"; fail=1
fi
exit $fail
