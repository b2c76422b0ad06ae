#!/usr/bin/env python3
"""Installed, not only built: `cmake --install` into a temporary prefix, then the installed tree
is run. The binary must find its catalogue beside itself (share/albsim/scenarios), write the
teaching report from there, and ship the example configs. The Docker files are checked at file
level (there is no Docker engine here): the image installs the same tree and docker-compose.yml
runs the catalogue and the report.

Every subprocess is bounded; the exit status is 0 only when every check passed.
"""
import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", required=True)
    parser.add_argument("--source", required=True)
    args = parser.parse_args()
    source = Path(args.source)
    failures = []

    def check(ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    with tempfile.TemporaryDirectory(prefix="albsim-prefix-") as tmp:
        prefix = Path(tmp) / "usr"
        run = subprocess.run(["cmake", "--install", args.build, "--prefix", str(prefix)],
                             capture_output=True, text=True, timeout=120)
        check(run.returncode == 0, "cmake --install succeeds: " + run.stderr.strip()[-300:])
        albsim = prefix / "bin" / "albsim"
        check(albsim.is_file() and os.access(albsim, os.X_OK), "bin/albsim is installed")
        catalogue = prefix / "share" / "albsim" / "scenarios"
        wanted = sorted(p.name for p in (source / "scenarios" / "catalogue").glob("*.yaml"))
        got = sorted(p.name for p in catalogue.glob("*.yaml"))
        check(got == wanted and len(got) > 0, f"the catalogue is installed ({len(got)} files)")
        configs = sorted(p.name for p in (source / "configs").glob("*.yaml"))
        installed = sorted(p.name for p in (prefix / "share" / "albsim" / "configs").glob("*.yaml"))
        check(installed == configs, f"the example configs are installed ({len(installed)} files)")

        site = Path(tmp) / "site"
        run = subprocess.run([str(albsim), "scenarios", "run", "503", "--quiet", "--html",
                              str(site)], capture_output=True, text=True, timeout=60, cwd=tmp)
        check(run.returncode == 0, "the installed albsim runs the 503 scenarios: " +
              (run.stdout + run.stderr).strip()[-300:])
        check((site / "index.html").is_file() and
              (site / "causes" / "503-qps-limited.html").is_file(),
              "scenarios run --html writes the site")

        # The catalogue comes from the prefix, not from the source tree: one file taken out of
        # the installed copy is missing from what the installed binary lists.
        (catalogue / wanted[0]).unlink()
        run = subprocess.run([str(albsim), "scenarios", "list"], capture_output=True, text=True,
                             timeout=30, cwd=tmp)
        listed = [line.split()[0] for line in run.stdout.splitlines() if line.strip()]
        check(run.returncode == 0 and len(listed) == len(wanted) - 1 and
              Path(wanted[0]).stem not in listed,
              "the installed binary reads the installed catalogue")
        run = subprocess.run([str(albsim), "scenarios", "list", "--dir",
                              str(source / "scenarios" / "catalogue")],
                             capture_output=True, text=True, timeout=30)
        check(len(run.stdout.splitlines()) == len(wanted), "--dir still overrides")

    # Docker, at file level.
    dockerfile = (source / "Dockerfile").read_text()
    check("cmake --install build --prefix /opt/albsim" in dockerfile and
          "COPY --from=build /opt/albsim /usr/local" in dockerfile,
          "the image installs the same tree under /usr/local")
    # Every shared library the binary loads comes from debian:12-slim itself or from a package
    # the runtime stage installs (a missing one only shows when the container starts).
    runtime_stage = dockerfile.split("FROM debian:12-slim", 1)[-1]
    base = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"}  # in debian:12-slim already
    ldd = subprocess.run(["ldd", str(Path(args.build) / "albsim")], capture_output=True,
                         text=True, timeout=30).stdout
    paths = [part for line in ldd.splitlines() for part in line.split() if part.startswith("/")]
    for path in paths:
        owner = subprocess.run(["dpkg", "-S", os.path.realpath(path)], capture_output=True,
                               text=True, timeout=30).stdout.split(":")[0]
        if not owner:  # usrmerge: dpkg knows the file under the other spelling of its path
            other = path.replace("/usr/lib/", "/lib/", 1) if path.startswith("/usr/") else \
                "/usr" + path
            owner = subprocess.run(["dpkg", "-S", other], capture_output=True, text=True,
                                   timeout=30).stdout.split(":")[0]
        if owner and owner not in base:
            check(owner in runtime_stage.split(),
                  f"the image's runtime stage installs {owner} (for {Path(path).name})")
    services = yaml.safe_load((source / "docker-compose.yml").read_text())["services"]
    commands = {name: s.get("command") for name, s in services.items()}
    check(["albsim", "scenarios", "run", "all"] in commands.values(),
          "docker-compose.yml runs albsim scenarios run all")
    report = [(n, c) for n, c in commands.items() if c and c[:2] == ["albsim", "report"]]
    check(len(report) == 1 and any(v.endswith(":" + report[0][1][2])
                                   for v in services[report[0][0]].get("volumes", [])),
          "docker-compose.yml runs albsim report into a mounted directory")
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
