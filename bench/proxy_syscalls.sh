#!/usr/bin/env bash
# System calls per request of `albsim serve` and HAProxy 2.6 under the same load, side by side:
# nginx `return 200` (one worker) behind both, `wrk -t1 -c50` keep-alive, and `perf stat` on the
# proxy's threads counting every system call, recvfrom (and those that found nothing: EAGAIN),
# sendto, epoll_wait and epoll_ctl. Counts do not drift with the VM's speed the way req/s does,
# so they show what a change to the data path did; rounds rotate and the medians are printed.
# Usage: bench/proxy_syscalls.sh [seconds per run, default 3]
# Environment: ALBSIM (default build/albsim); ALBSIM_BEFORE: a second binary in the same
# rotation; BENCH_ROUNDS (default 3); BENCH_KIT=1 turns the retry kit fully on (as in
# proxy_vs_haproxy.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${1:-3}
rounds=${BENCH_ROUNDS:-3}
albsim=${ALBSIM:-build/albsim}
before=${ALBSIM_BEFORE:-}

. bench/proxies.sh
missing=()
for tool in wrk haproxy python3; do command -v $tool >/dev/null || missing+=($tool); done
[ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v perf >/dev/null || missing+=(linux-perf)
install_missing "${missing[@]}"
[ -x "$albsim" ] || scripts/setup.sh build
start_scratch

bport=$(bench/free_port.py)
start_nginx_200 "$bport"
wait_port "$bport" "$tmp/backend.log"

hport=$(bench/free_port.py)
start_haproxy "$hport" "$bport"

start_albsim() {  # NAME BINARY -> appends "NAME PORT PID" to $tmp/targets
  local port; port=$(bench/free_port.py)
  cat >"$tmp/$1.yaml" <<CFG
worker_threads: 1
access_log: $tmp/access-$1.log
listeners:
  - port: $port
    request_timeout: 180s
    max_requests_per_connection: 1000000
    default_server_group: main
CFG
  main_group "$bport" >>"$tmp/$1.yaml"
  [ "${BENCH_KIT:-0}" = 1 ] && retry_kit_on >>"$tmp/$1.yaml"
  "$2" serve --config "$tmp/$1.yaml" >"$tmp/$1.log" 2>&1 & pids+=($!)
  wait_port "$port" "$tmp/$1.log"
  echo "$1 $port $!" >>"$tmp/targets"
}
echo "haproxy $hport $hpid" >"$tmp/targets"
start_albsim albsim "$albsim"
[ -n "$before" ] && start_albsim albsim-before "$before"

events=raw_syscalls:sys_enter,syscalls:sys_enter_recvfrom,syscalls:sys_enter_sendto
events+=,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_ctl
mapfile -t targets <"$tmp/targets"
n=${#targets[@]}
echo "== system calls per request: wrk -t1 -c50 -d${dur}s, nginx behind each proxy, $rounds rounds"
for r in $(seq 1 "$rounds"); do
  for i in $(seq 0 $((n - 1))); do
    read -r name port pid <<<"${targets[$(((i + r) % n))]}"
    # Counted over the whole run: perf stops a little after wrk, when no request is in flight.
    perf stat -x, -o "$tmp/perf.$name.$r" -p "$pid" \
      -e "$events" -e syscalls:sys_exit_recvfrom --filter 'ret < 0' -- sleep $((dur + 1)) &
    perf_pid=$!
    sleep 0.2
    wrk -t1 -c50 -d"${dur}s" "http://127.0.0.1:$port/" >"$tmp/wrk.$name.$r"
    wait $perf_pid
  done
done
python3 - "$tmp" "$rounds" <<'PY'
import re, statistics, sys
tmp, rounds = sys.argv[1], int(sys.argv[2])
names = [l.split()[0] for l in open(f"{tmp}/targets")]
cols = [("raw_syscalls:sys_enter", "all"), ("syscalls:sys_enter_recvfrom", "recvfrom"),
        ("syscalls:sys_exit_recvfrom", "EAGAIN"), ("syscalls:sys_enter_sendto", "sendto"),
        ("syscalls:sys_enter_epoll_wait", "epoll_wait"), ("syscalls:sys_enter_epoll_ctl", "epoll_ctl")]
print(f"{'':14}" + "".join(f"{label:>11}" for _, label in cols) + "   requests")
for name in names:
    per = {ev: [] for ev, _ in cols}
    reqs = []
    for r in range(1, rounds + 1):
        m = re.search(r"(\d+) requests in", open(f"{tmp}/wrk.{name}.{r}").read())
        q = int(m.group(1))
        reqs.append(q)
        counts = {}
        for line in open(f"{tmp}/perf.{name}.{r}"):
            f = line.strip().split(",")
            if len(f) > 2 and f[0].isdigit():
                counts[f[2]] = int(f[0])
        for ev, _ in cols:
            per[ev].append(counts.get(ev, 0) / q)
    print(f"{name:14}" + "".join(f"{statistics.median(per[ev]):11.3f}" for ev, _ in cols)
          + f"   {statistics.median(reqs):,.0f} per run")
print("(recvfrom includes EAGAIN: reads that found nothing)")
PY
