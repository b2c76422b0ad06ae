"""A small client for albsim's admin API (docs/retry-kit.md, docs/admin-api.openapi.yaml), and
a runner that starts `albsim serve` on free ports for a test and stops it.

    with AlbsimServer() as albsim:
        albsim.admin.arm_plan("pay", ["503-qps-limited", "502-connection-refused", "ok"],
                              match={"path_prefix": "/pay"}, key="header:Idempotency-Key")
        ...  # the client under test talks to albsim.url
        report = albsim.admin.retry("op-1")
        assert report["attempts"] == 3

Only the standard library: urllib for the API, subprocess for the server.
"""
import json
import os
import queue
import re
import signal
import subprocess
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request


class AdminError(Exception):
    """A reply other than 2xx: `status` and the API's `error` and `field`."""

    def __init__(self, status, body):
        self.status = status
        self.body = body
        super().__init__(f"{status}: {body.get('error', body)} (field: {body.get('field', '-')})")


class AdminClient:
    def __init__(self, base_url, token=None, timeout=10.0):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _call(self, method, path, body=None, query=None, raw=False):
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                text = resp.read().decode()
        except urllib.error.HTTPError as e:
            text = e.read().decode()
            try:
                raise AdminError(e.code, json.loads(text)) from None
            except json.JSONDecodeError:
                raise AdminError(e.code, {"error": text}) from None
        return text if raw else json.loads(text)

    # -- plans
    def arm_plan(self, name, steps, match=None, key="constant", repeat=False, ttl=None,
                 max_uses=0):
        plan = {"name": name, "steps": list(steps), "key": key, "repeat": repeat,
                "max_uses": max_uses}
        if match:
            plan["match"] = match
        if ttl:
            plan["ttl"] = ttl
        return self._call("POST", "/plans", plan)

    def plans(self):
        return self._call("GET", "/plans")["plans"]

    def disarm(self, name):
        return self._call("DELETE", "/plans/" + urllib.parse.quote(name, safe=""))

    def disarm_all(self):
        return self._call("DELETE", "/plans")

    # -- journal
    def journal(self, key=None, path=None, cause=None, since=None, until=None, limit=None):
        q = {"key": key, "path": path, "cause": cause, "since": since, "until": until,
             "limit": limit}
        return self._call("GET", "/journal", query=q)["entries"]

    def clear_journal(self):
        return self._call("DELETE", "/journal")

    def retries(self, key=None, path=None):
        return self._call("GET", "/journal/retries", query={"key": key, "path": path})["keys"]

    def retry(self, key):
        """The retry report of one key (attempts, statuses, intervals, ...)."""
        reports = self.retries(key=key)
        if not reports:
            raise AssertionError(f"albsim's journal has no request with key {key!r}")
        return reports[0]

    # -- the rest
    def health(self):
        return self._call("GET", "/health")

    def config(self):
        return self._call("GET", "/config")

    def set_server(self, group, index, weight=None, health=None):
        body = {k: v for k, v in (("weight", weight), ("health", health)) if v is not None}
        return self._call("PUT", f"/servers/{urllib.parse.quote(group, safe='')}/{index}", body)

    def set_instance_qps(self, qps, burst=0):
        """The instance QPS limit (0: off), shared out over the VIPs as the config's is."""
        return self._call("PUT", "/instance/qps", {"qps": qps, "burst": burst})

    def set_listener_qps(self, listener, qps, burst=0):
        return self._call("PUT", f"/listeners/{urllib.parse.quote(listener, safe='')}/qps",
                          {"qps": qps, "burst": burst})

    def set_rule_qps(self, listener, rule, qps, burst=0):
        path = (f"/listeners/{urllib.parse.quote(listener, safe='')}"
                f"/rules/{urllib.parse.quote(rule, safe='')}/qps")
        return self._call("PUT", path, {"qps": qps, "burst": burst})

    def set_client_link(self, listener, **link):
        """A listener's whole client link for connections accepted from now on, the config's
        `client_link` keys: set_client_link("http-8080", extra_rtt="200ms", loss=0.1).
        Keys left out take their defaults; no keys at all make the link clean."""
        return self._call("PUT", f"/listeners/{urllib.parse.quote(listener, safe='')}/client-link",
                          link)

    def reset_counters(self):
        return self._call("POST", "/counters/reset")

    def metrics(self):
        return self._call("GET", "/metrics", raw=True)

    # -- assertions retry tests make
    def assert_attempts(self, key, expected):
        got = self.retry(key)["attempts"]
        assert got == expected, f"key {key!r}: {got} attempts, expected {expected}"

    def assert_backoff(self, key, at_least):
        """Every interval between attempts is at least `at_least` seconds."""
        intervals = self.retry(key)["intervals"]
        assert all(i >= at_least for i in intervals), \
            f"key {key!r}: intervals {intervals} s, expected each >= {at_least} s"

    def assert_no_unsafe_resend(self, key):
        r = self.retry(key)
        assert not r["non_idempotent_resent"], f"key {key!r}: {r['resent_detail']}"


_CONFIG = """\
listeners:
  - name: test
    port: 0
    request_timeout: {request_timeout}
server_groups:
  - name: app
    health_check: {{enabled: false}}
    servers: [{{backend: app}}]
embedded_backends:
  - name: app
limits:
  upstream_connect_timeout: {connect_timeout}
access_log: ""
admin:
  port: 0
"""

_LINE = re.compile(r"(listener \S+ http|admin API http)://([\d.]+):(\d+)")


class AlbsimServer:
    """`albsim serve` on kernel-chosen ports for one test; a context manager.

    `albsim`: the binary (default: $ALBSIM, else build/albsim). The listener's request timeout
    and the connect timeout are short by default so that timeout causes come quickly."""

    def __init__(self, albsim=None, request_timeout="2s", connect_timeout="1s", start_timeout=10):
        self.albsim = albsim or os.environ.get("ALBSIM", "build/albsim")
        self.request_timeout = request_timeout
        self.connect_timeout = connect_timeout
        self.start_timeout = start_timeout
        self.proc = None
        self.url = None
        self.admin = None
        self._lines = queue.Queue()
        self._dir = None

    def __enter__(self):
        self._dir = tempfile.TemporaryDirectory()
        cfg = os.path.join(self._dir.name, "albsim.yaml")
        with open(cfg, "w") as f:
            f.write(_CONFIG.format(request_timeout=self.request_timeout,
                                   connect_timeout=self.connect_timeout))
        self.proc = subprocess.Popen([self.albsim, "serve", "--config", cfg],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        listener = admin = None
        while listener is None or admin is None:
            try:
                line = self._lines.get(timeout=self.start_timeout)
            except queue.Empty:
                self.__exit__(None, None, None)
                raise RuntimeError("albsim serve did not report its ports in time")
            if line is None:
                raise RuntimeError("albsim serve exited before it was ready")
            m = _LINE.search(line)
            if m and m.group(1).startswith("listener"):
                listener = f"http://{m.group(2)}:{m.group(3)}"
            elif m:
                admin = f"http://{m.group(2)}:{m.group(3)}"
        self.url = listener
        self.admin = AdminClient(admin)
        return self

    def _read(self):
        for line in self.proc.stderr:
            self._lines.put(line)
        self._lines.put(None)

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self._dir:
            self._dir.cleanup()
        return False
