#!/usr/bin/env bash
# Slow-header attack (bench/slow_clients.py): 2,000 connections each sending one header byte per
# second against `albsim serve`, a steady client's p99 under attack vs unloaded (median of
# rounds), and one 408 answer and record per slow connection.
#   bench/slow_clients.sh [CONNECTIONS] [ROUNDS]     (BUILD_DIR, default build)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
[ -x "$build_dir/albsim" ] || scripts/setup.sh build
python3 bench/slow_clients.py "$build_dir/albsim" "${1:-2000}" "${2:-3}"
