#!/usr/bin/env python3
"""Edit-to-searchable latency of `resdex index --watch`.

Copies a Markdown corpus (default: corpus/) to a scratch directory, starts
`resdex index --watch` on it, then makes --edits edits one after the other:
each appends a fresh word to one document (cycling through the documents)
and polls `resdex search --json WORD` every 10 ms until the document is
found. Prints the median, minimum and maximum of the time from the write to
the first search that finds it, and the same for the commit latency that
resdex reports itself ("N ms after the first change"). --copies N puts N
copies of the corpus side by side first, for a larger corpus (each batch
rescans the whole corpus).

Usage: tools/bench/watch_latency.py [--resdex build/resdex] [--corpus corpus]
       [--edits 20] [--copies 1] [--keep]
Exit status: 0, or 1 when an edit did not show within 10 s.
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time


def search_finds(resdex, index, word, doc_id):
    out = subprocess.run([resdex, "search", "--json", "--index", index, "--no-facets", word],
                         capture_output=True, text=True)
    if out.returncode != 0:
        return False
    return any(hit["id"] == doc_id for hit in json.loads(out.stdout)["results"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--resdex", default="build/resdex")
    ap.add_argument("--corpus", default="corpus")
    ap.add_argument("--edits", type=int, default=20)
    ap.add_argument("--copies", type=int, default=1)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    resdex = os.path.abspath(args.resdex)

    scratch = tempfile.mkdtemp(prefix="resdex-watch-bench-")
    corpus = os.path.join(scratch, "corpus")
    index = os.path.join(scratch, "index")
    if args.copies == 1:
        shutil.copytree(args.corpus, corpus)
    else:
        for i in range(args.copies):
            shutil.copytree(args.corpus, os.path.join(corpus, f"copy{i}"))
    docs = []
    for root, _, files in os.walk(corpus):
        for name in sorted(files):
            if name.endswith(".md") and name.lower() != "readme.md":
                path = os.path.join(root, name)
                docs.append((path, os.path.relpath(path, corpus)[:-3]))
    docs.sort()
    docs = docs[: max(1, min(len(docs), 50))]

    err_path = os.path.join(scratch, "watch.err")
    with open(err_path, "w") as err:
        child = subprocess.Popen([resdex, "index", "--watch", "--corpus", corpus, "--index", index],
                                 stdout=subprocess.DEVNULL, stderr=err)
    try:
        start = time.monotonic()
        while "watching" not in open(err_path).read():
            if child.poll() is not None or time.monotonic() - start > 600:
                print("resdex index --watch did not start", file=sys.stderr)
                return 1
            time.sleep(0.05)
        n_docs = len([1 for _ in docs])
        print(f"corpus: {sum(1 for _ in os.walk(corpus))} directories, "
              f"{sum(len([f for f in fs if f.endswith('.md')]) for _, _, fs in os.walk(corpus))} .md files")
        latencies = []
        for i in range(args.edits):
            path, doc_id = docs[i % n_docs]
            word = f"watchbench{i}x{os.getpid()}"
            time.sleep(0.3)  # each edit its own batch
            t0 = time.monotonic()
            with open(path, "a") as f:
                f.write(f"\n{word}\n")
            while not search_finds(resdex, index, word, doc_id):
                if time.monotonic() - t0 > 10:
                    print(f"edit {i} of {path} not searchable after 10 s", file=sys.stderr)
                    return 1
                time.sleep(0.01)
            latencies.append((time.monotonic() - t0) * 1000)
    finally:
        child.send_signal(signal.SIGTERM)
        code = child.wait(timeout=30)
    reported = [int(m) for m in re.findall(r"(\d+) ms after the first change", open(err_path).read())]
    print(f"edits: {len(latencies)}; resdex index --watch exit status on SIGTERM: {code}")
    print(f"edit to searchable (ms): median {statistics.median(latencies):.0f}, "
          f"min {min(latencies):.0f}, max {max(latencies):.0f}")
    if reported:
        print(f"first event to commit, as resdex reports it (ms): median {statistics.median(reported):.0f}, "
              f"min {min(reported)}, max {max(reported)}")
    if args.keep:
        print(f"kept {scratch}")
    else:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
