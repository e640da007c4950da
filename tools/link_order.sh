#!/usr/bin/env bash
# Writes src/cli/link_order.txt: the functions of the resdex binary that a
# search runs, which the link puts side by side at the front of its code
# (CMakeLists.txt, RESDEX_LINK_ORDER; docs/performance.md). A search then
# maps a few hundred KB of the program instead of most of its 2 MB; the
# kernel maps 64 KB around each page first touched, and each such fault
# costs ~5 us on the benchmark machine.
#
# Usage: tools/link_order.sh [BUILD_DIR] [INDEX_DIR...]
#   BUILD_DIR  a build of resdex (default: build)
#   INDEX_DIR  indexes to search (default: index, the bundled corpus's). Give
#              a large one too (the ACL abstracts of tools/bench), so that
#              the estimated counts of broad queries are among the paths run.
#
# Needs valgrind (callgrind lists every function a run executes, however
# briefly, which sampling would miss). A name that no longer exists is
# ignored by the linker, so a stale list costs speed, never correctness.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
indexes=("$@")
[[ ${#indexes[@]} -gt 0 ]] || indexes=(index)
program="$build/resdex"
[[ -x "$program" ]] || { echo "$0: no program at $program (build it first)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "$0: valgrind is needed (apt-get install valgrind)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
queries=(
  "inverse problems"
  "neural machine translation"
  '"machine translation" evaluation'
  "optimi* learning"
  "title:graph networks"
  "speach recognition"
)
n=0
for idx in "${indexes[@]}"; do
  for q in "${queries[@]}"; do
    for extra in "" "--json" "--institution TU"; do
      # shellcheck disable=SC2086
      valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/cg.$n" \
        "$program" search --index "$idx" --limit 10 $extra "$q" >/dev/null 2>&1 || true
      n=$((n + 1))
    done
  done
done

# Every function named in the profiles that the program defines, except
# names that several objects define where one of them is in another
# library's static archive (ICU, zstd, xxHash, yaml-cpp): those archives
# are built without function sections, so such a name (a ".constprop"
# clone of a std::string constructor, say) would bring along the whole
# object. Local copies in resdex's own objects, each a section of its own,
# are kept: otherwise each stays where its object put it, and a search
# touches a 64 KB window for it.
nm --defined-only "$program" | awk '$2 ~ /^[tTwW]$/ {print $3}' | sort >"$work/all"
uniq -u "$work/all" >"$work/once"
uniq -d "$work/all" >"$work/repeated"
link="$build/CMakeFiles/resdex.dir/link.txt"
: >"$work/foreign"
if [[ -f "$link" ]]; then
  mapfile -t archives < <(tr ' ' '\n' <"$link" | grep -E '^/.*\.a$' | sort -u)
  if [[ ${#archives[@]} -gt 0 ]]; then
    nm --defined-only "${archives[@]}" 2>/dev/null | awk 'NF == 3 && $2 ~ /^[tTwW]$/ {print $3}' |
      sort -u >"$work/foreign"
  fi
fi
comm -23 "$work/repeated" "$work/foreign" | sort -u - "$work/once" >"$work/defined"
cat "$work"/cg.* | sed -n -E 's/^c?fn=\([0-9]+\) (.+)$/\1/p' | sort -u >"$work/run"
comm -12 "$work/run" "$work/defined" >src/cli/link_order.txt
echo "src/cli/link_order.txt: $(wc -l <src/cli/link_order.txt) functions from $n searches"
