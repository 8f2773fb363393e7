# Sourced by shell tests and benchmarks: start `runbot serve` on a free
# loopback port and wait for its "listening" log line (no fixed sleeps).
#   start_runbot LOG ARGS...   -> sets RUNBOT_PID and RUNBOT_PORT; returns 1 if it did not start
# ARGS go to `runbot serve` (e.g. --data DIR --db FILE --rate-limit 0);
# RUNBOT_BIN names the binary; RUNBOT_START_PORT, when set, a fixed port
# (a restart on the port of an earlier start; default 0, a free port).
# LOG should be a new file: the first "listening" line in it is taken.
start_runbot() {
  local log=$1; shift
  "$RUNBOT_BIN" serve --host 127.0.0.1 --port "${RUNBOT_START_PORT:-0}" "$@" >>"$log" 2>&1 &
  RUNBOT_PID=$!
  RUNBOT_PORT=""
  local _
  for _ in $(seq 1 200); do
    RUNBOT_PORT=$(grep -m1 '"event":"listening"' "$log" 2>/dev/null | sed -E 's/.*"port":([0-9]+).*/\1/')
    [ -n "$RUNBOT_PORT" ] && return 0
    kill -0 "$RUNBOT_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "runbot serve did not start:" >&2
  cat "$log" >&2
  return 1
}
