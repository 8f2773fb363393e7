#!/usr/bin/env bash
# crash_restart_test (issue 6): conversations run while `runbot serve` is
# killed with SIGKILL and restarted on the same port and database several
# times. Passes iff every conversation completes with the replies of a
# calm reference run (nothing acknowledged lost, no turn run twice, nothing
# out of order), every session resumes at its last answered turn, also after
# a final kill at rest, and the killed database passes PRAGMA integrity_check.
# Before the kills the server is also frozen (SIGSTOP) for longer than the
# driver's read timeout: clients reconnect and resend while their old
# connections still hold the turn, which the server then commits, so the
# retry rule must answer the resend with the stored reply.
#
#   tests/crash/crash_restart_test.sh RUNBOT_BIN DRIVER_BIN SOURCE_DIR
#       [--kills 4] [--conversations 300] [--think-ms 1000] [--freeze-s 3] [--control lose|rollback]
#
# --control checks the check: the store is made to lose what it had
# acknowledged, and the test passes iff the driver notices. `lose` deletes
# the database at every restart (sessions must come back as lost);
# `rollback` puts back, at the last restart, the files as the first kill
# left them, like a disk that ignored its flushes (replies must mismatch).
# Loopback only; every server it starts is stopped when it exits.
set -euo pipefail
bin=$1 driver=$2 src=$3
shift 3
# The think time sets the run's length (about 8 turns x think), which must
# leave room between kills for a restart and the clients' backoff (up to
# 1 s); the conversations set the load, so that turns are in flight (sent,
# or committed and not yet answered) at each kill.
kills=4 conversations=300 think_ms=1000 freeze_s=3 control=""
# The driver's read timeout; the freeze must outlast it.
timeout_s=2
while [ $# -gt 0 ]; do
  case "$1" in
    --kills) kills=$2; shift 2 ;;
    --conversations) conversations=$2; shift 2 ;;
    --think-ms) think_ms=$2; shift 2 ;;
    --freeze-s) freeze_s=$2; shift 2 ;;
    --control) control=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$kills" -ge 1 ] && [ "$kills" -le 9 ] || { echo "--kills must be 1-9" >&2; exit 2; }
case "$control" in ""|lose|rollback) ;; *) echo "--control: lose or rollback" >&2; exit 2 ;; esac
cd "$src"
work=$(mktemp -d)
server_pid="" driver_pid=""
cleanup() {
  for p in $server_pid $driver_pid; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for f in "$work"/driver.err "$work"/serve*.log; do
    [ -f "$f" ] && { echo "--- $f (last 20 lines)" >&2; tail -n 20 "$f" >&2; }
  done
  exit 1
}

RUNBOT_BIN=$bin
. tests/lib/serve.sh
scripts=tests/tools/conversation_scripts.json
db=$work/sessions.db
starts=0

