#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang-16, ASan+UBSan, its own build directory) and runs each
# for SECONDS (default 60) on a copy of its checked-in corpus. Installs clang-16 and
# libfuzzer-16-dev with apt-get when missing. docs/robustness.md explains the properties.
#   scripts/fuzz.sh [SECONDS]          all harnesses
#   HARNESSES="request_head" scripts/fuzz.sh 300
# Environment: FUZZ_BUILD_DIR (default build-fuzz), FUZZ_WORK (default $FUZZ_BUILD_DIR/work:
# the grown corpora and any crash-*/leak-* inputs). A finding stops that harness and fails the
# script; copy the input into tests/fuzz/corpus/<harness>/ once fixed, so the normal build's
# fuzz_replay.<harness> test keeps it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
build_dir=${FUZZ_BUILD_DIR:-build-fuzz}
work=${FUZZ_WORK:-$build_dir/work}
harnesses=${HARNESSES:-"request_head response_head proxy_config backend_script scenario action_grammar"}

packages=(clang-16 libfuzzer-16-dev libclang-rt-16-dev llvm-16 cmake make libboost1.81-dev
          libssl-dev libyaml-cpp-dev nlohmann-json3-dev libcli11-dev ccache)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "fuzz: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
cmake -S . -B "$build_dir" -DALBSIM_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++-16 -DCMAKE_C_COMPILER=clang-16 >/dev/null
cmake --build "$build_dir" -j2

export ASAN_SYMBOLIZER_PATH=/usr/bin/llvm-symbolizer-16
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
status=0
printf '%-16s %10s %12s %8s %s\n' harness exec/s executions corpus result
for h in $harnesses; do
  mkdir -p "$work/$h" "$work/artifacts/$h"
  log="$work/$h.log"
  # The checked-in corpus seeds the run; new inputs go to the work copy, not the source tree.
  # -timeout: one input over 10 s is a hang (a finding); -rss_limit_mb: memory bounded.
  if "$build_dir/fuzz_$h" "$work/$h" "tests/fuzz/corpus/$h" -max_total_time="$seconds" \
      -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
      -artifact_prefix="$work/artifacts/$h/" >"$log" 2>&1; then
    result=ok
  else
    result="FINDING (see $log, input in $work/artifacts/$h/)"
    status=1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  corpus=$(ls "$work/$h" | wc -l)
  printf '%-16s %10s %12s %8s %s\n' "$h" "${rate:-?}" "${execs:-?}" "$corpus" "$result"
done
exit $status
