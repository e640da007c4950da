#!/usr/bin/env python3
"""Indexing benchmark: resdex against Xapian's scriptindex and SQLite FTS5.

Measures side by side, in one run, on one JSONL corpus (default: the 58,959
ACL Anthology abstracts, decompressed once into a temp dir):

  read floor     `cat` of the decompressed JSONL to /dev/null (and `zcat` of
                 the .gz inputs, if any): the cost of just reading the input
  resdex full    `resdex index --corpus X --index D -q` into a fresh dir
  scriptindex    `scriptindex --overwrite DB SCRIPT INPUT`, with the JSONL
                 converted beforehand (not timed) to scriptindex's dump format
  FTS5           a python3 child that inserts (id UNINDEXED, title, text) into
                 an fts5 table (tokenize='porter unicode61 remove_diacritics 2')
                 in one transaction; the whole process is timed
  resdex no-op   a second `resdex index` on the unchanged corpus
  resdex 1 edit  `resdex index` after changing one record's text in the corpus

Each step runs --repeat times (engines in a rotating order); the table shows
the median wall time, its ratio to scriptindex and to FTS5, the peak RSS of
the child process (max over repeats, from wait4's rusage) and the on-disk
size of the index (apparent bytes; scriptindex's database as written, not
compacted). Nothing runs in parallel, but the machine may be shared: compare
ratios from one run, not seconds across runs.

Example:
  tools/bench/index_bench.py --repeat 3
  tools/bench/index_bench.py --corpus /work/shared/data/scifact/corpus.jsonl --json
"""

import argparse
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

EDIT_MARKER = " (Edited by the resdex index benchmark.)"


def make_edited_copy(src, dest):
    """Copies src to dest with one record's text changed (the middle line).
    Returns the _id of the edited record."""
    with open(src, encoding="utf-8") as f:
        lines = f.readlines()
    i = len(lines) // 2
    rec = json.loads(lines[i])
    rec["text"] = (rec.get("text") or "") + EDIT_MARKER
    lines[i] = json.dumps(rec, ensure_ascii=False) + "\n"
    with open(dest, "w", encoding="utf-8") as f:
        f.writelines(lines)
    return str(rec["_id"])


def parse_args(argv):
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", action="append", metavar="FILE",
                    help="JSONL corpus file, plain or .gz (repeatable; default: the six "
                         "ACL Anthology shards in %s)" % bl.ACL_DIR)
    ap.add_argument("--resdex", default=bl.DEFAULT_RESDEX, metavar="PATH",
                    help="resdex binary (default: %(default)s)")
    ap.add_argument("--scriptindex", default="scriptindex", metavar="PATH",
                    help="scriptindex binary (default: from PATH)")
    ap.add_argument("--repeat", type=int, default=1, metavar="N",
                    help="run every step N times and report the median (default: 1)")
    ap.add_argument("--skip", action="append", default=[],
                    choices=["scriptindex", "fts5", "incremental"],
                    help="leave out an engine or the incremental runs (repeatable)")
    ap.add_argument("--threads", action="append", type=int, default=[], metavar="N",
                    help="also time a full resdex build with `--threads N` (repeatable; "
                         "needs a resdex whose `index --help` lists --threads)")
    ap.add_argument("--tmpdir", metavar="DIR",
                    help="where to make the scratch dir (default: the system temp dir)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the scratch dir (indexes, converted corpus) and print its path")
    ap.add_argument("--json", action="store_true",
                    help="print one JSON object with every figure instead of the table")
    ap.add_argument("--json-out", metavar="FILE",
                    help="also write that JSON object to FILE (the table still prints)")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    return args


