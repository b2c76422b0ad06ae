#!/usr/bin/env bash
# ThreadSanitizer run (docs/robustness.md): builds albsim and the proxy and backend test suites
# with -DALBSIM_SANITIZE=thread in their own build directory, then runs them with every test
# proxy on 4 worker threads and every test backend on 4 threads (ALBSIM_TEST_WORKERS=4), so the
# parts shared across workers — access-log writer, health checks, QPS limiters, server groups,
# upstream pools, the retry kit's plans, journal, metrics and admin changes — run concurrently.
# Any TSan report fails the run.
#   scripts/tsan.sh        Environment: BUILD_DIR (default build-tsan), TESTS (the suites)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build-tsan}
tests=${TESTS:-"proxy_integration_test proxy_upstream_test proxy_routing_test health_checker_test backend_http_test backend_actions_test backend_transport_test hostile_clients_test retry_kit_test admin_runtime_test fault_injection_test"}

# Needs the normal build's packages (g++ brings libtsan2): run scripts/setup.sh once first.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DALBSIM_SANITIZE=thread >/dev/null
# shellcheck disable=SC2086
cmake --build "$build_dir" -j2 --target albsim $tests

export ALBSIM_TEST_WORKERS=4
# Report every race (exitcode 66 marks a run with reports even when the tests pass).
export TSAN_OPTIONS=${TSAN_OPTIONS:-"second_deadlock_stack=1 exitcode=66"}
status=0
for t in $tests; do
  if "$build_dir/tests/$t" --gtest_brief=1 >"$build_dir/$t.tsan.log" 2>&1; then
    echo "tsan: $t ok"
  else
    echo "tsan: $t FAILED (exit $?; see $build_dir/$t.tsan.log)"
    grep -m3 -A12 'WARNING: ThreadSanitizer' "$build_dir/$t.tsan.log" || true
    status=1
  fi
done
exit $status
