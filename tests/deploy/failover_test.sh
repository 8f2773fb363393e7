#!/usr/bin/env bash
# The failover test of issue 5, on loopback: redis-server (deploy/redis.conf,
# AOF on), two `runbot serve --store redis://...` instances and nginx
# (deploy/nginx.conf, with ports and paths rewritten) in front.
#
#  1. A reference run of the scripted conversations against one quiet
#     server records the replies every conversation must get.
#  2. 50 conversations run concurrently through nginx; when a third of the
#     turns are done, one instance is killed with SIGKILL. Every client must
#     reconnect through nginx with its token and finish with exactly the
#     reference replies: no lost, repeated or reordered turn, no lost session.
#  3. Redis is killed (SIGKILL) and restarted from its AOF: every session
#     must still resume, at its last answered turn.
#  4. load_gen through nginx to both instances, and straight at one
#     instance: the figures are printed (a benchmark, not a pass/fail bar).
#
#   tests/deploy/failover_test.sh RUNBOT_BIN SOURCE_DIR DRIVER_BIN LOAD_GEN_BIN [--seconds N]
# Everything it starts is stopped when it exits.
set -euo pipefail
RUNBOT_BIN=$1 src=$2 driver=$3 load_gen=$4
shift 4
bench_seconds=3
[ "${1:-}" = "--seconds" ] && bench_seconds=$2

