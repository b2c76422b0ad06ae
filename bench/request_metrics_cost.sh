#!/usr/bin/env bash
# The per-record cost of request_metrics::observe (the /metrics counts, on every request's path)
# as it is in several commits, side by side: each commit's request_metrics.{hpp,cpp} is built
# with bench/request_metrics_cost.cpp, and the binaries run in rotating rounds; prints medians.
# Usage: bench/request_metrics_cost.sh [rounds, default 7] COMMIT...
#   e.g. bench/request_metrics_cost.sh 7 d562299 0ddac48 HEAD  (hand-formatted exposition;
#        prometheus-cpp counters per request; prometheus-cpp filled at scrape)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=7
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then rounds=$1; shift; fi
(($#)) || { echo "usage: $0 [rounds] COMMIT..." >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for rev in "$@"; do
  mkdir -p "$tmp/$rev"
  for f in hpp cpp; do git show "$rev:proxy/src/request_metrics.$f" >"$tmp/$rev/request_metrics.$f"; done
  g++ -O2 -std=c++20 -I "$tmp/$rev" -I proxy/src -I common/include bench/request_metrics_cost.cpp \
    "$tmp/$rev/request_metrics.cpp" -lfmt -lprometheus-cpp-core -lpthread -o "$tmp/$rev/bench"
done
for _ in $(seq 1 "$rounds"); do
  for rev in "$@"; do "$tmp/$rev/bench" | sed "s/^/$rev /"; done
done | python3 -c '
import sys, statistics, collections
v = collections.defaultdict(list)
for line in sys.stdin:
    name, ns = line.rsplit(":", 1)
    v[name].append(float(ns.split()[0]))
for name, xs in v.items():
    print(f"{name}: median {statistics.median(xs):.0f} ns per record ({len(xs)} rounds)")'
