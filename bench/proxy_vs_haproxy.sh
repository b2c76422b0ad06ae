#!/usr/bin/env bash
# Benchmarks `albsim serve` against HAProxy 2.6 (Debian's) in one run, against the same
# `albsim backend`, and measures the proxy's memory and timing targets (issue 3):
#   1. wrk -t1 -c50 keep-alive, small responses: direct to the backend, then in rotating
#      rounds HAProxy (nbthread 1, no log) twice: as it comes, and "haproxy-alb", adding to
#      each request the two headers the balancer adds (X-Forwarded-For, a trace id), so that
#      the backend parses the same request from both proxies; and albsim (1 worker, access
#      log on, written to a file) twice: with keep-alive uncapped like HAProxy's, and
#      with the balancer's default of 100 requests per client connection (wrk then reconnects
#      every 100 requests: a cost HAProxy does not pay); and "albsim-no-log", uncapped without
#      the access log (with haproxy-alb, the pair that does the same work per request). Req/s and p99 per round, their
#      medians, and the median of the per-round ratios. A shared 2-core VM drifts by tens of
#      percent within a minute, so one run each would compare the machine's moods.
#   2. a large upload streamed through albsim to a backend that discards it: peak RSS.
#   3. 10,000 idle keep-alive client connections: albsim's RSS.
#   4. a QPS limit of L over the duration: admitted count vs L x duration.
#   5. the request timeout: how close the 504 arrives to the configured value.
# Usage: bench/proxy_vs_haproxy.sh [seconds per wrk run, default 5]
# Environment: BENCH_ROUNDS (default 8), BENCH_UPLOAD_GIB (default 10), BENCH_IDLE (default
# 10000), BENCH_QPS (default 1000); ALBSIM (the binary, default build/albsim); ALBSIM_BEFORE: a
# second binary (e.g. built from the commit before a change) that joins the rotation with the
# same uncapped config, for before/after figures from one run; BENCH_THROUGHPUT_ONLY=1 stops
# after test 1; BENCH_BACKEND=nginx puts nginx `return 200` (one worker) behind every proxy
# instead of `albsim backend`, so the proxies' figures do not depend on albsim's own backend;
# BENCH_KIT=1 turns the retry kit fully on in the "albsim" process (X-Albsim-Cause looked for,
# a fault plan armed that matches no request, the journal, the admin listener and its metrics)
# and adds "albsim-kit-off", the same binary in its own process with all of them off, for the
# kit's cost from one run (issue 9: within 3 %).
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${1:-5}
rounds=${BENCH_ROUNDS:-8}
upload_gib=${BENCH_UPLOAD_GIB:-10}
idle=${BENCH_IDLE:-10000}
qps=${BENCH_QPS:-1000}
albsim=${ALBSIM:-build/albsim}
before=${ALBSIM_BEFORE:-}

. bench/proxies.sh
missing=()
for tool in wrk haproxy curl python3; do command -v $tool >/dev/null || missing+=($tool); done
[ -x /usr/bin/time ] || missing+=(time)
if [ "${BENCH_BACKEND:-albsim}" = nginx ] && ! [ -x /usr/sbin/nginx ]; then missing+=(nginx); fi
install_missing "${missing[@]}"
[ -x "$albsim" ] || scripts/setup.sh build
start_scratch

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # user + system, all threads
tick_us=$((1000000 / $(getconf CLK_TCK)))
us_per_request() {  # TICKS REQUESTS -> µs of CPU per request
  awk -v t="$1" -v u="$tick_us" -v n="$2" 'BEGIN {printf "%.2f", t * u / n}'
}