# Starts the server on $port (empty: a free one, which becomes $port) with
# the test's database, in a fresh log. A restart on a fixed port is retried:
# the bind can fail while a client socket of the driver briefly holds the
# port (a loopback connect to a port with no listener may pick it as its
# own source port).
start_server() {
  local tries
  for tries in $(seq 1 20); do
    starts=$((starts + 1))
    if RUNBOT_START_PORT=${port:-0} start_runbot "$work/serve$starts.log" --db "$db" --rate-limit 0 2>/dev/null; then
      server_pid=$RUNBOT_PID port=$RUNBOT_PORT
      return 0
    fi
    wait "$RUNBOT_PID" 2>/dev/null || true
  done
  fail "runbot serve did not start on port ${port:-0} in 20 tries"
}
crash_server() {
  kill -9 "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
# Waits until the driver has printed N progress lines (N tenths of all
# turns answered), or fails once it has exited or after 60 s.
wait_for_progress() {
  local n=$1 deadline=$((SECONDS + 60))
  while [ "$(grep -c '^progress ' "$work/driver.err" 2>/dev/null || true)" -lt "$n" ]; do
    kill -0 "$driver_pid" 2>/dev/null || fail "the driver ended before $((n * 10))% of the turns; it did not span the crashes"
    [ $SECONDS -lt $deadline ] || fail "no progress to $((n * 10))% within 60 s"
    sleep 0.05
  done
}
field() { sed -nE "s/.*\"$1\":([0-9.]+).*/\1/p" "$2"; }
# Retried messages this server instance answered with the stored reply
# (the turn had been committed, its reply died with the last server).
retries() {
  local n
  n=$(curl -s --max-time 5 "http://127.0.0.1:$port/metrics" | sed -nE 's/^runbot_retries_total ([0-9]+)$/\1/p')
  echo "${n:-0}"
}
stored=0
db_files() { for f in "$db" "$db-wal"; do [ -f "$f" ] && echo "$f"; done; }

# 1. The reference: the same scripts against a server nobody disturbs.
port=""
start_server
url=ws://127.0.0.1:$port/chat
"$driver" --url "$url" --conversations 12 --scripts "$scripts" --record "$work/record.json" \
  >"$work/reference.out" 2>"$work/reference.err" || fail "reference run: $(cat "$work/reference.out")"
kill -TERM "$server_pid"
wait "$server_pid" || fail "the reference server did not stop cleanly"
rm -f "$db" "$db-wal" "$db-shm"

# 2. Under load, kill -9 at evenly spread points of the run (by answered
#    turns, not by time) and restart at once on the same port and database.
port=""
start_server
url=ws://127.0.0.1:$port/chat
echo "crash_restart: $conversations conversations, think $think_ms ms, freeze $freeze_s s, $kills kills, port $port${control:+, control $control}"
"$driver" --url "$url" --conversations "$conversations" --scripts "$scripts" --expect "$work/record.json" \
  --think-ms "$think_ms" --timeout-s "$timeout_s" --give-up-s 30 --tokens-out "$work/tokens.txt" \
  >"$work/driver.out" 2>"$work/driver.err" &
driver_pid=$!
if [ "$freeze_s" != 0 ]; then
  wait_for_progress 1
  kill -STOP "$server_pid"
  sleep "$freeze_s"  # the fault itself: a server hung for longer than the clients' timeout
  kill -CONT "$server_pid"
  echo "froze ${freeze_s}s at $(grep '^progress ' "$work/driver.err" | tail -n 1)"
fi
for k in $(seq 1 "$kills"); do
  wait_for_progress $((k * 10 / (kills + 1)))
  stored=$((stored + $(retries)))
  kill -0 "$driver_pid" 2>/dev/null || fail "the driver ended before kill $k; it did not span the crashes"
  crash_server
  echo "kill $k at $(grep '^progress ' "$work/driver.err" | tail -n 1)"
  # The files as SIGKILL left them, mid-transaction, for the integrity check.
  mkdir "$work/kill$k" && cp $(db_files) "$work/kill$k/"
  if [ "$control" = lose ]; then
    rm -f "$db" "$db-wal" "$db-shm"
  elif [ "$control" = rollback ] && [ "$k" -eq 1 ]; then
    mkdir "$work/old" && cp $(db_files) "$work/old/"
  elif [ "$control" = rollback ] && [ "$k" -eq "$kills" ]; then
    rm -f "$db" "$db-wal" "$db-shm" && cp "$work/old/"* "$work/"
  fi
  start_server
done
status=0
wait "$driver_pid" || status=$?
driver_pid=""
summary=$(cat "$work/driver.out")
stored=$((stored + $(retries)))
echo "driver: $summary"
echo "resends answered with the stored reply (turn committed, reply never received): $stored"
if [ -n "$control" ]; then
  # The check of the check: the loss must be seen, and named for what it is.
  [ "$status" -eq 1 ] || fail "control $control: driver exit $status, expected 1"
  case "$control" in
    lose) [ "$(field lost_sessions "$work/driver.out")" -gt 0 ] || fail "control lose: no lost session reported" ;;
    rollback) [ "$(field mismatches "$work/driver.out")" -gt 0 ] || fail "control rollback: no mismatch reported" ;;
  esac
  kill -TERM "$server_pid"
  wait "$server_pid" || true
  server_pid=""
  echo "PASS (control $control): the driver caught the loss"
  exit 0
fi
[ "$status" -eq 0 ] || fail "driver exit $status"
# The run must really have been disturbed: each kill cut live conversations.
[ "$(field reconnects "$work/driver.out")" -ge "$kills" ] || fail "fewer reconnects than kills: the crashes missed the load"
# After the freeze the old connections commit the turns their clients have
# given up on, and the resends must get those turns' stored replies.
[ "$freeze_s" = 0 ] || [ "$stored" -gt 0 ] || fail "no resend was answered with a stored reply after the freeze"

# 3. Every session resumes at its last answered turn ...
"$driver" --url "$url" --verify-resume "$work/tokens.txt" >"$work/verify1.out" 2>>"$work/driver.err" ||
  fail "verify-resume after the run: $(cat "$work/verify1.out")"
echo "resume after the run: $(cat "$work/verify1.out")"
# ... also after one more kill, at rest, and a restart.
crash_server
mkdir "$work/kill_at_rest" && cp $(db_files) "$work/kill_at_rest/"
start_server
"$driver" --url "$url" --verify-resume "$work/tokens.txt" >"$work/verify2.out" 2>>"$work/driver.err" ||
  fail "verify-resume after a kill at rest: $(cat "$work/verify2.out")"
echo "resume after a kill at rest: $(cat "$work/verify2.out")"

# 4. The database as each kill left it (copies, taken before the restart,
#    so the server's own recovery of the WAL is what is checked next time
#    and the check's recovery here changes nothing the server reads).
for copy in "$work"/kill*/; do
  check=$(python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(" ".join(r[0] for r in c.execute("PRAGMA integrity_check")))' "$copy$(basename "$db")")
  echo "integrity_check $(basename "$copy"): $check"
  [ "$check" = "ok" ] || fail "PRAGMA integrity_check of the files $(basename "$copy") left: $check"
done
kill -TERM "$server_pid"
wait "$server_pid" || fail "the last server did not stop cleanly"
server_pid=""
# For the record, not a verdict: what the servers logged as errors.
errors=$( (grep -h '"level":"error"' "$work"/serve*.log || true) | sed -E 's/.*"event":"([^"]*)".*/\1/' | sort | uniq -c | xargs)
echo "server log errors: ${errors:-none}"
echo "PASS: $conversations conversations through $((kills + 1)) kills; $summary"
