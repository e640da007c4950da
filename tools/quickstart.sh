#!/usr/bin/env bash
# Fresh machine to first search: install what is missing, build, index the
# bundled corpus (corpus/ -> index/) and run an example search.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
build/resdex index
build/resdex search "inverse problems"