# run_wrk NAME PORT PATH [PID] -> prints "name req/s p99 [cpu µs/request]", appends
# "req/s p99-ms cpu-µs-per-request backend-cpu wrk-cpu" to $tmp/wrk.<name> (cpu 0 without a
# PID). The proxy's CPU time per request (all its threads, from /proc) drifts less than req/s
# on a shared VM; the backend's and wrk's show what the proxy costs its peers (the three share
# the machine's two cores).
run_wrk() {
  local out c0=0 c1=0 b0 b1
  [ -n "${4:-}" ] && c0=$(cpu_ticks "$4")
  b0=$(cpu_ticks "$backend_pid")
  out=$(/usr/bin/time -f "wrk-cpu %U %S" wrk -t1 -c50 -d"${dur}s" --latency "http://127.0.0.1:$2$3" 2>&1)
  b1=$(cpu_ticks "$backend_pid")
  [ -n "${4:-}" ] && c1=$(cpu_ticks "$4")
  local rps p99 reqs cpu=0 bcpu wcpu
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  [ -n "${4:-}" ] && cpu=$(us_per_request $((c1 - c0)) "$reqs")
  bcpu=$(us_per_request $((b1 - b0)) "$reqs")
  wcpu=$(awk -v n="$reqs" '$1=="wrk-cpu" {printf "%.2f", ($2 + $3) * 1e6 / n}' <<<"$out")
  printf '  %-28s %12s req/s   p99 %-8s %s backend %s, wrk %s µs/request\n' "$1" "$rps" "$p99" \
    "${4:+cpu $cpu µs/request,}" "$bcpu" "$wcpu"
  awk -v r="$rps" -v p="$p99" -v c="$cpu" -v b="$bcpu" -v w="$wcpu" 'BEGIN {
    v = p + 0; if (p ~ /us$/) v /= 1000; else if (p ~ /[0-9]s$/ && p !~ /ms$/) v *= 1000
    print r, v, c, b, w }' >> "$tmp/wrk.$1"
}

bport=$(bench/free_port.py)
if [ "${BENCH_BACKEND:-albsim}" = nginx ]; then
  start_nginx_200 "$bport"
  echo "backend: nginx return 200 (one worker)"
else
  "$albsim" backend --port "$bport" --threads 1 >"$tmp/backend.log" 2>&1 & pids+=($!)
fi
wait_port "$bport" "$tmp/backend.log"
backend_pid=${pids[-1]}  # nginx: its one worker, the master's child
if [ "${BENCH_BACKEND:-albsim}" = nginx ]; then backend_pid=$(pgrep -P "$backend_pid" | head -1); fi

hport_alb=$(bench/free_port.py)
start_haproxy "$hport_alb" "$bport" haproxy-alb "$(haproxy_balancer_headers)"
hpid_alb=$hpid
hport=$(bench/free_port.py)
start_haproxy "$hport" "$bport"

# One albsim config with a single listener, keep-alive uncapped (like HAProxy's):
# uncapped_albsim FILE ACCESS_LOG PORT [extra listener lines] [extra top-level lines]
uncapped_albsim() {
  cat >"$1" <<CFG
worker_threads: 1
access_log: $2
${5:-}
listeners:
  - port: $3
    request_timeout: 180s
    max_requests_per_connection: 1000000
    default_server_group: main
${4:-}
CFG
  main_group "$bport" >>"$1"
}

aport=$(bench/free_port.py)
dport=$(bench/free_port.py)
tport=$(bench/free_port.py)
# Three listeners: keep-alive uncapped (like HAProxy's; it also takes the large upload, with the
# longest request timeout allowed since head and body both count against it), the balancer's
# default of 100 requests per connection, and one with a 1 s request timeout for test 5.
cat >"$tmp/albsim.yaml" <<CFG
worker_threads: 1
access_log: $tmp/access.log
listeners:
  - port: $aport
    request_timeout: 180s
    max_requests_per_connection: 1000000
    default_server_group: main
  - port: $dport
    request_timeout: 180s
    default_server_group: main
  - port: $tport
    request_timeout: 1s
    default_server_group: main
CFG
main_group "$bport" >>"$tmp/albsim.yaml"
[ "${BENCH_KIT:-0}" = 1 ] && retry_kit_on >>"$tmp/albsim.yaml"
"$albsim" serve --config "$tmp/albsim.yaml" >"$tmp/serve.log" 2>&1 & apid=$!; pids+=($apid)
wait_port "$aport" "$tmp/serve.log"

targets=("haproxy $hport $hpid" "haproxy-alb $hport_alb $hpid_alb" "albsim $aport $apid"
  "albsim-100 $dport $apid")
