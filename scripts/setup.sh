#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine: installs what is missing (apt-get, as root or
# through sudo), configures and builds albsim, then runs the main job or the tests.
#   scripts/setup.sh run    build, then `albsim scenarios run all`
#   scripts/setup.sh test   build, then the whole ctest suite
#   scripts/setup.sh build  build only
# Environment: BUILD_DIR (default build), ALBSIM_SANITIZE=ON for an ASan+UBSan build.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}
build_dir=${BUILD_DIR:-build}

packages=(g++ cmake make pkg-config ccache libboost1.81-dev libssl-dev libspdlog-dev libfmt-dev
          libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev openssl
          curl python3 libsimdjson-dev zlib1g-dev prometheus-cpp-dev)
# The browser test of the teaching report (tests/browser/) drives Debian's Chromium.
if [ "$mode" = test ]; then packages+=(python3-yaml chromium); fi
# The retry kit's client and examples (clients/python, examples/) run under pytest; one of them
# scrapes /metrics with Debian's Prometheus and checks it with promtool; one builds a Go client
# on Debian's go-retryablehttp; one runs Node with axios-retry (npm, below).
if [ "$mode" = test ]; then
  packages+=(python3-pytest python3-urllib3 prometheus golang-go golang-github-hashicorp-go-retryablehttp-dev
             nodejs)
  command -v npm >/dev/null || packages+=(npm)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# ccache: the same sources in another clone (CI) still hit the cache.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DALBSIM_SANITIZE="${ALBSIM_SANITIZE:-OFF}" >/dev/null
cmake --build "$build_dir" -j2

# The Node example of the retry kit takes axios and axios-retry from npm (its lock file pins them).
if [ "$mode" = test ] && [ ! -d examples/node-axios-retry/node_modules ]; then
  (cd examples/node-axios-retry && npm ci --no-audit --no-fund --loglevel=error)
fi

case "$mode" in
  build) ;;
  run) "$build_dir/albsim" scenarios run all ;;
  test) ctest --test-dir "$build_dir" --output-on-failure -j2 --timeout 300 ;;
  *) echo "usage: scripts/setup.sh run|test|build" >&2; exit 2 ;;
esac
