#!/usr/bin/env python3
"""Soak: mixed, partly hostile traffic through `albsim serve` from 16 concurrent clients.

Traffic (picked at random per exchange, each with a unique marker in its path where it has one):
normal GETs, backend 5xx, backend resets, backend closes, garbage, partial requests that close,
clients that leave while the backend works, oversized header lines, pipelined bursts, HTTPS.
Checks: the proxy stays up; every request that reached a full head, and every early close, is
exactly one record (each marked request once, and the total); every line is valid JSON; RSS and
open descriptors at the end are where they were after the warm-up.
Usage: bench/soak.py ALBSIM_BINARY SECONDS
"""
import json
import os
import random
import socket
import ssl
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "robustness"))
from serve_process import ServeProcess, get, run_checks  # noqa: E402

CLIENTS = 16
tls = ssl.create_default_context()
tls.check_hostname = False
tls.verify_mode = ssl.CERT_NONE


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.marked = {}      # marker -> expected records (1)
        self.unmarked = 0     # expected records without a marker (garbage, early closes)
        self.exchanges = 0
        self.kinds = {}

    def expect(self, kind, marker=None, records=1):
        with self.lock:
            self.exchanges += 1
            self.kinds[kind] = self.kinds.get(kind, 0) + 1
            if marker:
                self.marked[marker] = records
            else:
                self.unmarked += records


def read_all(s, limit=1 << 22):
    data = b""
    try:
        while len(data) < limit:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    return data