if [ -n "$before" ]; then
  bfport=$(bench/free_port.py)
  uncapped_albsim "$tmp/before.yaml" "$tmp/access-before.log" "$bfport"
  "$before" serve --config "$tmp/before.yaml" >"$tmp/before.log" 2>&1 & pids+=($!)
  wait_port "$bfport" "$tmp/before.log"
  targets+=("albsim-before $bfport $!")
fi

if [ "${BENCH_KIT:-0}" = 1 ]; then
  kport=$(bench/free_port.py)
  uncapped_albsim "$tmp/kit-off.yaml" "$tmp/access-kit-off.log" "$kport" \
    "    fault_injection: false" "journal: {size: 0}"
  "$albsim" serve --config "$tmp/kit-off.yaml" >"$tmp/kit-off.log" 2>&1 & pids+=($!)
  wait_port "$kport" "$tmp/kit-off.log"
  targets+=("albsim-kit-off $kport $!")
fi

# The same albsim (retry kit as in "albsim") writing no access log: beside haproxy-alb, which adds
# the same headers and writes no log either, the pair doing the same work per request.
nport=$(bench/free_port.py)
kit_lines=""
[ "${BENCH_KIT:-0}" = 1 ] && kit_lines=$(retry_kit_on)
uncapped_albsim "$tmp/no-log.yaml" '""' "$nport" "" "$kit_lines"
"$albsim" serve --config "$tmp/no-log.yaml" >"$tmp/no-log.log" 2>&1 & pids+=($!)
wait_port "$nport" "$tmp/no-log.log"
targets+=("albsim-no-log $nport $!")

