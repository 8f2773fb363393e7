#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each, two at a time (CI has two cores),
# on a corpus seeded from the eval sets and the data files.
#   tests/fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
# BUILD_DIR is a build with RUNBOT_FUZZ on (cmake --preset asan). Fails
# (exit 1) on any crash, leak, timeout (one input over 10 s) or out-of-memory
# (over 2 GB), and prints the reproducer's path. The corpus grows in
# BUILD_DIR/fuzz/corpus/TARGET across runs; logs are in BUILD_DIR/fuzz/logs.
set -uo pipefail

if (($# < 2)); then
  echo "usage: tests/fuzz/run.sh BUILD_DIR SECONDS [TARGET...]" >&2
  exit 2
fi
build_dir=$(cd "$1" && pwd) || exit 2
seconds=$2
shift 2
src_dir=$(cd "$(dirname "$0")/../.." && pwd)
fuzz_dir="$src_dir/tests/fuzz"
targets=("$@")
((${#targets[@]})) || targets=(protocol_frame_fuzzer engine_fuzzer data_loader_fuzzer telegram_update_fuzzer)

work="$build_dir/fuzz"
mkdir -p "$work/seeds" "$work/logs"
python3 "$fuzz_dir/make_corpus.py" "$src_dir" "$work/seeds" || exit 1

# Stack traces need llvm-symbolizer; Debian installs it versioned.
if [[ -z "${ASAN_SYMBOLIZER_PATH:-}" ]] && ! command -v llvm-symbolizer >/dev/null; then
  for s in /usr/bin/llvm-symbolizer-14 /usr/lib/llvm-14/bin/llvm-symbolizer; do
    [[ -x $s ]] && export ASAN_SYMBOLIZER_PATH=$s && break
  done
fi
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

run_one() {
  local target=$1 bin="$build_dir/tests/fuzz/$1"
  local corpus="$work/corpus/$target" artifacts="$work/artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  local inputs=("$corpus")
  for dir in "$work/seeds/$target" "$fuzz_dir/seeds/$target" "$fuzz_dir/regressions/$target"; do
    [[ -d $dir ]] && inputs+=("$dir")
  done
  # The first directory is the one libFuzzer adds new inputs to; the others
  # are only read. Artifacts (crash-*, leak-*, timeout-*, oom-*) are the
  # reproducers.
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -detect_leaks=1 \
    -dict="$fuzz_dir/json.dict" -artifact_prefix="$artifacts/" -print_final_stats=1 \
    "${inputs[@]}" >"$work/logs/$target.log" 2>&1
}

report() {
  local target=$1 status=$2 log="$work/logs/$1.log"
  local execs per_sec cov
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  per_sec=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  printf 'fuzz: %-24s %s  %s execs  %s exec/s  %s\n' "$target" \
    "$( ((status == 0)) && echo ok || echo "FAILED (exit $status)")" "${execs:-?}" "${per_sec:-?}" "${cov:-cov: ?}"
  if ((status != 0)); then
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*FUZZ_CHECK failed|.*runtime error|ALARM|.*Test unit written)' "$log" | head -20 | sed 's/^/  /'
    find "$work/artifacts/$target" -type f -newer "$work/started" | while read -r f; do
      echo "  reproducer: $f (rerun: $build_dir/tests/fuzz/$target $f)"
    done
    echo "  log: $log"
  fi
}

failed=0
touch "$work/started"  # reproducers newer than this are this run's
# Two at a time: start a pair, wait for both, report, next pair.
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  pair=("${targets[@]:i:2}")
  pids=()
  for t in "${pair[@]}"; do
    if [[ ! -x "$build_dir/tests/fuzz/$t" ]]; then
      echo "fuzz: $t is not built in $build_dir (configure with -DRUNBOT_FUZZ=ON)" >&2
      exit 2
    fi
    run_one "$t" &
    pids+=($!)
  done
  for k in "${!pair[@]}"; do
    wait "${pids[k]}"
    status=$?
    report "${pair[k]}" "$status"
    ((status == 0)) || failed=1
  done
done
exit "$failed"
