#!/usr/bin/env python3
"""The teaching report, checked in a real browser.

Runs `albsim report DIR` (the whole catalogue) and opens every page of the site in headless
Chromium (Debian's `chromium`), driven over the DevTools protocol on --remote-debugging-pipe
with the standard library only. Checks that every page loads without a console error or a
request outside DIR, that its links stay inside DIR, that every cause page's diagram has the
three lanes and the arrows its scenario file implies (read independently from the YAML), and
that the practice page reveals the right answer when a choice is clicked. Writes screenshots of
the index and two cause pages to --out.

Every wait is bounded; the exit status is 0 only when every check passed.
"""
import argparse
import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import yaml

PAGE_TIMEOUT_S = 20
REPORT_BUDGET_S = 15  # the bound for `albsim report DIR`


class Browser:
    """Chromium over --remote-debugging-pipe: fd 3 carries commands in, fd 4 replies out, each
    message a JSON text ended by a NUL byte."""

    def __init__(self, profile):
        exe = shutil.which("chromium") or shutil.which("chromium-browser")
        if not exe:
            raise SystemExit("chromium is not installed (scripts/setup.sh installs it)")
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()

        def wire_pipes():
            # Out of the way first, so that neither end lands on the other's target number.
            high_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            high_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.proc = subprocess.Popen(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             "--user-data-dir=" + profile, "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--disable-background-networking", "--disable-sync",
             "--disable-component-update", "--disable-dev-shm-usage", "--hide-scrollbars",
             "about:blank"],
            preexec_fn=wire_pipes, pass_fds=(3, 4),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        os.set_blocking(self.from_browser, False)
        self.buffer = b""
        self.next_id = 0
        self.events = []
        self.session = None

    def close(self):
        try:
            self.call("Browser.close", session=False, timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def _read_message(self, deadline):
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no message from chromium in time")
            ready, _, _ = select.select([self.from_browser], [], [], left)
            if ready:
                chunk = os.read(self.from_browser, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium closed the pipe")
                self.buffer += chunk
        message, _, self.buffer = self.buffer.partition(b"\0")
        return json.loads(message)

    def call(self, method, params=None, session=True, timeout=PAGE_TIMEOUT_S):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_for(self, method, timeout=PAGE_TIMEOUT_S):
        deadline = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e["method"] == method:
                    return self.events.pop(i)
            self.events.append(self._read_message(deadline))

    def open_tab(self):
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=False)
        attached = self.call("Target.attachToTarget",
                             {"targetId": target["targetId"], "flatten": True}, session=False)
        self.session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(domain + ".enable")
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": 1000, "height": 1400, "deviceScaleFactor": 1, "mobile": False})

    def navigate(self, url):
        """Loads `url`; returns (problems, requested URLs) seen while it loaded."""
        self.events.clear()
        self.call("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")
        # One round trip after the load event: messages queued before it are read now.
        self.evaluate("1")
        problems, requested = [], []
        for e in self.events:
            p = e.get("params", {})
            if e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                problems.append("console error: " + json.dumps(p.get("args"))[:300])
            elif e["method"] == "Runtime.exceptionThrown":
                problems.append("exception: " + json.dumps(p.get("exceptionDetails"))[:300])
            elif e["method"] == "Log.entryAdded" and p["entry"].get("level") == "error":
                problems.append("log error: " + p["entry"].get("text", "")[:300])
            elif e["method"] == "Network.requestWillBeSent":
                requested.append(p["request"]["url"])
        self.events.clear()
        return problems, requested

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate",
                           {"expression": expression, "returnByValue": True,
                            "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError("evaluate failed: " + json.dumps(result["exceptionDetails"])[:300])
        return result["result"].get("value")

    def click(self, selector):
        """A real mouse click in the middle of the element (scrolled into view first)."""
        box = self.evaluate(
            "(() => { const e = document.querySelector(%s); e.scrollIntoView({block: 'center'});"
            " const r = e.getBoundingClientRect();"
            " return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()"
            % json.dumps(selector))
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent",
                      {"type": kind, "x": box["x"], "y": box["y"], "button": "left",
                       "clickCount": 1})

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        Path(path).write_bytes(base64.b64decode(data))


DIAGRAM = """JSON.stringify({
  lanes: [...document.querySelectorAll('svg.sequence .lane')].map(g => g.dataset.lane),
  events: [...document.querySelectorAll('svg.sequence .event')].map(g => ({
    kind: g.dataset.kind, from: g.dataset.from, to: g.dataset.to})),
  text_items: document.querySelectorAll('.sequence-text li').length,
  drawn: document.querySelector('svg.sequence') ?
         document.querySelector('svg.sequence').getBoundingClientRect().height : 0,
  svg_title: document.querySelector('svg.sequence title') ?
             document.querySelector('svg.sequence title').textContent : ''
})"""

LINKS = "JSON.stringify([...document.querySelectorAll('a[href], link[href], script[src]')]" \
        ".map(e => e.href || e.src))"


def number_at_least(matcher, bound):
    """Whether an expectation (a number or a matcher mapping) promises a value >= bound."""
    if isinstance(matcher, (int, float)):
        return matcher >= bound
    if isinstance(matcher, dict):
        for key in ("at_least", "approx"):
            if isinstance(matcher.get(key), (int, float)) and matcher[key] >= bound:
                return True
    return False


def implied(scenario):
    """What the scenario file says the diagram must and must not show: (must, must_not), each
    a list of (description, predicate over one event)."""
    expect = scenario.get("expect", {})
    client = expect.get("client", {}) or {}
    log = expect.get("log", {}) or {}
    backends = expect.get("backend", {}) or {}
    modes = {b.get("name"): b.get("mode", "normal") for b in scenario.get("backends", []) or []}
    must, must_not = [], []

    def arrow(kind, frm, to):
        return (f"{kind} {frm}->{to}",
                lambda e: e["kind"] == kind and e["from"] == frm and e["to"] == to)

    outcome = client.get("outcome")
    if outcome == "response":
        must.append(arrow("response", "balancer", "client"))
    elif outcome == "timeout":
        must.append(arrow("timer", "client", "client"))
        must.append(arrow("fin", "client", "balancer"))
    elif outcome == "client-closed":
        must.append(arrow("fin", "client", "balancer"))
    elif outcome == "reset":
        must.append(arrow("rst", "balancer", "client"))
    elif outcome == "closed":
        must.append(arrow("fin", "balancer", "client"))
    if outcome in ("response", "timeout", "client-closed") and client.get("action") != "burst":
        must.append(arrow("request", "client", "balancer"))

    if log.get("upstream_addr") == {"present": False}:
        must_not.append(("any arrow to or from the backend",
                         lambda e: "backend" in (e["from"], e["to"])))
    if isinstance(log.get("upstream_connect_time"), dict) and \
            number_at_least(log["upstream_connect_time"], 4):
        must.append(arrow("timer", "balancer", "balancer"))
        must.append(arrow("syn", "balancer", "backend"))
        must_not.append(("a completed handshake with the backend",
                         lambda e: e["kind"] == "connect" and e["to"] == "backend"))
    for name, counters in backends.items():
        counters = counters or {}
        if counters.get("requests") == 0:
            must_not.append(("a request reaching the backend",
                             lambda e: e["kind"] == "request" and e["to"] == "backend"))
        if number_at_least(counters.get("resets"), 1):
            must.append(arrow("rst", "backend", "balancer"))
        mode = modes.get(name, "normal")
        if mode == "refuse":
            must.append(arrow("refused", "backend", "balancer"))
        if mode == "queue-full-reset":
            must.append(arrow("rst", "backend", "balancer"))
    if log.get("upstream_addr") == {"present": True} and not any(
            (c or {}).get("requests") == 0 for c in backends.values()):
        must.append(arrow("request", "balancer", "backend"))
    return must, must_not


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--albsim", required=True)
    parser.add_argument("--catalogue", required=True)
    parser.add_argument("--out", required=True, help="where the screenshots go")
    args = parser.parse_args()
    failures = []
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="albsim-report-") as tmp:
        site = Path(tmp) / "site"
        start = time.monotonic()
        run = subprocess.run([args.albsim, "report", str(site), "--dir", args.catalogue],
                             capture_output=True, text=True, timeout=120)
        took = time.monotonic() - start
        print(run.stdout.strip())
        print(f"albsim report took {took:.3f} s (budget {REPORT_BUDGET_S} s)")
        if run.returncode != 0:
            failures.append(f"albsim report exited {run.returncode}: {run.stderr.strip()}")
        if took > REPORT_BUDGET_S:
            failures.append(f"albsim report took {took:.3f} s, over {REPORT_BUDGET_S} s")

        scenarios = {}
        for f in sorted(Path(args.catalogue).glob("*.yaml")):
            s = yaml.safe_load(f.read_text())
            scenarios[s["id"]] = s
        site_prefix = site.resolve().as_uri() + "/"

        browser = Browser(str(Path(tmp) / "profile"))
        try:
            browser.open_tab()
            pages = ["index.html", "reading.html", "practice.html"] + \
                [f"causes/{i}.html" for i in sorted(scenarios)]
            for rel in pages:
                path = site / rel
                if not path.exists():
                    failures.append(f"{rel}: not written")
                    continue
                problems, requested = browser.navigate(path.resolve().as_uri())
                for p in problems:
                    failures.append(f"{rel}: {p}")
                for url in requested:
                    if not url.startswith(site_prefix):
                        failures.append(f"{rel}: requested {url}, outside the site")
                for url in json.loads(browser.evaluate(LINKS)):
                    target = urllib.parse.urlsplit(url)
                    if not url.startswith(site_prefix) or \
                            not Path(urllib.parse.unquote(target.path)).exists():
                        failures.append(f"{rel}: link to {url} leaves the site or is missing")
                if rel.startswith("causes/"):
                    cid = Path(rel).stem
                    d = json.loads(browser.evaluate(DIAGRAM))
                    if d["lanes"] != ["client", "balancer", "backend"]:
                        failures.append(f"{rel}: lanes {d['lanes']}")
                    if d["drawn"] <= 0 or not d["events"]:
                        failures.append(f"{rel}: the diagram is empty")
                    if d["text_items"] != len(d["events"]):
                        failures.append(f"{rel}: {len(d['events'])} arrows but "
                                        f"{d['text_items']} items in the text equivalent")
                    must, must_not = implied(scenarios[cid])
                    for what, test in must:
                        if not any(test(e) for e in d["events"]):
                            failures.append(f"{rel}: no {what} arrow")
                    for what, test in must_not:
                        if any(test(e) for e in d["events"]):
                            failures.append(f"{rel}: shows {what}, which it must not")
                if rel in ("index.html", "causes/500-backend-reset.html",
                           "causes/504-connect-timeout.html"):
                    shot = out / ("report-" + Path(rel).stem + ".png")
                    browser.screenshot(shot)
                    print(f"screenshot {shot}")

            # The flagship cases, named by the issue.
            for cid, what, test, wanted in (
                    ("500-backend-reset", "an RST from the backend",
                     lambda e: e["kind"] == "rst" and e["from"] == "backend", True),
                    ("503-qps-limited", "an arrow to or from the backend",
                     lambda e: "backend" in (e["from"], e["to"]), False)):
                browser.navigate((site / "causes" / f"{cid}.html").resolve().as_uri())
                events = json.loads(browser.evaluate(DIAGRAM))["events"]
                if any(test(e) for e in events) != wanted:
                    failures.append(f"{cid}: {'missing' if wanted else 'shows'} {what}")

            failures += check_practice(browser, site)
        finally:
            browser.close()

    summary = [f"FAIL {f}" for f in failures] + \
        [f"{len(pages)} pages checked; {len(failures)} failures"]
    print("\n".join(summary))
    # Kept beside the screenshots, for a failure seen in CI.
    (out / "report_browser_test.log").write_text(
        run.stdout + f"albsim report took {took:.3f} s\n" + "\n".join(summary) + "\n")
    return 1 if failures else 0


