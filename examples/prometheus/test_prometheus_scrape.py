"""albsim's /metrics read by the real thing: `promtool check metrics` accepts the exposition, and
a Prometheus server (Debian's, on loopback, scraping every second) reads a counter back through
its HTTP API. Every wait is bounded."""
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=5):
    req = urllib.request.Request(url)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code


def test_promtool_accepts_the_exposition(albsim):
    albsim.admin.arm_plan("once", ["503-qps-limited"], max_uses=1)
    assert get(albsim.url + "/") == 503
    assert get(albsim.url + "/") == 200
    text = albsim.admin.metrics()
    check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr


def test_prometheus_scrapes_and_answers_a_query(albsim):
    albsim.admin.arm_plan("twice", ["503-qps-limited"], repeat=True, max_uses=2)
    assert [get(albsim.url + "/"), get(albsim.url + "/")] == [503, 503]
    admin = urllib.parse.urlparse(albsim.admin.base_url)
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        cfg = os.path.join(d, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write(f"""global: {{scrape_interval: 1s, scrape_timeout: 1s}}
scrape_configs:
  - job_name: albsim
    static_configs: [{{targets: ["{admin.hostname}:{admin.port}"]}}]
""")
        prom = subprocess.Popen(["prometheus", f"--config.file={cfg}",
                                 f"--storage.tsdb.path={os.path.join(d, 'data')}",
                                 f"--web.listen-address=127.0.0.1:{port}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            query = urllib.parse.quote('albsim_requests_total{cause="503-qps-limited"}')
            url = f"http://127.0.0.1:{port}/api/v1/query?query={query}"
            value = None
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    with urllib.request.urlopen(url, timeout=2) as resp:
                        result = json.load(resp)["data"]["result"]
                    if result:
                        value = result[0]["value"][1]
                        break
                except (urllib.error.URLError, ConnectionError):
                    pass  # not listening yet
                time.sleep(0.2)  # polling a bounded wait for the next scrape
            assert value == "2", f"Prometheus did not read the counter back (got {value!r})"
        finally:
            prom.terminate()
            prom.wait(timeout=10)
