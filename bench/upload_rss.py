#!/usr/bin/env python3
"""Streams SIZE bytes as one POST body through HOST:PORT and reports the proxy's peak RSS
(VmHWM of PID) and throughput. Usage: upload_rss.py HOST PORT SIZE_BYTES PID"""
import socket
import sys
import time

host, port, size, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])


def status_kib(p, key):
    with open(f"/proc/{p}/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1])
    return -1


s = socket.create_connection((host, port), timeout=60)
s.sendall(f"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n".encode())
block = b"\0" * (1 << 20)
sent = 0
start = time.time()
while sent < size:
    n = min(len(block), size - sent)
    s.sendall(block[:n])
    sent += n
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
elapsed = time.time() - start
status = data.split(b" ", 2)[1].decode() if data else "none"
print(f"upload {size/2**30:.1f} GiB: status {status}, {elapsed:.1f} s, {size/elapsed/2**20:.0f} MiB/s, "
      f"proxy peak RSS {status_kib(pid, 'VmHWM:')/1024:.1f} MiB")
