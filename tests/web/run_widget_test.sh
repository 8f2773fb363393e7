#!/usr/bin/env bash
# Runs the browser test of the web widget against a real runbot serve:
# installs chromium and playwright-core when missing, starts the server on a
# free port with a temporary database, and gives the test a command that
# restarts the server on the same port and store.
set -u
bin=${1:?runbot binary}
root=${2:?source root}
cd "$root"
if ! command -v chromium >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || { echo "FAIL cannot install chromium"; exit 1; }
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null || { echo "FAIL cannot install node"; exit 1; }
fi
if [ ! -d tests/web/node_modules/playwright-core ]; then
  npm install --prefix tests/web --no-audit --no-fund --silent >/dev/null 2>&1 || { echo "FAIL npm install playwright-core"; exit 1; }
fi
work=$(mktemp -d)
cleanup() { [ -f "$work/pid" ] && kill "$(cat "$work/pid")" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

RUNBOT_BIN=$bin
. tests/lib/serve.sh
start_runbot "$work/log" --data "$root" --db "$work/db" --rate-limit 0 || exit 1
echo "$RUNBOT_PID" >"$work/pid"
port=$RUNBOT_PORT
restart="pid=\$(cat $work/pid); kill \$pid; while kill -0 \$pid 2>/dev/null; do sleep 0.1; done; \
$bin --data $root serve --port $port --db $work/db --rate-limit 0 >>$work/log 2>&1 & echo \$! > $work/pid"
node tests/web/widget_test.mjs --url "http://127.0.0.1:$port" --restart-cmd "$restart"
