#!/usr/bin/env bash
# Fresh machine to green tests: install what is missing (with the test
# tools), build, and run every unit and end-to-end test.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh --with-test-tools
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j"$(nproc)"
