#!/usr/bin/env bash
# The sanitizer run: the asan preset (AddressSanitizer + UndefinedBehavior-
# Sanitizer, clang-14) builds and runs every test but the browser test, then
# every fuzz target for FUZZ_SECONDS each from the same build; the tsan
# preset (ThreadSanitizer) builds and runs the server, protocol and
# Telegram tests. One timing line per step; exit 1 if any step failed.
#   tests/sanitize/run.sh [asan] [fuzz] [tsan]      (default: all three)
# Environment: JOBS (default: number of cores), FUZZ_SECONDS (default 60).
# Build directories: build-asan and build-tsan (CMakePresets.json).
set -uo pipefail
cd "$(dirname "$0")/../.."
jobs=${JOBS:-$(nproc)}
fuzz_seconds=${FUZZ_SECONDS:-60}
parts=("$@")
((${#parts[@]})) || parts=(asan fuzz tsan)

# ccache, when installed, makes a rebuild after a small change take seconds.
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
fi

failed=()
total_start=$SECONDS
# step NAME COMMAND...: runs the command, prints its wall time and result.
step() {
  local name=$1 start=$SECONDS status
  shift
  echo "sanitize: $name: $*"
  "$@"
  status=$?
  printf 'sanitize: %-12s %s in %d s\n' "$name" "$( ((status == 0)) && echo ok || echo "FAILED (exit $status)")" \
    $((SECONDS - start))
  ((status == 0)) || failed+=("$name")
  return "$status"
}

# The sanitizers' own settings; the test presets set the same for ctest.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

has() { [[ " ${parts[*]} " == *" $1 "* ]]; }

if has asan || has fuzz; then
  if step asan-config cmake --preset asan --log-level=WARNING "${launcher[@]}" &&
     step asan-build cmake --build --preset asan -j "$jobs"; then
    has asan && step asan-test ctest --preset asan -j "$jobs"
    has fuzz && step fuzz tests/fuzz/run.sh build-asan "$fuzz_seconds"
  fi
fi
if has tsan; then
  if step tsan-config cmake --preset tsan --log-level=WARNING "${launcher[@]}" &&
     step tsan-build cmake --build --preset tsan -j "$jobs"; then
    step tsan-test ctest --preset tsan -j "$jobs"
  fi
fi

printf 'sanitize: %-12s %s in %d s\n' total "$( ((${#failed[@]} == 0)) && echo ok || echo "FAILED: ${failed[*]}")" \
  $((SECONDS - total_start))
((${#failed[@]} == 0))
