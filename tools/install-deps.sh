#!/usr/bin/env bash
# Install the Debian packages needed to build and test resdex.
# Idempotent: apt-get is only run when some package is missing.
#
# Usage: tools/install-deps.sh [--with-test-tools]
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

PACKAGES=(
  build-essential
  cmake
  pkg-config
  libxapian-dev
  xapian-tools
  libicu-dev
  libcli11-dev
  libfmt-dev
  doctest-dev
  libyaml-cpp-dev
  libmd4c-dev
  nlohmann-json3-dev
  rapidjson-dev
  libxxhash-dev
  zlib1g-dev
  lld
  libzstd-dev
  libjemalloc-dev
  libcpp-httplib-dev
)

# Extra tools for the test suite (man -l checks the man page; clang 14 and
# its compiler-rt runtime build the libFuzzer targets, tools/test.sh;
# headless Chromium drives the web page in tests/e2e/serve_test.cc; wrk is
# the load generator of tools/bench/serve_bench.sh).
TEST_EXTRA=(
  man-db
  clang-14
  libclang-rt-14-dev
  chromium
  wrk
)

usage() {
  echo "usage: $0 [--with-test-tools]" >&2
}

for arg in "$@"; do
  case "$arg" in
    --with-test-tools) PACKAGES+=("${TEST_EXTRA[@]}") ;;
    -h|--help) usage; exit 0 ;;
    *) echo "$0: unknown argument: $arg" >&2; usage; exit 2 ;;
  esac
done

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo env DEBIAN_FRONTEND=noninteractive)
  else
    echo "install-deps: not root and sudo not found; cannot install: ${missing[*]}" >&2
    exit 1
  fi
fi

echo "install-deps: installing ${missing[*]}"
"${SUDO[@]}" apt-get update
"${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
