#!/usr/bin/env bash
# Requests/s of `albsim backend` (one thread) against nginx `return 200` (one worker), both on
# loopback, measured with wrk in the same run (keep-alive, small responses).
#
#   bench/backend_vs_nginx.sh [ALBSIM_BINARY] [DURATION_SECONDS] [CONNECTIONS]
#
# Defaults: build/albsim (or build-backend/albsim), 10 s, 50 connections, wrk -t1.
# Target (issue 2): albsim >= 0.7 x nginx.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
. "$here/bench/proxies.sh"  # nginx_200_conf
albsim="${1:-}"
if [[ -z "$albsim" ]]; then
  for candidate in "$here/build/albsim" "$here/build-backend/albsim"; do
    [[ -x "$candidate" ]] && albsim="$candidate" && break
  done
fi
duration="${2:-10}"
connections="${3:-50}"
[[ -x "$albsim" ]] || { echo "albsim binary not found (give its path as the first argument)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is not installed" >&2; exit 1; }
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
[[ -x "$nginx_bin" ]] || { echo "nginx is not installed" >&2; exit 1; }

work="$(mktemp -d)"
albsim_pid=""
nginx_pid=""
cleanup() {
  [[ -n "$albsim_pid" ]] && kill "$albsim_pid" 2>/dev/null && wait "$albsim_pid" 2>/dev/null || true
  [[ -n "$nginx_pid" ]] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A port the kernel considers free right now, for nginx (albsim takes its own from :0).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wrk's Requests/sec figure.
run_wrk() {
  timeout $((duration + 30)) wrk -t1 -c"$connections" -d"${duration}s" "$1" |
    awk '/Requests\/sec/ {print $2}'
}

# Wait (bounded) until a TCP port accepts connections.
wait_port() {
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "port $1 did not open" >&2
  return 1
}

# --- albsim backend, one thread ---
"$albsim" backend --threads 1 >"$work/albsim.out" 2>"$work/albsim.err" &
albsim_pid=$!
for _ in $(seq 1 100); do
  grep -q "listening on" "$work/albsim.out" 2>/dev/null && break
  sleep 0.05
done
albsim_port="$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$work/albsim.out")"
[[ -n "$albsim_port" ]] || { echo "albsim backend did not start:" >&2; cat "$work/albsim.err" >&2; exit 1; }

# --- nginx, one worker, return 200 ---
nginx_port="$(free_port)"
mkdir -p "$work/nginx"
nginx_200_conf "$work" "$nginx_port" >"$work/nginx.conf"
"$nginx_bin" -c "$work/nginx.conf" -p "$work" 2>"$work/nginx.err" &
nginx_pid=$!
wait_port "$nginx_port"

echo "wrk -t1 -c$connections -d${duration}s, keep-alive, small responses"
albsim_rps="$(run_wrk "http://127.0.0.1:$albsim_port/status/200")"
nginx_rps="$(run_wrk "http://127.0.0.1:$nginx_port/")"
ratio="$(awk -v a="$albsim_rps" -v n="$nginx_rps" 'BEGIN { printf "%.2f", a / n }')"
echo "albsim backend (1 thread) /status/200: $albsim_rps req/s"
echo "nginx return 200 (1 worker):           $nginx_rps req/s"
echo "ratio albsim/nginx: $ratio (target >= 0.70)"
