#!/usr/bin/env bash
# Records/s and peak RSS of `albsim diagnose` on a generated access log of 2,000,000 records
# (the log service's JSON export: every value a string, "-" for absent), beside
# `jq -c 'select(.status=="502")' | wc -l` on the same file as the reference point. Rounds
# rotate which tool goes first; the figures are medians over the rounds.
#
#   bench/diagnose_vs_jq.sh [ALBSIM_BINARY] [RECORDS] [ROUNDS]
#
# Defaults: build/albsim, 2000000 records, 5 rounds. Target (issue 10): >= 500,000 records/s
# on one core and peak RSS <= 64 MiB. Also times the same file gzip-compressed.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
albsim="${1:-$here/build/albsim}"
records="${2:-2000000}"
rounds="${3:-5}"
[[ -x "$albsim" ]] || { echo "albsim binary not found: $albsim (build it, or give its path)" >&2; exit 1; }

# The reference tools come from Debian like everything else.
missing=()
command -v jq >/dev/null || missing+=(jq)
[[ -x /usr/bin/time ]] || missing+=(time)
command -v gzip >/dev/null || missing+=(gzip)
if ((${#missing[@]})); then
  sudo=""
  [[ "$(id -u)" -ne 0 ]] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
log="$work/access.log"

echo "generating $records records in $log"
python3 - "$records" "$log" <<'PY'
import json, random, sys
n, path = int(sys.argv[1]), sys.argv[2]
random.seed(10)
backends = [f"10.0.1.{i}:8080" for i in range(1, 9)]
# (status, upstream_status, connect, response), as the balancer logs them (docs/status-rules.md):
# mostly 200; a 502 burst on one backend, before the request was delivered ("-") and after
# (502); 504s at the default request timeout (upstream_status 504); 499s at one client timeout
# while the backend had the request (499); throttled 503s.
kinds = [("200", "200", "0.001", "0.012")] * 90 + [("502", "-", "0.000", "0.000")] * 3 + \
        [("502", "502", "0.000", "0.004")] * 2 + [("504", "504", "0.001", "60.001")] * 2 + \
        [("499", "499", "0.001", "3.000")] * 2 + [("503", "-", "-", "-")]
with open(path, "w") as f:
    base = 1764643200  # 2025-12-02T03:20:00Z
    for i in range(n):
        status, up, connect, resp = random.choice(kinds)
        t = base + i * 3600 // n
        addr = backends[3] if status == "502" else ("-" if status == "503" else random.choice(backends))
        rt = resp if resp != "-" else "0.002"
        rec = {
            "__topic__": "alb_layer7_access_log", "__time__": str(t),
            "time": f"2025-12-02T{3 + (20 * 60 + t - base) // 3600:02d}:{(20 * 60 + t - base) // 60 % 60:02d}:{(t - base) % 60:02d}+00:00",
            "app_lb_id": "alb-o9ulmq5hgn68jk3h0x", "vip_addr": "47.96.1." + str(1 + i % 3),
            "slb_vport": "443", "client_ip": f"203.0.113.{i % 250}", "client_port": str(1024 + i % 60000),
            "scheme": "HTTPS", "server_protocol": "HTTP/1.1", "request_method": "GET",
            "request_uri": f"/api/v1/orders/{i % 5000}?page=2&token=abc{i % 97}",
            "host": "shop.example.com", "http_host": "shop.example.com", "http_referer": "-",
            "http_user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
            "http_x_forwarded_for": "-", "http_x_real_ip": "-", "request_length": str(300 + i % 700),
            "status": status, "upstream_status": up, "upstream_addr": addr, "request_time": rt,
            "read_request_time": "0", "write_response_time": "1", "upstream_connect_time": connect,
            "upstream_response_time": resp, "body_bytes_sent": "0" if status == "499" else str(1000 + i % 9000),
            "tcpinfo_rtt": str(20000 + i % 5000), "ssl_protocol": "TLSv1.3",
            "ssl_cipher": "TLS_AES_128_GCM_SHA256",
        }
        f.write(json.dumps(rec, separators=(",", ":")) + "\n")
PY
gzip -k -1 "$log"
ls -l "$log" "$log.gz" | awk '{print $5, $9}'

# One timed run: "WALL_SECONDS MAX_RSS_KIB".
measure() {
  /usr/bin/time -v -o "$work/time" "$@" >/dev/null
  awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; w = s}
              /Maximum resident set size/ {r = $2}
              END {print w, r}' "$work/time"
}
run_diagnose() { measure "$albsim" diagnose "$log"; }
run_diagnose_gz() { measure "$albsim" diagnose "$log.gz"; }
run_jq() { measure sh -c "jq -c 'select(.status==\"502\")' '$log' | wc -l"; }

# Sanity: both count the same 502s.
ours=$("$albsim" diagnose --format json "$log" | awk '$1 == "502" {print $2; exit}')
theirs=$(jq -c 'select(.status=="502")' "$log" | wc -l)
echo "502 records: albsim diagnose $ours, jq $theirs"

declare -A wall rss
tools=(diagnose jq diagnose_gz)
for ((r = 0; r < rounds; r++)); do
  for ((k = 0; k < ${#tools[@]}; k++)); do
    tool=${tools[$(((k + r) % ${#tools[@]}))]}
    read -r w m < <("run_$tool")
    wall[$tool]+="$w "
    rss[$tool]+="$m "
    echo "round $((r + 1)) $tool: ${w} s, ${m} KiB"
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
echo
printf "%-14s %10s %14s %12s\n" tool "wall s" "records/s" "peak RSS MiB"
for tool in "${tools[@]}"; do
  w=$(median <<<"${wall[$tool]}")
  m=$(median <<<"${rss[$tool]}")
  printf "%-14s %10.2f %14.0f %12.1f\n" "$tool" "$w" "$(awk -v n="$records" -v w="$w" 'BEGIN {print n / w}')" \
    "$(awk -v m="$m" 'BEGIN {print m / 1024}')"
done
echo "(medians of $rounds rounds; diagnose_gz reads the gzip-compressed copy; target: >= 500000 records/s, <= 64 MiB)"
