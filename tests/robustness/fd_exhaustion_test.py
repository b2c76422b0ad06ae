#!/usr/bin/env python3
"""Descriptor exhaustion (issue 12): `albsim serve` with a 256-descriptor limit and 400 clients.

Checks what an operator needs: accept errors are reported at most about once a second (not per
attempt), the proxy neither crashes nor spins (CPU measured over 3 s), and service resumes by
itself as soon as the clients leave and descriptors free up.
Usage: fd_exhaustion_test.py ALBSIM_BINARY
"""
import socket
import sys
import time

from serve_process import ServeProcess, get, run_checks

CLIENTS = 400
LIMIT = 256


def main():
    albsim = sys.argv[1]
    serve = ServeProcess(albsim, nofile=LIMIT)

    def check(failures):
        if get(serve.port) != 200:
            failures.append("no 200 before the test")
        clients = []
        for _ in range(CLIENTS):
            clients.append(socket.create_connection(("127.0.0.1", serve.port), timeout=5))
        # Bounded wait for the first report of the exhaustion.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not serve.lines_since(0, "accept failed"):
            time.sleep(0.05)
        if not serve.lines_since(0, "accept failed"):
            failures.append("no accept failure reported with %d clients and %d descriptors"
                            % (CLIENTS, LIMIT))
        window_start = time.monotonic()
        cpu_before = serve.cpu_seconds()
        time.sleep(3.0)  # the measurement window itself
        cpu = (serve.cpu_seconds() - cpu_before) / 3.0
        reports = serve.lines_since(window_start, "accept failed")
        print("exhausted: %d accept-failure lines in 3 s, CPU %.1f %% of a core"
              % (len(reports), cpu * 100))
        if cpu > 0.25:
            failures.append("busy loop: %.0f %% of a core while descriptors are exhausted"
                            % (cpu * 100))
        if len(reports) > 5:
            failures.append("accept failures logged %d times in 3 s (not rate-limited)"
                            % len(reports))
        if serve.proc.poll() is not None:
            failures.append("albsim serve died (exit %s)" % serve.proc.returncode)
        for c in clients:
            c.close()
        # Service resumes once the descriptors are free (bounded wait, one request at a time).
        resumed_at = None
        start = time.monotonic()
        while time.monotonic() < start + 20:
            if get(serve.port, timeout=2) == 200:
                resumed_at = time.monotonic() - start
                break
        if resumed_at is None:
            failures.append("no 200 within 20 s after the clients left")
        else:
            print("resumed %.2f s after the clients left" % resumed_at)
    return run_checks(serve, check)


if __name__ == "__main__":
    sys.exit(main())