echo "== 1. throughput: wrk -t1 -c50 -d${dur}s, keep-alive, GET /status/200 (small response)"
run_wrk "direct to the backend" "$bport" /status/200
n=${#targets[@]}
for r in $(seq 1 "$rounds"); do
  echo " round $r"
  for i in $(seq 0 $((n - 1))); do
    read -r name port pid <<<"${targets[$(((i + r) % n))]}"
    run_wrk "$name" "$port" /status/200 "$pid"
  done
done
python3 - "$tmp" <<'PY'
import statistics, sys
t = sys.argv[1]
def load(name):
    return [tuple(map(float, l.split())) for l in open(f"{t}/wrk.{name}")]
med = statistics.median
h, hb = load("haproxy"), load("haproxy-alb")
peers = lambda a: (f"; per request, backend {med(x[3] for x in a):.2f} µs, "
                   f"wrk {med(x[4] for x in a):.2f} µs")
print(f"haproxy 2.6 nbthread 1, no log:  median {med(x[0] for x in h):>9,.0f} req/s  "
      f"p99 {med(x[1] for x in h):.2f} ms  cpu {med(x[2] for x in h):.2f} µs/request{peers(h)}")
print(f"the same adding the balancer's headers (haproxy-alb): median {med(x[0] for x in hb):>9,.0f}"
      f" req/s  p99 {med(x[1] for x in hb):.2f} ms  cpu {med(x[2] for x in hb):.2f} µs/request"
      f"  / haproxy: median {med(x[0] / y[0] for x, y in zip(hb, h)):.2f}{peers(hb)}")
import os
for name, label in (("albsim", "albsim, keep-alive uncapped"),
                    ("albsim-100", "albsim, 100 req/connection"),
                    ("albsim-before", "ALBSIM_BEFORE, keep-alive uncapped"),
                    ("albsim-kit-off", "albsim, retry kit off, keep-alive uncapped"),
                    ("albsim-no-log", "albsim, no access log, keep-alive uncapped")):
    if not os.path.exists(f"{t}/wrk.{name}"):
        continue
    a = load(name)
    ratios = [x[0] / y[0] for x, y in zip(a, h)]
    ratios_alb = [x[0] / y[0] for x, y in zip(a, hb)]
    print(f"{label}: median {med(x[0] for x in a):>9,.0f} req/s  p99 {med(x[1] for x in a):.2f} ms"
          f"  cpu {med(x[2] for x in a):.2f} µs/request"
          f"  / haproxy: median {med(ratios):.2f} (rounds {' '.join(f'{x:.2f}' for x in ratios)}),"
          f" ahead in {sum(x >= 1 for x in ratios)} of {len(ratios)}, p99 not above haproxy's in "
          f"{sum(x[1] <= y[1] for x, y in zip(a, h))} of {len(ratios)}"
          f"  / haproxy-alb: median {med(ratios_alb):.2f}, ahead in "
          f"{sum(x >= 1 for x in ratios_alb)} of {len(ratios_alb)}{peers(a)}")
PY
echo "access-log records written by albsim: $(wc -l <"$tmp/access.log")"
# Same-binary pairs from the same rounds: per-round ratios, p99 and CPU per request side by side.
compare() {  # NAME_A NAME_B LABEL WORD_A WORD_B
  python3 - "$tmp" "$@" <<'PY'
import statistics, sys
t, na, nb, label, wa, wb = sys.argv[1:]
load = lambda n: [tuple(map(float, l.split())) for l in open(f"{t}/wrk.{n}")]
med = statistics.median
a, b = load(na), load(nb)
r = [x[0] / y[0] for x, y in zip(a, b)]
print(f"{label} (uncapped): median {med(r):.3f} (rounds {' '.join(f'{x:.2f}' for x in r)}); "
      f"p99 {wa} {med(x[1] for x in a):.2f} ms, {wb} {med(x[1] for x in b):.2f} ms; "
      f"cpu/request {wa} / {wb} {med(x[2] / y[2] for x, y in zip(a, b)):.3f}")
PY
}
[ -n "$before" ] && compare albsim albsim-before "after / before" after before
[ "${BENCH_KIT:-0}" = 1 ] && compare albsim albsim-kit-off "retry kit on / off" on off
# Tests 2-5 need albsim backend routes (/echo, /delay): they run only in front of it.
[ "${BENCH_THROUGHPUT_ONLY:-0}" = 1 ] || [ "${BENCH_BACKEND:-albsim}" = nginx ] && exit 0

echo "== 2. streamed upload of ${upload_gib} GiB through albsim to a discarding backend"
python3 bench/upload_rss.py 127.0.0.1 "$aport" $((upload_gib * 1024 * 1024 * 1024)) "$apid"

echo "== 3. ${idle} idle keep-alive connections to albsim"
python3 bench/idle_connections.py 127.0.0.1 "$aport" "$idle" "$apid"

echo "== 4. QPS limit ${qps}/s over 10 s"
qport=$(bench/free_port.py)
cat >"$tmp/qps.yaml" <<CFG
worker_threads: 1
access_log: $tmp/qps.log
listeners:
  - port: $qport
    qps: {qps: $qps}
    default_server_group: main
CFG
main_group "$bport" >>"$tmp/qps.yaml"
"$albsim" serve --config "$tmp/qps.yaml" >"$tmp/qps-serve.log" 2>&1 & pids+=($!)
wait_port "$qport" "$tmp/qps-serve.log"
wrk -t1 -c20 -d10s "http://127.0.0.1:$qport/status/200" >/dev/null
python3 - "$tmp/qps.log" "$qps" <<'PY'
import json, sys
from datetime import datetime
recs = [json.loads(l) for l in open(sys.argv[1])]
ok = [r for r in recs if r["status"] == 200]
limited = sum(1 for r in recs if r["status"] == 503)
t = sorted(datetime.fromisoformat(r["time"]).timestamp() for r in recs)
span = t[-1] - t[0]
expected = int(sys.argv[2]) * span
print(f"requests {len(recs)}, admitted {len(ok)}, throttled {limited}, over {span:.2f} s: "
      f"expected {expected:.0f}, error {100*(len(ok)-expected)/expected:+.2f} %")
PY

echo "== 5. request timeout 1 s against a backend that answers after 3 s (5 runs)"
for _ in 1 2 3 4 5; do
  curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "http://127.0.0.1:$tport/delay/3"
done | awk '{d=$2-1.0; printf "status %s after %.3f s (off by %+.0f ms)\n", $1, $2, d*1000}'
