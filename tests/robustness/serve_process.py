"""Runs `albsim serve` as a child process for the robustness tests and bench scripts: a config
with one HTTP listener on 127.0.0.1:0 and one embedded backend, the access log in a file, the
operational log (stderr) collected line by line, the port read from the listener's log line.
"""
import os
import re
import resource
import socket
import subprocess
import tempfile
import threading
import time

CONFIG = """\
listeners:
  - name: http
    protocol: http
    port: 0
    request_timeout: {request_timeout}
    idle_timeout: 60s
    max_requests_per_connection: 1000000
    default_server_group: main
{extra_listeners}
server_groups:
  - name: main
    servers:
      - {{backend: app}}
embedded_backends:
  - name: app
worker_threads: {workers}
"""

HTTPS_LISTENER = """\
  - name: https
    protocol: https
    port: 0
    request_timeout: {request_timeout}
    idle_timeout: 60s
    default_server_group: main
"""


class ServeProcess:
    def __init__(self, albsim, nofile=None, request_timeout="60s", workers=1, https=False,
                 log_level="info"):
        self.dir = tempfile.mkdtemp(prefix="albsim-robust-")
        self.access_log = os.path.join(self.dir, "access.jsonl")
        config = os.path.join(self.dir, "proxy.yaml")
        extra = HTTPS_LISTENER.format(request_timeout=request_timeout) if https else ""
        with open(config, "w") as f:
            f.write(CONFIG.format(request_timeout=request_timeout, workers=workers,
                                  extra_listeners=extra))

        def limit():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.proc = subprocess.Popen(
            [albsim, "serve", "--config", config, "--access-log", self.access_log,
             "--log-level", log_level],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=limit, text=True)
        self.lines = []  # (monotonic time, line) of the operational log
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.ports = {}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "ready" not in self.text():
            if self.proc.poll() is not None:
                raise RuntimeError("albsim serve exited: " + self.text())
            time.sleep(0.05)  # polling a bounded wait for the ready line
        for name, port in re.findall(r"listener (\S+) https?://[0-9.]+:(\d+)", self.text()):
            self.ports[name] = int(port)
        if "http" not in self.ports:
            raise RuntimeError("albsim serve did not report its listener: " + self.text())
        self.port = self.ports["http"]

    def _read(self):
        for line in self.proc.stderr:
            with self.lock:
                self.lines.append((time.monotonic(), line.rstrip("\n")))

    def text(self):
        with self.lock:
            return "\n".join(l for _, l in self.lines)

    def lines_since(self, t, pattern):
        with self.lock:
            return [l for when, l in self.lines if when >= t and re.search(pattern, l)]

    def cpu_seconds(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def open_fds(self):
        return len(os.listdir("/proc/%d/fd" % self.proc.pid))

    def stop(self, timeout=20):
        """SIGTERM, then the exit code (kills and raises if it does not stop in time)."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise


def get(port, path="/get", timeout=5.0, extra=""):
    """One GET on a fresh connection; the status code, or None when no answer came."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n"
                       % (path, extra)).encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
        return int(m.group(1)) if m else None
    except OSError:
        return None


def run_checks(serve, check):
    """Runs check(failures) against `serve`, then stops it (an exit code other than 0 on SIGTERM
    is a failure) and kills it if it is still there; prints the failures and returns the exit
    code for the script."""
    failures = []
    try:
        check(failures)
        code = serve.stop()
        if code != 0:
            failures.append("albsim serve exited with %s on SIGTERM" % code)
    finally:
        if serve.proc.poll() is None:
            serve.proc.kill()
    for f in failures:
        print("FAIL:", f)
    if failures:
        print(serve.text()[-3000:])
    return 1 if failures else 0
