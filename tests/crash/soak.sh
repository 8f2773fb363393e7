#!/usr/bin/env bash
# soak: runbot serve under steady load for a while, sampled every interval:
# resident memory, open file descriptors, threads, reply latency (p50/p99
# of the interval, from the /metrics histogram) and the database's size.
# Ends with a table and a verdict per resource: flat or growing, with the
# least-squares slope over the samples after the first minute (start-up
# and cache warm-up excluded).
#
#   tests/crash/soak.sh [--minutes 10] [--interval 20] [--build build]
#                       [--conversations 100] [--think-ms 500]
#
# The load is conversation_driver in a loop: each round is --conversations
# new sessions through a whole script with --think-ms between turns (about
# conversations / think messages per second), each round checked as the
# crash test checks (a failed round is counted and reported). So sessions
# pile up in the database the way real ones do. Loopback only; not part of
# ctest (it takes minutes); exit 0 iff every round passed and nothing grew.
set -euo pipefail
cd "$(dirname "$0")/../.."
minutes=10 interval=20 build=build conversations=100 think_ms=500
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --conversations) conversations=$2; shift 2 ;;
    --think-ms) think_ms=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
driver=$build/tests/tools/conversation_driver
work=$(mktemp -d)
server_pid="" load_pid=""
cleanup() {
  # The loop's running driver too, or it would retry for --give-up-s.
  if [ -n "$load_pid" ]; then touch "$work/stop"; pkill -P "$load_pid" 2>/dev/null || true; fi
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

RUNBOT_BIN=$build/runbot
. tests/lib/serve.sh
# In a condition, as set -e must not act inside the helper's polling loop.
start_runbot "$work/serve.log" --db "$work/soak.db" --rate-limit 0 || exit 1
server_pid=$RUNBOT_PID
url=ws://127.0.0.1:$RUNBOT_PORT/chat
metrics_url=http://127.0.0.1:$RUNBOT_PORT/metrics

# The load: rounds back to back until the stop file appears; the round
# running then finishes, so every round counts.
(
  while [ ! -e "$work/stop" ]; do
    if "$driver" --url "$url" --conversations "$conversations" --think-ms "$think_ms" \
        >>"$work/rounds.out" 2>>"$work/rounds.err"; then
      echo ok >>"$work/rounds.status"
    else
      echo failed >>"$work/rounds.status"
    fi
  done
) &
load_pid=$!

# metrics: prints "messages open_connections bucket_le=count ..." of the
# reply latency histogram, on one line.
metrics() {
  python3 - "$metrics_url" <<'EOF'
import re, sys, urllib.request
text = urllib.request.urlopen(sys.argv[1], timeout=5).read().decode()
val = lambda name: re.search(r"^" + name + r" (\S+)$", text, re.M).group(1)
buckets = re.findall(r'^runbot_reply_latency_seconds_bucket\{le="([^"]+)"\} (\S+)$', text, re.M)
print(val("runbot_messages_total"), val("runbot_open_connections"),
      " ".join(f"{le}={n}" for le, n in buckets))
EOF
}
# quantiles PREV CUR: p50 and p99 in ms of the messages between two samples,
# interpolated within buckets the way Prometheus' histogram_quantile does.
quantiles() {
  python3 - "$1" "$2" <<'EOF'
import sys
def parse(line):
    parts = line.split()[2:]
    return [(float(le) if le != "+Inf" else float("inf"), float(n)) for le, n in (p.split("=") for p in parts)]
prev, cur = parse(sys.argv[1]), parse(sys.argv[2])
delta = [(le, c - p) for (le, c), (_, p) in zip(cur, prev)]
total = delta[-1][1]
def q(f):
    if total <= 0: return float("nan")
    rank, lo, below = f * total, 0.0, 0.0
    for le, n in delta:
        if n >= rank:
            if le == float("inf"): return lo * 1000
            return (lo + (le - lo) * (rank - below) / max(n - below, 1e-9)) * 1000
        lo, below = le, n
    return lo * 1000
print(f"{q(0.5):.2f} {q(0.99):.2f}")
EOF
}

samples=$work/samples.txt
echo "soak: $minutes min, sample every $interval s, $conversations conversations per round, think $think_ms ms, server pid $server_pid"
printf "%7s %8s %5s %8s %6s %8s %6s %8s %8s %8s %6s\n" t_s rss_mb fds sockets other threads conns msg_s p50_ms p99_ms db_mb
start=$SECONDS
prev=$(metrics)
prev_t=$SECONDS
end=$((start + minutes * 60))
next=$start
while [ $SECONDS -lt $end ]; do
  next=$((next + interval))
  # The sampling period (not a wait for an event), less the sampling's own time.
  [ $next -le $SECONDS ] || sleep $((next - SECONDS))
  kill -0 "$server_pid" 2>/dev/null || { echo "FAIL: the server died" >&2; tail -n 20 "$work/serve.log" >&2; exit 1; }
  cur=$(metrics)
  now=$SECONDS
  rss=$(awk '/^VmRSS:/ {printf "%.1f", $2/1024}' "/proc/$server_pid/status")
  threads=$(awk '/^Threads:/ {print $2}' "/proc/$server_pid/status")
  # One listing for both counts, as connections come and go meanwhile.
  # Sockets follow the load; the other descriptors (database files, pipes,
  # epoll, eventfds) should not move at all.
  read -r fds sockets < <(find "/proc/$server_pid/fd" -mindepth 1 -maxdepth 1 -printf '%l\n' 2>/dev/null |
    awk '{n++} /^socket:/ {s++} END {print n + 0, s + 0}')
  set -- $cur
  msgs=$1 conns=$2
  set -- $prev
  rate=$(( (msgs - $1) / (now - prev_t > 0 ? now - prev_t : 1) ))
  read -r p50 p99 <<<"$(quantiles "$prev" "$cur")"
  db_mb=$(du -cm "$work"/soak.db* | awk 'END {print $1}')
  other=$((fds - sockets))
  t=$((now - start))
  printf "%7d %8s %5d %8d %6d %8d %6d %8d %8s %8s %6s\n" "$t" "$rss" "$fds" "$sockets" "$other" "$threads" "$conns" "$rate" "$p50" "$p99" "$db_mb"
  echo "$t $rss $fds $sockets $other $threads $p50 $p99 $db_mb" >>"$samples"
  prev=$cur prev_t=$now
done

touch "$work/stop"
wait "$load_pid"
load_pid=""
ok=$(grep -c '^ok$' "$work/rounds.status" 2>/dev/null || true)
bad=$(grep -c '^failed$' "$work/rounds.status" 2>/dev/null || true)
turns=$(sed -nE 's/.*"turns":([0-9]+).*/\1/p' "$work/rounds.out" | awk '{s += $1} END {print s + 0}')
echo "rounds: $ok passed, $bad failed; $turns turns"
[ "${bad:-0}" -eq 0 ] || { echo "failed rounds:" >&2; grep -v '^progress' "$work/rounds.err" | head -n 20 >&2; }

# Verdict: slope per minute by least squares over samples after the first
# minute. Growing means the fitted line rises, over the whole soak, by more
# than the threshold: 2 MB or 5% for memory, 3 for non-socket descriptors
# and threads, 50% for p99 (latency is noisy on a shared machine). Sockets,
# p50 and the database are reported, not judged.
verdict=$(awk -v minutes="$minutes" '
  $1 >= 60 { n++; t[n] = $1 / 60; for (c = 2; c <= 9; c++) v[c, n] = $c }
  function slope(c,   i, st, sv, stt, stv, mt, mv) {
    for (i = 1; i <= n; i++) { st += t[i]; sv += v[c, i] }
    mt = st / n; mv = sv / n; mean[c] = mv
    for (i = 1; i <= n; i++) { stt += (t[i] - mt) ^ 2; stv += (t[i] - mt) * (v[c, i] - mv) }
    return stt > 0 ? stv / stt : 0
  }
  function judge(name, c, unit, abs_limit, rel_limit,   s, rise, limit, word) {
    s = slope(c); rise = s * minutes; limit = abs_limit
    if (rel_limit * mean[c] > limit) limit = rel_limit * mean[c]
    word = rise > limit ? "GROWING" : "flat"
    if (word == "GROWING") grew = 1
    printf "%-9s %-7s slope %+.3f %s/min (fitted rise over %d min %+.2f, limit %.2f; mean %.2f)\n", name, word, s, unit, minutes, rise, limit, mean[c]
  }
  END {
    if (n < 3) { print "too few samples after the first minute for a verdict"; exit 2 }
    judge("rss", 2, "MB", 2, 0.05); judge("other_fds", 5, "", 3, 0); judge("threads", 6, "", 3, 0)
    judge("p99", 8, "ms", 0, 0.5)
    printf "%-9s %-7s slope %+.3f /min (mean %.2f; follow the open connections)\n", "sockets", "-", slope(4), mean[4]
    printf "%-9s %-7s slope %+.3f ms/min (mean %.2f)\n", "p50", "-", slope(7), mean[7]
    printf "%-9s %-7s slope %+.3f MB/min (mean %.2f)\n", "db", "grows", slope(9), mean[9]
    exit grew
  }' "$samples") && grew=0 || grew=$?
echo "$verdict"
echo "(db grows by design: every round adds $conversations sessions, kept for --session-expiry-days)"
kill -TERM "$server_pid"
wait "$server_pid" || { echo "FAIL: the server did not stop cleanly" >&2; exit 1; }
server_pid=""
[ "$grew" -eq 0 ] && [ "${bad:-0}" -eq 0 ] && echo "PASS" && exit 0
echo "FAIL"
exit 1
