#!/usr/bin/env python3
"""Slow-header attack against `albsim serve` (issue 12): CONNECTIONS connections each send one
header byte per second and never finish; each must end at the request timeout with a 408 and
its own access-log record, while a steady client on other connections keeps its p99 within 2x
of its unloaded p99. Rounds alternate unloaded and attacked measurements (the VM drifts), the
ratio reported is the median over rounds.
Usage: bench/slow_clients.py ALBSIM_BINARY [CONNECTIONS] [ROUNDS]
"""
import json
import os
import resource
import socket
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "robustness"))
from serve_process import ServeProcess, get, run_checks  # noqa: E402

REQUEST_TIMEOUT = 10  # seconds; the attack lasts this long per round
HEAD = b"GET /slow HTTP/1.1\r\nHost: x\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"


def steady(port, seconds, out):
    """Sequential GETs on fresh connections for `seconds`; latencies in ms into `out`."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.monotonic()
        status = get(port, timeout=10)
        if status != 200:
            raise RuntimeError("steady client got %s" % status)
        out.append((time.monotonic() - t) * 1000)


def p99(v):
    v = sorted(v)
    return v[max(0, int(len(v) * 0.99 + 0.5) - 1)]


def attack(port, n):
    """Opens n connections, drips one byte per second each until the proxy closes them; returns
    how many saw a 408."""
    conns = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.setblocking(False)
        conns.append(s)
    got_408, answers, i = 0, {}, 0
    open_ = set(range(n))
    deadline = time.monotonic() + REQUEST_TIMEOUT + 15
    while open_ and time.monotonic() < deadline:
        tick = time.monotonic()
        for k in list(open_):
            s = conns[k]
            try:
                data = s.recv(4096)
                if data:
                    answers[k] = answers.get(k, b"") + data
                    continue
                open_.discard(k)  # closed by the proxy
                continue
            except BlockingIOError:
                pass
            except OSError:
                open_.discard(k)
                continue
            if i < len(HEAD):
                try:
                    s.send(HEAD[i:i + 1])
                except OSError:
                    open_.discard(k)
        i += 1
        while time.monotonic() < tick + 1 and open_:
            time.sleep(0.05)  # the attack's own pace: one byte per connection per second
    for k, s in enumerate(conns):
        if answers.get(k, b"").startswith(b"HTTP/1.1 408"):
            got_408 += 1
        s.close()
    return got_408


def main():
    albsim = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 1000)), hard))
    serve = ServeProcess(albsim, request_timeout="%ds" % REQUEST_TIMEOUT)

    def check(failures):
        ratios, total_408 = [], 0
        for r in range(rounds):
            base = []
            steady(serve.port, 5, base)
            loaded = []
            result = {}
            t = threading.Thread(target=lambda: result.update(got=attack(serve.port, n)))
            t.start()
            time.sleep(2)  # let every attacking connection open and start dripping
            steady(serve.port, REQUEST_TIMEOUT - 4, loaded)
            t.join()
            total_408 += result.get("got", 0)
            ratio = p99(loaded) / p99(base)
            ratios.append(ratio)
            print("round %d: unloaded p99 %.2f ms (%d req), under %d slow connections p99 %.2f ms "
                  "(%d req), ratio %.2f, 408s %d/%d"
                  % (r + 1, p99(base), len(base), n, p99(loaded), len(loaded), ratio,
                     result.get("got", 0), n))
        time.sleep(1)
        with open(serve.access_log) as f:
            recs = [json.loads(line) for line in f]
        log_408 = sum(1 for x in recs if x.get("status") == 408)
        print("median p99 ratio %.2f over %d rounds; 408 answers %d, 408 records %d, expected %d"
              % (statistics.median(ratios), rounds, total_408, log_408, n * rounds))
        if statistics.median(ratios) > 2:
            failures.append("steady client's p99 more than doubled")
        if total_408 != n * rounds or log_408 != n * rounds:
            failures.append("not every slow connection ended with its 408 and record")
    return run_checks(serve, check)


if __name__ == "__main__":
    sys.exit(main())