def connect(port, timeout=10):
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def exchange(port, https_port, tally, rng, n):
    kind = rng.choice(["normal", "normal", "normal", "status5xx", "reset", "close", "garbage",
                       "partial", "leave", "oversized", "pipelined", "https"])
    marker = "soak-%d" % n
    if kind == "normal":
        with connect(port) as s:
            s.sendall(b"GET /get?%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % marker.encode())
            read_all(s)
        tally.expect(kind, marker)
    elif kind == "status5xx":
        with connect(port) as s:
            s.sendall(b"GET /status/%d?%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                      % (rng.choice([500, 502, 503, 504]), marker.encode()))
            read_all(s)
        tally.expect(kind, marker)
    elif kind in ("reset", "close"):
        with connect(port) as s:
            s.sendall(b"GET /get?%s HTTP/1.1\r\nHost: x\r\nX-Albsim-Backend: %s\r\n"
                      b"Connection: close\r\n\r\n" % (marker.encode(), kind.encode()))
            read_all(s)
        tally.expect(kind, marker)
    elif kind == "garbage":
        with connect(port) as s:
            s.sendall(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))) + b"\r\n\r\n")
            read_all(s)
        tally.expect(kind)
    elif kind == "partial":
        # Part of a head, then the client closes: an early close, one record.
        with connect(port) as s:
            s.sendall(b"GET /get?%s HTTP/1.1\r\nHost: x\r\nX-Part" % marker.encode())
        tally.expect(kind)
    elif kind == "leave":
        # A whole request to a slow backend, then the client leaves: one record (499).
        s = connect(port)
        s.sendall(b"GET /get?%s HTTP/1.1\r\nHost: x\r\nX-Albsim-Backend: delay=300ms\r\n\r\n"
                  % marker.encode())
        time.sleep(rng.uniform(0.01, 0.1))
        if rng.random() < 0.5:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        tally.expect(kind, marker)
    elif kind == "oversized":
        with connect(port) as s:
            s.sendall(b"GET /get?%s HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n"
                      % (marker.encode(), b"a" * 40000))
            read_all(s)
        tally.expect(kind, marker)
    elif kind == "pipelined":
        count = rng.randrange(2, 20)
        with connect(port) as s:
            burst = b"".join(b"GET /get?%s-%d HTTP/1.1\r\nHost: x\r\n\r\n" % (marker.encode(), i)
                             for i in range(count - 1))
            burst += b"GET /get?%s-%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % (
                marker.encode(), count - 1)
            s.sendall(burst)
            read_all(s)
        for i in range(count):
            tally.expect(kind, "%s-%d" % (marker, i))
    elif kind == "https":
        with connect(https_port) as raw:
            with tls.wrap_socket(raw) as s:
                s.sendall(b"GET /get?%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % marker.encode())
                read_all(s)
        tally.expect(kind, marker)


def drive(port, https_port, tally, stop_at, seed, counter, errors):
    rng = random.Random(seed)
    while time.monotonic() < stop_at:
        with counter["lock"]:
            counter["n"] += 1
            n = counter["n"]
        try:
            exchange(port, https_port, tally, rng, n)
        except OSError as e:
            errors.append("exchange %d: %s" % (n, e))


def run_phase(serve, seconds, tally, seed):
    counter = {"lock": threading.Lock(), "n": seed * 10_000_000}
    errors = []
    stop_at = time.monotonic() + seconds
    threads = [threading.Thread(target=drive, args=(serve.ports["http"], serve.ports["https"],
                                                     tally, stop_at, seed * 100 + i, counter, errors))
               for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def scan_records(path):
    """Streams the access log: the valid records, the lines that are not JSON, and how many
    records each soak marker has. (A 30-minute run writes millions of records; holding them all
    in memory got this driver killed by the OOM killer.)"""
    valid, bad, seen = 0, 0, {}
    with open(path, "rb") as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                bad += 1
                continue
            valid += 1
            uri = str(r.get("request_uri", r.get("request", "")))
            if "?soak-" in uri:
                m = uri.split("?", 1)[1].split(" ", 1)[0]
                seen[m] = seen.get(m, 0) + 1
    return valid, bad, seen


def wait_records(path, count, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path, "rb") as f:
            if sum(1 for _ in f) >= count:
                return
        time.sleep(0.1)  # polling a bounded wait for the log writer


def main():
    albsim, seconds = sys.argv[1], float(sys.argv[2])
    serve = ServeProcess(albsim, request_timeout="5s", https=True, workers=2)

    def check(failures):
        warmup = min(10.0, seconds / 6)
        warm = Tally()
        errors = run_phase(serve, warmup, warm, 1)
        wait_records(serve.access_log, len(warm.marked) + warm.unmarked)
        rss0, fds0 = serve.rss_kib(), serve.open_fds()
        tally = Tally()
        errors += run_phase(serve, seconds - warmup, tally, 2)
        expected_total = (len(warm.marked) + warm.unmarked + len(tally.marked) + tally.unmarked)
        wait_records(serve.access_log, expected_total)
        # Connections the proxy still holds close within their timeouts; measure once the last
        # record is written and idle keep-alive connections have had time to drop.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and serve.open_fds() > fds0:
            time.sleep(0.2)
        rss1, fds1 = serve.rss_kib(), serve.open_fds()
        up = serve.proc.poll() is None
        n_recs, bad, seen = scan_records(serve.access_log)
        marked = dict(warm.marked)
        marked.update(tally.marked)
        missing = [m for m in marked if seen.get(m, 0) == 0]
        doubled = [m for m, c in seen.items() if c > 1]
        stray = [m for m in seen if m not in marked]
        lost = expected_total - n_recs
        kinds = {k: warm.kinds.get(k, 0) + tally.kinds.get(k, 0)
                 for k in set(warm.kinds) | set(tally.kinds)}
        print("soak: %.0f s, %d requests (each expected to be one record), %d expected, %d records"
              % (seconds, warm.exchanges + tally.exchanges, expected_total, n_recs))
        print("      requests by kind: " + ", ".join("%s %d" % kv for kv in sorted(kinds.items())))
        print("      records lost %d, marked missing %d, doubled %d, invalid JSON lines %d"
              % (max(lost, 0), len(missing), len(doubled), bad))
        print("      after warm-up RSS %d KiB, fds %d; at the end RSS %d KiB (%+d), fds %d (%+d)"
              % (rss0, fds0, rss1, rss1 - rss0, fds1, fds1 - fds0))
        print("      client-side errors %d" % len(errors))
        if not up:
            failures.append("albsim serve is not running")
        if bad:
            failures.append("%d access-log lines are not valid JSON" % bad)
        if missing or doubled or stray:
            failures.append("marked requests: %d missing %s, %d doubled %s, %d unknown"
                            % (len(missing), missing[:5], len(doubled), doubled[:5], len(stray)))
        if n_recs != expected_total:
            failures.append("%d records for %d expected" % (n_recs, expected_total))
        if fds1 > fds0:
            failures.append("open descriptors grew from %d to %d" % (fds0, fds1))
        if rss1 > rss0 * 1.25 + 8192:
            failures.append("RSS grew from %d to %d KiB" % (rss0, rss1))
    return run_checks(serve, check)


if __name__ == "__main__":
    sys.exit(main())