def check_practice(browser, site):
    """Clicks a wrong choice and then the right one on every question; the revealed answer
    must be the cause whose page shows the same record (same client port and time)."""
    failures = []
    browser.navigate((site / "practice.html").resolve().as_uri())
    quizzes = json.loads(browser.evaluate(
        "JSON.stringify([...document.querySelectorAll('.quiz')].map(q => ({id: q.id,"
        " record: JSON.parse(q.querySelector('pre').textContent),"
        " choices: [...q.querySelectorAll('button[data-choice]')].map(b => b.dataset.choice),"
        " hidden: q.querySelector('.answer').hidden})))"))
    if not quizzes:
        return ["practice.html: no questions"]
    truth = {}
    for q in quizzes:
        if "sim_cause" in q["record"] or "sim_detail" in q["record"]:
            failures.append(f"practice {q['id']}: the record gives the cause away")
        if not q["hidden"]:
            failures.append(f"practice {q['id']}: the answer shows before a choice")
    # Which cause page holds each record: an independent source for the right answer.
    for page in (site / "causes").glob("*.html"):
        browser.navigate(page.resolve().as_uri())
        fields = json.loads(browser.evaluate(
            "JSON.stringify(Object.fromEntries([...document.querySelectorAll('table.record tr')]"
            ".filter(r => r.cells.length === 3).map(r => [r.cells[0].textContent.replace('★ ', '')"
            ".trim(), r.cells[1].textContent.trim()])))"))
        truth[(fields.get("client_port"), fields.get("time"))] = page.stem
    browser.navigate((site / "practice.html").resolve().as_uri())
    for q in quizzes:
        expected = truth.get((str(q["record"].get("client_port")), q["record"].get("time")))
        if expected is None:
            failures.append(f"practice {q['id']}: its record is on no cause page")
            continue
        wrong = [c for c in q["choices"] if c != expected]
        sel = f"#{q['id']}"
        if wrong:
            browser.click(f'{sel} button[data-choice="{wrong[0]}"]')
            state = json.loads(browser.evaluate(
                f"JSON.stringify({{f: document.querySelector('{sel} .feedback').textContent,"
                f" shown: !document.querySelector('{sel} .answer').hidden}})"))
            if not state["f"].startswith("\u2717") or expected not in state["f"]:
                failures.append(f"practice {q['id']}: a wrong pick said {state['f']!r}")
        browser.click(f'{sel} button[data-choice="{expected}"]')
        state = json.loads(browser.evaluate(
            f"JSON.stringify({{f: document.querySelector('{sel} .feedback').textContent,"
            f" shown: !document.querySelector('{sel} .answer').hidden,"
            f" answer: document.querySelector('{sel} .answer').textContent}})"))
        if not state["f"].startswith("\u2713") or not state["shown"] or \
                expected not in state["answer"]:
            failures.append(f"practice {q['id']}: the right pick ({expected}) gave {state}")
    print(f"practice: {len(quizzes)} questions clicked")

    # Printed, the answers show and the navigation and buttons do not.
    browser.navigate((site / "practice.html").resolve().as_uri())
    browser.call("Emulation.setEmulatedMedia", {"media": "print"})
    printed = json.loads(browser.evaluate(
        "JSON.stringify({answers: [...document.querySelectorAll('.answer')].every(a =>"
        " getComputedStyle(a).display !== 'none'), nav: getComputedStyle("
        "document.querySelector('nav')).display, button: getComputedStyle("
        "document.querySelector('.quiz button')).display})"))
    browser.call("Emulation.setEmulatedMedia", {"media": ""})
    if not printed["answers"] or printed["nav"] != "none" or printed["button"] != "none":
        failures.append(f"practice.html printed: {printed}")
    return failures


if __name__ == "__main__":
    sys.exit(main())
