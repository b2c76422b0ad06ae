#!/usr/bin/env python3
"""Grows the fuzz seed corpora (tests/fuzz/corpus/<harness>/) from the test suite's inputs.

Raw HTTP requests and responses are the string literals of tests/*.cpp that hold a request or
status line; configs, scripts and scenarios are the shipped files; X-Albsim-Backend values are
the ones the tests and docs use. Request-smuggling and framing shapes are added by hand below.
Files are named after a hash of their content, so running this again adds only what is new.
Usage: tests/fuzz/seed_corpus.py   (from anywhere; writes into the source tree)
"""
import ast
import glob
import hashlib
import os
import re

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
corpus = os.path.join(root, "tests", "fuzz", "corpus")


def add(harness, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(corpus, harness)
    os.makedirs(d, exist_ok=True)
    name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# C++ string literals (adjacent literals joined), decoded as Python would decode them.
literal = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
for path in glob.glob(os.path.join(root, "tests", "*.cpp")) + glob.glob(
        os.path.join(root, "tests", "support", "*.cpp")):
    text = open(path, encoding="utf-8").read()
    for statement in re.split(r";", text):
        parts = literal.findall(statement)
        if not parts:
            continue
        try:
            s = "".join(ast.literal_eval('"' + p + '"') for p in parts)
        except (ValueError, SyntaxError):
            continue
        if re.match(r"^[A-Z]+ \S* HTTP/1\.[01]\r\n", s):
            add("request_head", s)
        elif s.startswith("HTTP/1.") and "\r\n" in s:
            add("response_head", s)
        for value in re.findall(r"X-Albsim-Backend: ([^\r\n]*)", s):
            add("action_grammar", value)

for path in glob.glob(os.path.join(root, "configs", "proxy-*.yaml")):
    add("proxy_config", open(path, "rb").read())
for path in glob.glob(os.path.join(root, "configs", "backend-*.yaml")):
    add("backend_script", open(path, "rb").read())
for path in glob.glob(os.path.join(root, "scenarios", "catalogue", "*.yaml")):
    add("scenario", open(path, "rb").read())
for path in glob.glob(os.path.join(root, "docs", "*.md")) + [os.path.join(root, "README.md")]:
    for value in re.findall(r"X-Albsim-Backend: ([^'`\r\n]*)", open(path, encoding="utf-8").read()):
        add("action_grammar", value.strip())

# Request smuggling and framing shapes (RFC 9112 6.1, 6.3, 5.2; 2.2 for bare LF).
smuggling = [
    # CL.TE and TE.CL: both framings on one request.
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
    # Transfer codings that are not (only) chunked.
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
    "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    # Two lengths, a list, a sign.
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello",
    # Duplicate Host, Host with a space before the colon.
    "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
    # obs-fold and bare LF.
    "GET / HTTP/1.1\r\nHost: a\r\nX-Long: one\r\n two\r\n\r\n",
    "GET / HTTP/1.1\nHost: a\n\n",
    "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n",
    # Chunk extensions and trailers; a chunk size with a sign or overflow.
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1;q=\"x\"\r\nhello\r\n0\r\nTrailer-A: 1\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
    # Pipelined requests, and a body followed by garbage.
    "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\nHEAD /c HTTP/1.0\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nokGARBAGE\r\n\r\n",
    "TRACE / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nX-Forwarded-For: 1.2.3.4\r\nX-Forwarded-For: 5.6.7.8\r\nX-Real-IP: 9.9.9.9\r\n\r\n",
    "GET /" + "a" * 60 + " HTTP/1.1\r\nHost: a\r\nX-Big: " + "b" * 70 + "\r\n\r\n",
    "GET / HTTP/2.0\r\nHost: a\r\n\r\n",
    "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
]
for s in smuggling:
    add("request_head", s)

responses = [
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\nhello",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: 1\r\n\r\n",
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n",
    "HTTP/1.0 200 OK\r\n\r\nbody until close",
    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    "HTTP/1.1 200 OK\nX: y\n\n",
    "HTTP/1.1 200 OK\r\nX: one\r\n two\r\nContent-Length: 0\r\n\r\n",
    "HTTP/1.1 2x0 Malformed\r\n\r\n",
    "HTTP/1.1 200 OK\r\nBroken header line\r\n\r\n",
    "HTTP/1.1 200 OK\r\nConnection: close\r\nKeep-Alive: 5\r\nContent-Length: 2\r\n\r\nok",
]
for s in responses:
    add("response_head", s)

for s in ["", "respond", "status=200,,;", " reset = 12 ", "header=: x", "header= A : b ",
          "drip=1/s", "drip=5/s, bytes=1KiB", "drip=10KiB/250ms", "hang=1e3s", "delay=nan",
          "bytes=1e30", "delay=-1s", "body", "body=a=b", "status=099", "status=600",
          "partial-body=3, status=201, header=X:1, header=Y:2"]:
    add("action_grammar", s)
