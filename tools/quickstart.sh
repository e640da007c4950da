#!/usr/bin/env bash
# Fresh machine to first search: install what is missing, build, index the
# bundled corpus (corpus/ -> index/) and run an example search.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
# Only the program: the tests are tools/test.sh's business.
cmake --build build -j"$(nproc)" --target resdex
build/resdex index
build/resdex search "inverse problems"
