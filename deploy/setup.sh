#!/usr/bin/env bash
# runbot set-up on a fresh Debian 12 machine.
#   deploy/setup.sh run    install what is missing, build, start runbot serve (SQLite)
#   deploy/setup.sh test   install what is missing, build, run every test, then the
#                          sanitizer run: ASan+UBSan and TSan builds, their tests and
#                          every fuzzer for 60 s (tests/sanitize/run.sh; ~25 min more)
#   deploy/setup.sh build  install what is missing and build only
#   deploy/setup.sh sanitize  the sanitizer run alone
# Environment: BUILD_DIR (default build), JOBS (default: number of cores),
# SANITIZE=0 (test without the sanitizer run: for a quick local check only;
# CI runs everything).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}
build_dir=${BUILD_DIR:-build}
jobs=${JOBS:-$(nproc)}

# Installs every package of deploy/packages.txt that is missing: build, test
# and runtime alike (the second column says which; the Dockerfile reads it).
install_missing() {
  local missing=() pkg _
  local uses
  while read -r pkg uses; do
    [[ -z "$pkg" || "$pkg" == \#* ]] && continue
    # clang and friends only for the runs that use them.
    [[ "$uses" == sanitize && "$mode" != sanitize && "$mode" != test ]] && continue
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done < deploy/packages.txt
  if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

build() {
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build_dir" -j "$jobs"
}

install_missing
build
case "$mode" in
  build) ;;
  sanitize) exec bash tests/sanitize/run.sh ;;
  run)
    # The server with its embedded default store: a SQLite file it creates.
    echo "runbot: open http://${RUNBOT_HOST:-127.0.0.1}:${RUNBOT_PORT:-8080}/ or run: $build_dir/runbot chat"
    exec "$build_dir/runbot" serve ;;
  test)
    # Figures first (for people), then the tests, then the sanitizer run;
    # a failure in one part still lets the next run, and fails the whole.
    "$build_dir/tests/engine_bench" --seconds 1
    status=0
    tests=passed sanitizers="skipped (SANITIZE=0)"
    ctest --test-dir "$build_dir" -j "$jobs" --output-on-failure || { status=1; tests=FAILED; }
    if [[ ${SANITIZE:-1} != 0 ]]; then
      sanitizers=passed
      bash tests/sanitize/run.sh || { status=1; sanitizers=FAILED; }
    fi
    echo "setup: tests $tests, sanitizer run $sanitizers"
    exit "$status" ;;
  *) echo "usage: deploy/setup.sh run|test|build|sanitize" >&2; exit 2 ;;
esac
