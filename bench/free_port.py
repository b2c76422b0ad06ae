#!/usr/bin/env python3
"""Prints a port the kernel considers free on 127.0.0.1 (for tools that need a fixed port)."""
import socket

s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