def main(argv):
    args = parse_args(argv)
    inputs = args.corpus or bl.ACL_SHARDS
    resdex = bl.require_executable(args.resdex, bl.RESDEX_HINT)
    scriptindex = None
    if "scriptindex" not in args.skip:
        scriptindex = bl.require_executable(args.scriptindex, bl.XAPIAN_OMEGA_HINT)
    if "fts5" not in args.skip:
        bl.check_fts5()
    for path in inputs:
        if not os.path.isfile(path):
            raise bl.BenchError("corpus file not found: %s" % path)
    gz_inputs = [p for p in inputs if p.endswith(".gz")]
    if gz_inputs:
        bl.require_executable("zcat", "It comes with gzip.")
    cat = bl.require_executable("cat", "It comes with coreutils.")

    info = bl.resdex_machine_info(resdex)
    if scriptindex:
        info["scriptindex_version"] = bl.tool_version([scriptindex, "--version"])

    return bl.in_scratch_dir("resdex-index-bench-", args, resdex, info,
                             lambda resdex, tmp: run(args, inputs, gz_inputs, resdex, scriptindex, cat, info, tmp))


def run(args, inputs, gz_inputs, resdex, scriptindex, cat, info, tmp):
    corpus = os.path.join(tmp, "corpus.jsonl")
    bl.log("preparing the corpus in %s (not timed)" % tmp)
    n_docs = bl.prepare_corpus(inputs, corpus)
    corpus_mb = os.path.getsize(corpus) / 1e6
    edited = os.path.join(tmp, "edited.jsonl")
    live = os.path.join(tmp, "live.jsonl")  # the file resdex indexes; edited in place
    edited_id = None
    if "incremental" not in args.skip:
        edited_id = make_edited_copy(corpus, edited)
    si_input = os.path.join(tmp, "corpus.scriptindex")
    si_script = os.path.join(tmp, "index.script")
    if scriptindex:
        bl.jsonl_to_scriptindex(corpus, si_input)
        with open(si_script, "w") as f:
            f.write(bl.SCRIPTINDEX_SCRIPT)

    steps = ["read_cat"] + (["read_zcat"] if gz_inputs else []) + ["resdex_full"]
    compact = shutil.which("xapian-compact") if scriptindex else None
    if scriptindex:
        steps.append("scriptindex")
        if compact:
            steps.append("scriptindex_compact")
        else:
            bl.log("note: no xapian-compact (apt-get install xapian-tools): "
                   "no compacted scriptindex size")
    if "fts5" not in args.skip:
        steps.append("fts5")
    if args.threads:
        help_text = subprocess.run([resdex, "index", "--help"], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True).stdout
        if "--threads" not in help_text:
            raise bl.BenchError("--threads: `resdex index --help` lists no --threads option")
        steps += ["resdex_full_threads_%d" % t for t in args.threads]
    if "incremental" not in args.skip:
        steps += ["resdex_noop", "resdex_one_edit"]
    runs = {s: [] for s in steps}
    sizes = {}
    problems = []
    engines = [e for e in ("resdex", "scriptindex", "fts5") if e in steps or e == "resdex"]

    for r in range(args.repeat):
        bl.log("round %d/%d (load average %.2f)" % (r + 1, args.repeat, os.getloadavg()[0]))
        runs["read_cat"].append(bl.run_measured([cat, corpus], what="cat"))
        if gz_inputs:
            runs["read_zcat"].append(bl.run_measured(["zcat"] + gz_inputs, what="zcat"))
        order = engines[r % len(engines):] + engines[:r % len(engines)]
        for engine in order:
            if engine == "resdex":
                index = os.path.join(tmp, "resdex-index")
                bl.rmtree(index)
                shutil.copyfile(corpus, live)
                bl.log("  resdex full index")
                res = bl.resdex_index(resdex, live, index, ["-q"])
                runs["resdex_full"].append(res)
                sizes["resdex"] = bl.dir_size_mb(index)
                for t in args.threads:
                    tindex = os.path.join(tmp, "resdex-index-threads")
                    bl.rmtree(tindex)
                    bl.log("  resdex full index, --threads %d" % t)
                    runs["resdex_full_threads_%d" % t].append(
                        bl.resdex_index(resdex, live, tindex, ["-q", "--threads", str(t)]))
                    sizes["resdex_threads_%d" % t] = bl.dir_size_mb(tindex)
                    bl.rmtree(tindex)
                if "incremental" in args.skip:
                    bl.rmtree(index)
                    continue
                bl.log("  resdex no-op re-index")
                res = bl.resdex_index(resdex, live, index, ["--json"])
                runs["resdex_noop"].append(res)
                s = res["summary"] or {}
                if s.get("unchanged") != n_docs or s.get("added") or s.get("updated") \
                        or s.get("removed") or s.get("failed"):
                    problems.append("no-op re-index summary is unexpected: %s" % s)
                shutil.copyfile(edited, live)
                bl.log("  resdex one-edit re-index")
                res = bl.resdex_index(resdex, live, index, ["--json"])
                runs["resdex_one_edit"].append(res)
                s = res["summary"] or {}
                if s.get("updated") != 1 or s.get("added") or s.get("removed") or s.get("failed"):
                    problems.append("one-edit re-index summary is unexpected: %s" % s)
                sizes["resdex_after_edit"] = bl.dir_size_mb(index)
                bl.rmtree(index)
            elif engine == "scriptindex":
                db = os.path.join(tmp, "scriptindex-db")
                bl.log("  scriptindex")
                res = bl.build_scriptindex(scriptindex, si_input, si_script, db)
                runs["scriptindex"].append(res)
                if res["added"] != n_docs:
                    problems.append("scriptindex added %s records, expected %d"
                                    % (res["added"], n_docs))
                sizes["scriptindex"] = bl.dir_size_mb(db)
                if compact:
                    # resdex's full build ends in a compaction (it merges its
                    # per-thread shards), so also show scriptindex's compacted
                    # size; this step is not part of the scriptindex figure.
                    cdb = db + "-compact"
                    bl.rmtree(cdb)
                    bl.log("  xapian-compact of the scriptindex database")
                    runs["scriptindex_compact"].append(
                        bl.run_measured([compact, db, cdb], what="xapian-compact"))
                    sizes["scriptindex_compact"] = bl.dir_size_mb(cdb)
                    bl.rmtree(cdb)
                bl.rmtree(db)
            elif engine == "fts5":
                db = os.path.join(tmp, "fts5.sqlite")
                bl.log("  FTS5")
                res = bl.build_fts5(corpus, db)
                runs["fts5"].append(res)
                if res["added"] != n_docs:
                    problems.append("FTS5 loaded %s rows, expected %d" % (res["added"], n_docs))
                sizes["fts5"] = bl.dir_size_mb(db)
                bl.rmtree(db)
    for res_list in runs.values():
        for res in res_list:
            if res["stderr"].strip():
                problems.append("stderr: %s" % res["stderr"].strip()[:500])

    info["loadavg_at_end"] = list(os.getloadavg())
    med = {s: bl.median([x["wall_s"] for x in runs[s]]) for s in steps}
    si_t, fts_t = med.get("scriptindex"), med.get("fts5")
    si_size = sizes.get("scriptindex")
    labels = {
        "read_cat": "read floor: cat JSONL > /dev/null",
        "read_zcat": "read floor: zcat .gz > /dev/null",
        "resdex_full": "resdex index (full, fresh dir)",
        "scriptindex": "scriptindex (Xapian, uncompacted)",
        "scriptindex_compact": "  then xapian-compact (not in above)",
        "fts5": "SQLite FTS5 (python3 loader)",
        "resdex_noop": "resdex index (no-op re-run)",
        "resdex_one_edit": "resdex index (one record edited)",
    }
    for t in args.threads:
        labels["resdex_full_threads_%d" % t] = "resdex index (full, --threads %d)" % t
    size_of = {"resdex_full": "resdex", "scriptindex": "scriptindex", "fts5": "fts5",
               "scriptindex_compact": "scriptindex_compact"}
    size_of.update({"resdex_full_threads_%d" % t: "resdex_threads_%d" % t for t in args.threads})
    figures = {}
    for s in steps:
        size = sizes.get(size_of.get(s, ""))
        figures[s] = {
            "label": labels[s],
            "median_s": med[s],
            "runs_s": [x["wall_s"] for x in runs[s]],
            "user_s_median": bl.median([x["user_s"] for x in runs[s]]),
            "sys_s_median": bl.median([x["sys_s"] for x in runs[s]]),
            "vs_scriptindex": bl.ratio(med[s], si_t),
            "vs_fts5": bl.ratio(med[s], fts_t),
            "peak_rss_mb": max(x["maxrss_mb"] for x in runs[s]),
            "index_mb": size,
            "size_vs_scriptindex": bl.ratio(size, si_size),
        }
        if s in ("resdex_noop", "resdex_one_edit"):
            figures[s]["summary"] = runs[s][-1]["summary"]
    result = {
        "benchmark": "index",
        "command": " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:]),
        "machine": info,
        "corpus": {"inputs": inputs, "documents": n_docs, "jsonl_mb": corpus_mb,
                   "edited_id": edited_id},
        "repeat": args.repeat,
        "figures": figures,
        "resdex_index_mb_after_edit": sizes.get("resdex_after_edit"),
        "resdex_size_vs_scriptindex_compacted": bl.ratio(sizes.get("resdex"),
                                                         sizes.get("scriptindex_compact")),
        # resdex's full build against scriptindex's of the same round: how
        # far the machine's load moved the ratio within this run.
        "resdex_vs_scriptindex_rounds": [bl.ratio(a["wall_s"], b["wall_s"]) for a, b in
                                         zip(runs["resdex_full"], runs.get("scriptindex", []))],
        "problems": problems,
    }
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(result, f, indent=1)
            f.write("\n")
    if args.json:
        json.dump(result, sys.stdout, indent=1)
        print()
    else:
        print_report(result)
    return 1 if problems else 0


