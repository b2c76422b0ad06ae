#!/usr/bin/env bash
# Soak: mixed and hostile traffic through `albsim serve` from 16 concurrent clients for SECONDS
# (default 60); fails when the proxy dies, a record is lost or doubled, a log line is not JSON,
# or RSS / open descriptors do not return to their level after warm-up (bench/soak.py).
#   bench/soak.sh [SECONDS]        (builds albsim first if needed; BUILD_DIR, default build)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
build_dir=${BUILD_DIR:-build}
[ -x "$build_dir/albsim" ] || scripts/setup.sh build
python3 bench/soak.py "$build_dir/albsim" "$seconds"
