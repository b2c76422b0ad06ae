#!/usr/bin/env bash
# The retry kit's cost per request on the proxy's hot path, measured in isolation (the shared VM
# makes end-to-end throughput drift by tens of percent, far more than the effect): the injection
# stage for a request without X-Albsim-Cause and no plan armed, the journal entry and the metrics
# update, each run 2,000,000 times on one thread, in rotating rounds; prints the medians.
# Usage: bench/retry_kit_overhead.sh [rounds, default 5]   (needs a build in build/)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
[ -f build/proxy/libalbsim_proxy.a ] || scripts/setup.sh build
bin=$(mktemp)
trap 'rm -f "$bin"' EXIT
g++ -O2 -std=c++20 -DBOOST_ASIO_NO_DEPRECATED -I proxy/src -I proxy/include -I common/include \
  -I backends/include bench/retry_kit_overhead.cpp build/proxy/libalbsim_proxy.a \
  build/backends/libalbsim_backends.a build/common/libalbsim_common.a \
  -lyaml-cpp -lspdlog -lfmt -lprometheus-cpp-core -lssl -lcrypto -lpthread -o "$bin"
for _ in $(seq 1 "$rounds"); do "$bin"; done | python3 -c '
import sys, statistics, collections
v = collections.defaultdict(list)
for line in sys.stdin:
    name, ns = line.rsplit(":", 1)
    v[name].append(float(ns.split()[0]))
for name, xs in v.items():
    print(f"{name}: median {statistics.median(xs):.0f} ns per request ({len(xs)} rounds)")
print(f"total: {sum(statistics.median(xs) for xs in v.values()):.0f} ns per request")'