for tool in redis-server redis-cli nginx; do
  command -v "$tool" >/dev/null || { echo "failover: $tool is missing (deploy/packages.txt lists it)" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill -QUIT "$(cat "$work/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
. "$src/tests/lib/serve.sh"
scripts="$src/tests/tools/conversation_scripts.json"
fail() { echo "FAIL: $*" >&2; for f in "$work"/*.log; do echo "--- $f" >&2; tail -n 20 "$f" >&2; done; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
json_field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

# --- Redis, from deploy/redis.conf with its port and folder moved here -------
redis_port=$(free_port)
mkdir -p "$work/redis"
start_redis() {
  redis-server "$src/deploy/redis.conf" --port "$redis_port" --dir "$work/redis" --bind 127.0.0.1 \
    >>"$work/redis.log" 2>&1 &
  REDIS_PID=$!
  pids+=("$REDIS_PID")
  for _ in $(seq 1 200); do
    redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.05
  done
  fail "redis-server did not start"
}
start_redis
[ "$(redis-cli -p "$redis_port" config get appendonly | tail -n1)" = yes ] || fail "deploy/redis.conf: AOF is off"
[ "$(redis-cli -p "$redis_port" config get appendfsync | tail -n1)" = always ] || fail "deploy/redis.conf: appendfsync is not always"
store="redis://127.0.0.1:$redis_port/0"

# --- 1. reference replies from one quiet server -------------------------------
start_runbot "$work/reference.log" --db "$work/reference.db" --rate-limit 0 || fail "reference server"
ref_pid=$RUNBOT_PID
pids+=("$ref_pid")
"$driver" --url "ws://127.0.0.1:$RUNBOT_PORT/chat" --conversations 6 --scripts "$scripts" \
  --record "$work/expected.json" >"$work/reference.out" 2>>"$work/driver.log" || fail "reference run"
kill "$ref_pid"

# --- two instances on the shared Redis, nginx in front -------------------------
start_instance() {  # NAME [PORT]: sets INSTANCE_PID, INSTANCE_PORT
  RUNBOT_START_PORT=${2:-0} start_runbot "$work/$1-$(date +%s%N).log" --store "$store" --rate-limit 0 \
    --threads 1 || fail "instance $1"
  INSTANCE_PID=$RUNBOT_PID INSTANCE_PORT=$RUNBOT_PORT
  pids+=("$INSTANCE_PID")
}
start_instance a
a_pid=$INSTANCE_PID a_port=$INSTANCE_PORT
start_instance b
b_pid=$INSTANCE_PID b_port=$INSTANCE_PORT

nginx_port=$(free_port)
mkdir -p "$work/nginx-temp"
# The deployed file, with the lines that name this machine's ports and paths
# replaced (deploy/nginx.conf keeps each on a line of its own for this).
sed -E \
  -e "s|^user .*;|# user: the test's own|" \
  -e "s|^pid .*;|pid $work/nginx.pid;|" \
  -e "s|^error_log .*;|error_log $work/nginx.log warn;|" \
  -e "s|^(\s*)access_log .*;|\1access_log off;|" \
  -e "s|^(\s*)listen 80;|\1listen 127.0.0.1:$nginx_port;|" \
  -e "s|^(\s*)server 127.0.0.1:8081 |\1server 127.0.0.1:$a_port |" \
  -e "s|^(\s*)server 127.0.0.1:8082 |\1server 127.0.0.1:$b_port |" \
  -e "s|^(\s*)(client_body\|proxy\|fastcgi\|uwsgi\|scgi)_temp_path .*;|\1\2_temp_path $work/nginx-temp/\2;|" \
  -e "s|^worker_processes .*;|worker_processes 2;|" \
  "$src/deploy/nginx.conf" >"$work/nginx.conf"
grep -q "server 127.0.0.1:$a_port " "$work/nginx.conf" && grep -q "listen 127.0.0.1:$nginx_port;" "$work/nginx.conf" ||
  fail "deploy/nginx.conf no longer has the lines this test rewrites"
nginx -t -c "$work/nginx.conf" -p "$work" >>"$work/nginx.log" 2>&1 || fail "nginx -t"
nginx -c "$work/nginx.conf" -p "$work" >>"$work/nginx.log" 2>&1 || fail "nginx did not start"
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$nginx_port/healthz" >/dev/null 2>&1 && break
  sleep 0.05
done
curl -fs "http://127.0.0.1:$nginx_port/healthz" >/dev/null || fail "/healthz through nginx"
echo "failover: redis :$redis_port, instances :$a_port :$b_port, nginx :$nginx_port"

# --- 2. 50 conversations through nginx, one instance killed mid-way -----------
"$driver" --url "ws://127.0.0.1:$nginx_port/chat" --conversations 50 --scripts "$scripts" \
  --expect "$work/expected.json" --think-ms 150 --give-up-s 60 --tokens-out "$work/tokens.txt" \
  >"$work/failover.out" 2>"$work/failover.err" &
driver_pid=$!
# Kill when a third of all turns are done: conversations are then mid-dialog.
for _ in $(seq 1 600); do
  grep -qE 'progress done_turns=[0-9]+ total_turns' "$work/failover.err" 2>/dev/null &&
    awk '/progress done_turns=/ { split($2,a,"="); split($3,b,"="); if (a[2] * 3 >= b[2]) found=1 } END { exit !found }' \
      "$work/failover.err" && break
  kill -0 "$driver_pid" 2>/dev/null || break
  sleep 0.05
done
kill -0 "$driver_pid" 2>/dev/null || fail "the driver finished before the kill: $(cat "$work/failover.out")"
kill -9 "$a_pid"
echo "failover: killed instance :$a_port with SIGKILL after: $(grep progress "$work/failover.err" | tail -n1)"
driver_rc=0
wait "$driver_pid" || driver_rc=$?
summary=$(tail -n1 "$work/failover.out")
echo "failover: $summary"
[ "$driver_rc" -eq 0 ] || { cat "$work/failover.err" >&2; fail "conversations through nginx after kill -9 (driver exit $driver_rc)"; }
for field in mismatches lost_sessions duplicates failed; do
  [ "$(json_field "$summary" "$field")" = 0 ] || fail "$field is not 0"
done
[ "$(json_field "$summary" completed)" = 50 ] || fail "not every conversation completed"
[ "$(json_field "$summary" reconnects)" -gt 0 ] || fail "no client had to reconnect: the kill missed the conversations"

# --- 3. Redis killed and restarted from its AOF -------------------------------
kill -9 "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null || true
# The surviving instance notices (health 503) and recovers by itself.
for _ in $(seq 1 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$b_port/healthz")" = 503 ] && break
  sleep 0.05
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$b_port/healthz")" = 503 ] || fail "/healthz stayed 200 with Redis down"
start_redis
for _ in $(seq 1 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$b_port/healthz")" = 200 ] && break
  sleep 0.05
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$b_port/healthz")" = 200 ] || fail "/healthz did not recover after Redis came back"
start_instance a "$a_port"  # the killed instance comes back on its port
"$driver" --url "ws://127.0.0.1:$nginx_port/chat" --verify-resume "$work/tokens.txt" >"$work/resume.out" \
  2>>"$work/driver.log" || fail "sessions after the Redis restart: $(cat "$work/resume.out")"
echo "failover: after kill -9 and restart of Redis: $(tail -n1 "$work/resume.out")"

# --- 4. throughput: two instances through nginx, and one instance alone -------
one=$("$load_gen" --url "ws://127.0.0.1:$b_port/chat" --conns 50 --seconds "$bench_seconds" \
  --texts "$src/tests/eval/dev_nlu.jsonl")
two=$("$load_gen" --url "ws://127.0.0.1:$nginx_port/chat" --conns 50 --seconds "$bench_seconds" \
  --texts "$src/tests/eval/dev_nlu.jsonl")
echo "failover bench (Redis store, 50 connections, ${bench_seconds}s, figures only):"
echo "  one instance directly:       $one"
echo "  two instances through nginx: $two"
echo "failover: PASS"
