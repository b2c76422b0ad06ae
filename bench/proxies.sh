# Sourced by the proxy benchmarks (proxy_vs_haproxy.sh, proxy_syscalls.sh): what they set up
# and the reference processes they start, the same way.

install_missing() {  # PACKAGE...: installs these Debian packages (the caller lists the missing)
  (($#)) || return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@"
}

# A scratch directory $tmp, and the array pids of processes to stop; both go on exit.
start_scratch() {
  tmp=$(mktemp -d)
  pids=()
  trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
}

wait_port() {  # bounded wait for a listening port; $2 = the log to show if it never opens
  for _ in $(seq 1 200); do
    (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "port $1 did not open" >&2
  [ -n "${2:-}" ] && cat "$2" >&2
  return 1
}

nginx_200_conf() {  # DIR PORT: an nginx config answering `return 200 "ok\n"` on 127.0.0.1:PORT,
  # one worker, no access log, its pid, error log and temporary files under DIR/nginx
  cat <<CFG
daemon off;
worker_processes 1;
pid $1/nginx.pid;
error_log $1/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $1/nginx;
  proxy_temp_path $1/nginx;
  fastcgi_temp_path $1/nginx;
  uwsgi_temp_path $1/nginx;
  scgi_temp_path $1/nginx;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$2;
    location / { return 200 "ok\n"; }
  }
}
CFG
}

start_nginx_200() {  # PORT: nginx_200_conf in $tmp, started (its output: $tmp/backend.log)
  mkdir -p "$tmp/nginx"
  nginx_200_conf "$tmp" "$1" >"$tmp/nginx.conf"
  /usr/sbin/nginx -c "$tmp/nginx.conf" -p "$tmp/nginx" >"$tmp/backend.log" 2>&1 & pids+=($!)
}

# start_haproxy PORT BACKEND_PORT [NAME [EXTRA FRONTEND LINES]]: HAProxy, nbthread 1,
# keep-alive, no log; sets hpid. NAME (default haproxy) names its config and log in $tmp.
start_haproxy() {
  local name=${3:-haproxy}
  cat >"$tmp/$name.cfg" <<CFG
global
  nbthread 1
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
frontend fe
  bind 127.0.0.1:$1
${4:-}
  default_backend be
backend be
  server s1 127.0.0.1:$2
CFG
  haproxy -f "$tmp/$name.cfg" >"$tmp/$name.log" 2>&1 & hpid=$!; pids+=($hpid)
  wait_port "$1" "$tmp/$name.log"
}

# The frontend lines that make HAProxy add to each request what the balancer (and albsim) adds:
# X-Forwarded-For with the client's address and a per-request trace id header (16 hex digits
# here: a timestamp, a request counter and the process id), so that a comparison puts the same
# header work on both proxies and on the backend.
haproxy_balancer_headers() {
  cat <<'CFG'
  option forwardfor
  unique-id-format %{+X}o%Ts%rt%pid
  unique-id-header ALICLOUD-ALB-TRACE
CFG
}

main_group() {  # BACKEND_PORT: the one server group of these albsim configs, named main
  cat <<CFG
server_groups:
  - name: main
    health_check: {enabled: false}
    servers:
      - {address: 127.0.0.1, port: $1}
CFG
}

retry_kit_on() {  # the config lines that turn the retry kit fully on (BENCH_KIT=1): header
  # injection is on by default; a fault plan armed that matches no request, the journal, the
  # admin listener and its metrics
  cat <<CFG
journal: {size: 10000}
admin: {enabled: true, port: 0}
fault_plans:
  - name: bench-armed-never-matching
    match: {path_prefix: /never}
    steps: [ok]
CFG
}
