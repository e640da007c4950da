#!/usr/bin/env bash
# Fresh machine to green tests: install what is missing (with the test
# tools), build, and run every unit and end-to-end test; then the whole
# suite again under AddressSanitizer and UBSan (build-asan), and a short run
# of each libFuzzer target (build-fuzz, clang). From a clean clone on 2 idle
# cores this takes about 8 minutes (22 minutes measured on a machine busy
# with four other builds). See docs/reliability.md.
#
# Usage: tools/test.sh [--full|--quick]   (--full is the default; --quick
# stops after the normal build's tests, for a quick check while working)
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
for arg in "$@"; do
  case "$arg" in
    --full) quick=0 ;;
    --quick) quick=1 ;;
    *) echo "usage: $0 [--quick|--full]" >&2; exit 2 ;;
  esac
done
tools/install-deps.sh --with-test-tools
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j"$(nproc)"
[[ $quick -eq 1 ]] && exit 0

# Sanitizers: every test again, ASan + UBSan + leak checking. -O1 -g1
# compiles in half the time of -O2 -g and keeps file:line in reports.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRESDEX_SANITIZE=ON \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG"
cmake --build build-asan -j"$(nproc)"
ctest --test-dir build-asan --output-on-failure -j"$(nproc)"

# Fuzzing: only the fuzz targets (clang), each run on its seed corpus plus
# a few thousand mutations ("fuzz: <target>" tests, 20 s at most each).
fuzz_targets=(fuzz_data fuzz_front_matter fuzz_jsonl fuzz_normalizer fuzz_query fuzz_synonyms)
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
  -DRESDEX_FUZZ=ON -DRESDEX_BUILD_TESTS=OFF
cmake --build build-fuzz -j"$(nproc)" --target "${fuzz_targets[@]}"
ctest --test-dir build-fuzz --output-on-failure -j"$(nproc)"
