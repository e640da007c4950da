#!/usr/bin/env bash
# Load test of `resdex serve`: wrk, a second process on the loopback
# interface, sends GET /api/search requests (a fixed rotation of queries,
# some with facet filters) for a bounded time over a bounded number of
# connections, and this script prints requests per second, latency and the
# error count (socket errors plus non-2xx answers). It exits 1 if there was
# any error, or if the server did not end cleanly (exit 0) on SIGTERM.
#
# Without --index, the bundled corpus/ is indexed into a scratch directory.
# Traffic goes to 127.0.0.1 only.
#
# Usage: tools/bench/serve_bench.sh [--index DIR] [--duration S]
#          [--connections N] [--wrk-threads N] [--server-threads N] [--resdex PATH]
# Example:
#   tools/bench/serve_bench.sh --duration 10 --connections 8
#   build/resdex index --corpus ../shared/data/scifact/corpus.jsonl --index /tmp/scifact
#   tools/bench/serve_bench.sh --index /tmp/scifact
set -euo pipefail
cd "$(dirname "$0")/../.."

index=''
duration=10
connections=8
wrk_threads=2
server_threads=8
resdex=build/resdex
while [[ $# -gt 0 ]]; do
  case "$1" in
    --index) index=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --wrk-threads) wrk_threads=$2; shift 2 ;;
    --server-threads) server_threads=$2; shift 2 ;;
    --resdex) resdex=$2; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "$0: unknown argument: $1" >&2; exit 2 ;;
  esac
done
# Bounds: the load ends by itself.
if (( duration < 1 || duration > 120 || connections < 1 || connections > 256 )); then
  echo "$0: --duration must be 1..120 s and --connections 1..256" >&2
  exit 2
fi
command -v wrk >/dev/null || { echo "$0: wrk is not installed (tools/install-deps.sh --with-test-tools)" >&2; exit 1; }
[[ -x $resdex ]] || { echo "$0: no $resdex: build first" >&2; exit 1; }

scratch=$(mktemp -d /tmp/resdex-serve-bench-XXXXXX)
server_pid=''
cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then kill "$server_pid"; fi
  rm -rf "$scratch"
}
trap cleanup EXIT

if [[ -z $index ]]; then
  index=$scratch/index
  "$resdex" index --corpus corpus --index "$index" --quiet
fi
docs=$("$resdex" search --index "$index" --json --limit 0 --no-facets | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')

# A port that was free a moment ago.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$resdex" serve --index "$index" --port "$port" --threads "$server_threads" 2>"$scratch/serve.log" &
server_pid=$!
for _ in $(seq 300); do
  if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; then break; fi
  kill -0 "$server_pid" 2>/dev/null || { cat "$scratch/serve.log" >&2; exit 1; }
  sleep 0.1
done

cat > "$scratch/queries.lua" <<'LUA'
-- A rotation of /api/search requests: single words, phrases, boolean
-- operators, wildcards, filters, an empty query (facets over everything).
local paths = {
  "/api/search?q=inverse+problems",
  "/api/search?q=machine+learning&institution=tu+berlin",
  "/api/search?q=%22uncertainty+quantification%22",
  "/api/search?q=optimi*+AND+NOT+quantum",
  "/api/search?q=stochastic&area=Foundations+of+AI",
  "/api/search?q=",
  "/api/search?q=neural+networks&limit=20",
  "/api/search?q=data&institution=zib&institution=wias",
}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
LUA

echo "resdex serve on 127.0.0.1:$port, $server_threads worker threads, index $index ($docs documents)"
echo "wrk -t$wrk_threads -c$connections -d${duration}s --latency -s queries.lua http://127.0.0.1:$port"
wrk -t"$wrk_threads" -c"$connections" -d"${duration}s" --timeout 5s --latency \
  -s "$scratch/queries.lua" "http://127.0.0.1:$port" > "$scratch/wrk.out"

kill -TERM "$server_pid"
server_status=0
wait "$server_pid" || server_status=$?
server_pid=''

python3 - "$scratch/wrk.out" "$server_status" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
server_status = int(sys.argv[2])
def grab(pattern, default="0"):
    m = re.search(pattern, text)
    return m.group(1) if m else default
requests = int(grab(r"(\d+) requests in"))
rps = float(grab(r"Requests/sec:\s+([\d.]+)"))
lat = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", text)
pct = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", text, re.M))
socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
socket_errors = sum(int(x) for x in socket.groups()) if socket else 0
non2xx = int(grab(r"Non-2xx or 3xx responses: (\d+)"))
errors = socket_errors + non2xx
print(f"requests:    {requests}")
print(f"requests/s:  {rps:.0f}")
if lat:
    print(f"latency:     mean {lat.group(1)}, stdev {lat.group(2)}, max {lat.group(3)}")
print("percentiles: " + ", ".join(f"p{k} {pct[k]}" for k in ("50", "90", "99") if k in pct))
print(f"errors:      {errors} (socket {socket_errors}, non-2xx {non2xx})")
print(f"server exit: {server_status} on SIGTERM")
sys.exit(0 if errors == 0 and server_status == 0 and requests > 0 else 1)
PY