def print_report(result):
    m, c = result["machine"], result["corpus"]
    bl.print_machine("Indexing benchmark", m)
    print("resdex: %s (%s build)  %s  SQLite %s"
          % (m["resdex_version"], m["resdex_build_type"], m.get("scriptindex_version", ""),
             m["sqlite"]))
    print("peak RSS measured with %s" % ("/usr/bin/time" if m["rss_method"] == "gnu-time"
          else "wait4 (no /usr/bin/time: figures include the ~25 MB python image)"))
    print("corpus: %d documents, %.1f MB of JSONL; median of %d run(s)"
          % (c["documents"], c["jsonl_mb"], result["repeat"]))
    print()
    rows = []
    for f in result["figures"].values():
        rows.append([f["label"], bl.fmt(f["median_s"]),
                     bl.fmt(f["user_s_median"] + f["sys_s_median"]), bl.fmt(f["vs_scriptindex"]),
                     bl.fmt(f["vs_fts5"]), bl.fmt(f["peak_rss_mb"], "%.0f"),
                     bl.fmt(f["index_mb"], "%.1f"), bl.fmt(f["size_vs_scriptindex"])])
    bl.print_table(["step", "seconds", "cpu s", "x scriptindex", "x FTS5", "peak RSS MB",
                    "index MB", "size x scriptindex"], rows)
    print()
    print("seconds: median wall time of the child process; cpu s: median user+sys time "
          "(above seconds = more than one core used);")
    print("x: ratio of the median wall times; peak RSS: max over runs; index MB: "
          "apparent size in 10^6 bytes")
    if result["resdex_vs_scriptindex_rounds"]:
        print("resdex full index / scriptindex, round by round: "
              + ", ".join(bl.fmt(x) for x in result["resdex_vs_scriptindex_rounds"]))
    if result.get("resdex_size_vs_scriptindex_compacted"):
        print("resdex's index (compacted, as resdex leaves it) is %.2f x the size of "
              "scriptindex's compacted database" % result["resdex_size_vs_scriptindex_compacted"])
    for key in ("resdex_noop", "resdex_one_edit"):
        f = result["figures"].get(key)
        if f and f.get("summary"):
            print("%s summary: %s" % (key, json.dumps(f["summary"])))
    bl.print_problems(result["problems"])


if __name__ == "__main__":
    bl.run_main("index_bench", main)
