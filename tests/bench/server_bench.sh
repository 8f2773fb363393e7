#!/usr/bin/env bash
# server_bench: runbot serve (SQLite) against a bare Beast echo server built
# from the same sources (runbot serve --echo), same flags, same load:
# load_gen closed-loop at 100 connections with the dev-set texts. Also 10,000
# idle WebSocket sessions for memory per session, and idle RSS.
#
#   tests/bench/server_bench.sh [--seconds 10] [--conns 100] [--idle 10000] [--build build]
# Loopback only; every server it starts is stopped when it exits.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=10 conns=100 idle=10000 build=build threads_list="1 2"
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --conns) conns=$2; shift 2 ;;
    --idle) idle=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --threads) threads_list=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
bin=$build/runbot
gen=$build/tests/load_gen
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

RUNBOT_BIN=$bin
. tests/lib/serve.sh
# start_server NAME ARGS... : runbot serve on a free port; sets PORT and PID
start_server() {
  local name=$1; shift
  start_runbot "$work/$name.log" --db "$work/$name.db" --rate-limit 0 "$@" || return 1
  PID=$RUNBOT_PID PORT=$RUNBOT_PORT
  pids+=("$PID")
}
stop_server() { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

echo "runbot server benchmark: $conns connections, ${seconds}s each, closed loop, dev-set texts"
for threads in $threads_list; do
  start_server echo$threads --echo --threads "$threads"
  echo_line=$("$gen" --url "ws://127.0.0.1:$PORT/chat" --conns "$conns" --seconds "$seconds" --server-pid "$PID")
  stop_server
  start_server bot$threads --threads "$threads"
  idle_rss=$(rss_mb "$PID")
  bot_line=$("$gen" --url "ws://127.0.0.1:$PORT/chat" --conns "$conns" --seconds "$seconds" --server-pid "$PID")
  stop_server
  echo_rate=$(sed -E 's/.* ([0-9]+) msg\/s.*/\1/' <<<"$echo_line")
  bot_rate=$(sed -E 's/.* ([0-9]+) msg\/s.*/\1/' <<<"$bot_line")
  echo_cpu=$(sed -nE 's/.*server CPU ([0-9.]+) us\/msg.*/\1/p' <<<"$echo_line")
  bot_cpu=$(sed -nE 's/.*server CPU ([0-9.]+) us\/msg.*/\1/p' <<<"$bot_line")
  echo "threads=$threads echo: $echo_line"
  echo "threads=$threads bot:  $bot_line"
  awk -v b="$bot_rate" -v e="$echo_rate" -v bc="$bot_cpu" -v ec="$echo_cpu" -v r="$idle_rss" -v t="$threads" \
    'BEGIN { printf "threads=%s bot/echo throughput %.2f, bot/echo CPU per message %.2f, bot idle RSS %s MB\n", t, b/e, bc/ec, r }'
done

if [ "$idle" -gt 0 ]; then
  start_server idle --threads 1 --max-connections $((idle + 100))
  "$gen" --url "ws://127.0.0.1:$PORT/chat" --idle "$idle" --server-pid "$PID"
  stop_server
  start_server idle_echo --echo --threads 1 --max-connections $((idle + 100))
  echo -n "echo baseline: "
  "$gen" --url "ws://127.0.0.1:$PORT/chat" --idle "$idle" --server-pid "$PID"
  stop_server
fi
