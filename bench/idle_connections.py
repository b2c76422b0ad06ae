#!/usr/bin/env python3
"""Opens N idle keep-alive connections to HOST:PORT (each sends one request first, so the
proxy has served it and holds the connection idle), prints the proxy's RSS, then closes all.
Usage: idle_connections.py HOST PORT N PID"""
import resource
import socket
import sys
import time

host, port, n, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 1000), hard))


def rss_kib(p):
    with open(f"/proc/{p}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


before = rss_kib(pid)
socks = []
req = b"GET /status/200 HTTP/1.1\r\nHost: x\r\n\r\n"
deadline = time.time() + 120
for i in range(n):
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(req)
    socks.append(s)
    if time.time() > deadline:
        break
# Read every answer so each connection is idle on the proxy's side.
for s in socks:
    s.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
after = rss_kib(pid)
print(f"idle connections: {len(socks)}  proxy RSS before: {before/1024:.1f} MiB  "
      f"with them open: {after/1024:.1f} MiB  per connection: {(after-before)*1024/max(1,len(socks)):.0f} B")
for s in socks:
    s.close()
