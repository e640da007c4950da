#!/usr/bin/env python3
"""Search benchmark: per-process `resdex search` against Xapian's `quest`.

On the same data (default: the 58,959 ACL Anthology abstracts), runs a fixed
list of realistic queries, one process per query, and times each process:

  resdex      `resdex search --index D --limit 10 QUERY` (ranked hits,
              snippets and facet counts; text output to /dev/null)
  quest       `quest -d DB -m 10 QUERY` on scriptindex's database of the
              same records (id/title/text; see benchlib.SCRIPTINDEX_SCRIPT)
  quest -c    the same with --check-at-least set past the document count,
              so that quest too counts every match exactly, as resdex must
              for its facet counts (tells matching cost from the rest)
  exact       `resdex search --exact-counts` (when offered): resdex counting
              every match, as it does by default below ~2,000 matches; the
              default estimates the counts of broader queries from a sample,
              and the script reports how far those estimates are from exact

The engines run interleaved (query by query, order alternating), each query
--repeat times after one untimed warm-up run; the figures are medians. The
overall ratio is the geometric mean of the per-query ratios of medians; the
ratio of each round (every query once) is printed too, as min/median/max, to
show how much the machine's load moved it within the run.

If `resdex search --help` lists --batch (and --format), the in-process batch
latency is measured too: `resdex search --index D --batch Q.jsonl --format
trec --limit 10` over the query list, repeated; per query = batch wall time
/ query count (process start-up included, spread over the batch), and the
marginal figure (batch time - one-query batch time) / (count - 1). Median
and p99 are over the batch runs. Without --batch this part is skipped with
a note.

Without --index/--xapian-db the script builds both indexes into a scratch
dir first (about a minute for resdex and ~80 s for scriptindex on ACL).

Example:
  tools/bench/search_bench.py --repeat 5
  tools/bench/search_bench.py --index /tmp/acl-idx --xapian-db /tmp/acl-xapian --json
"""

import argparse
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

QUERIES = [
    "neural machine translation",
    "named entity recognition",
    "sentiment analysis twitter",
    "dependency parsing",
    "low-resource languages",
    "question answering",
    "word embeddings",
    "speech recognition",
    "summarization evaluation",
    "coreference resolution",
    "part-of-speech tagging",
    "relation extraction",
    "dialogue systems",
    "semantic role labeling",
    "text classification",
    "cross-lingual transfer learning",
    "hate speech detection",
    "knowledge graph completion",
    "large language models hallucination",
    "word sense disambiguation",
    "\"machine translation\" evaluation metrics",
    "discourse parsing",
]


def parse_args(argv):
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", metavar="DIR",
                    help="existing resdex index of the corpus (default: build one)")
    ap.add_argument("--xapian-db", metavar="DIR",
                    help="existing scriptindex database of the same corpus (default: build one)")
    ap.add_argument("--corpus", action="append", metavar="FILE",
                    help="JSONL corpus to build the indexes from, plain or .gz (repeatable; "
                         "default: the ACL Anthology shards in %s)" % bl.ACL_DIR)
    ap.add_argument("--queries", metavar="FILE",
                    help="one query per line instead of the built-in list of %d" % len(QUERIES))
    ap.add_argument("--resdex", default=bl.DEFAULT_RESDEX, metavar="PATH",
                    help="resdex binary (default: %(default)s)")
    ap.add_argument("--quest", default="quest", metavar="PATH",
                    help="quest binary (default: from PATH)")
    ap.add_argument("--scriptindex", default="scriptindex", metavar="PATH",
                    help="scriptindex binary, to build the Xapian database (default: from PATH)")
    ap.add_argument("--limit", type=int, default=10, metavar="N",
                    help="results per query for every engine (default: %(default)s)")
    ap.add_argument("--repeat", type=int, default=5, metavar="N",
                    help="timed runs of each query per engine (default: %(default)s)")
    ap.add_argument("--batch-repeat", type=int, default=10, metavar="N",
                    help="runs of the whole batch, if resdex has --batch (default: %(default)s)")
    ap.add_argument("--batch-copies", type=int, default=10, metavar="N",
                    help="the batch file holds the query list N times (default: %(default)s)")
    ap.add_argument("--no-exhaustive-quest", action="store_true",
                    help="leave out the `quest -c` (count every match) runs")
    ap.add_argument("--tmpdir", metavar="DIR",
                    help="where to make the scratch dir (default: the system temp dir)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the scratch dir (built indexes) and print its path")
    ap.add_argument("--json", action="store_true",
                    help="print one JSON object with every figure instead of the tables")
    ap.add_argument("--json-out", metavar="FILE",
                    help="also write that JSON object to FILE (the tables still print)")
    args = ap.parse_args(argv)
    if args.repeat < 1 or args.limit < 1 or args.batch_repeat < 1 or args.batch_copies < 1:
        ap.error("--repeat, --limit, --batch-repeat and --batch-copies must be at least 1")
    return args


def load_queries(path):
    if not path:
        return list(QUERIES)
    with open(path, encoding="utf-8") as f:
        qs = [line.strip() for line in f if line.strip()]
    if not qs:
        raise bl.BenchError("no queries in %s" % path)
    return qs


QUEST_TOTAL = re.compile(r"^(Exactly|Between \d+ and \d+ matches, best estimate is|About)"
                         r" (\d+)", re.M)


def quest_matches(quest, db, q, limit, extra=()):
    out = subprocess.run([quest, "-d", db, "-m", str(limit)] + list(extra) + [q],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if out.returncode != 0:
        raise bl.BenchError("quest failed on %r: %s" % (q, out.stderr.strip()))
    m = QUEST_TOTAL.search(out.stdout)
    shown = len(re.findall(r"^\d+: \[", out.stdout, re.M))
    return (int(m.group(2)) if m else None), (m.group(1).split()[0] if m else "?"), shown


def resdex_search(resdex, index, q, limit, extra=()):
    out = subprocess.run([resdex, "search", "--index", index, "--limit", str(limit), "--json"]
                         + list(extra) + [q],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if out.returncode != 0:
        raise bl.BenchError("resdex search failed on %r (exit %d): %s"
                            % (q, out.returncode, out.stderr.strip()))
    return json.loads(out.stdout), out.stderr.strip()


def estimate_errors(estimate, exact):
    """How far `estimate` (resdex search --json) is from `exact` (the same
    with --exact-counts): relative error of the total, of every facet value
    holding at least 5% of the matches, and how many of the exact top 5
    institutions the estimate also lists in its top 5."""
    total = exact["total"]
    out = {"total_rel_error": abs(estimate["total"] - total) / max(1, total),
           "facets_exact": estimate.get("facets_exact", True), "value_rel_errors": []}
    for facet, values in exact.get("facets", {}).items():
        got = {v["value"]: v["count"] for v in estimate.get("facets", {}).get(facet, [])}
        for v in values:
            if v["count"] >= 0.05 * total:
                out["value_rel_errors"].append(abs(got.get(v["value"], 0) - v["count"]) / v["count"])
    top = lambda r: {v["value"] for v in r.get("facets", {}).get("institution", [])[:5]}
    if top(exact):
        out["institution_top5_shared"] = len(top(exact) & top(estimate))
    return out


def build_indexes(args, resdex, tmp, need_resdex, need_xapian):
    inputs = args.corpus or bl.ACL_SHARDS
    corpus = os.path.join(tmp, "corpus.jsonl")
    bl.log("preparing the corpus in %s" % tmp)
    n = bl.prepare_corpus(inputs, corpus)
    built = {"inputs": inputs, "documents": n}
    index = db = None
    if need_resdex:
        index = os.path.join(tmp, "resdex-index")
        bl.log("building the resdex index (%d documents)" % n)
        res = bl.resdex_index(resdex, corpus, index, ["-q"])
        built["resdex_build_s"] = res["wall_s"]
    if need_xapian:
        scriptindex = bl.require_executable(args.scriptindex, bl.XAPIAN_OMEGA_HINT)
        si_input, script = os.path.join(tmp, "corpus.scriptindex"), os.path.join(tmp, "index.script")
        bl.jsonl_to_scriptindex(corpus, si_input)
        with open(script, "w") as f:
            f.write(bl.SCRIPTINDEX_SCRIPT)
        db = os.path.join(tmp, "scriptindex-db")
        bl.log("building the scriptindex database")
        res = bl.build_scriptindex(scriptindex, si_input, script, db)
        built["scriptindex_build_s"] = res["wall_s"]
        os.unlink(si_input)
    os.unlink(corpus)
    return index, db, built


def has_exact_counts(resdex):
    out = subprocess.run([resdex, "search", "--help"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True).stdout
    return re.search(r"--exact-counts\b", out) is not None


def batch_support(resdex):
    """(has --batch, formats --format accepts: [] if no --format)."""
    out = subprocess.run([resdex, "search", "--help"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True).stdout
    has_batch = re.search(r"--batch\b", out) is not None
    formats = []
    m = re.search(r"--format\b[^\n]*", out)
    if m:
        choices = re.search(r"\{([a-z,]+)\}", m.group(0))
        formats = choices.group(1).split(",") if choices else ["trec"]
    return has_batch, formats


def run_batch(args, resdex, index, queries, tmp):
    """In-process batch latency, for --format trec (hits only) and, when
    offered, --format json (the whole result: snippets and facet counts)."""
    has_batch, formats = batch_support(resdex)
    if not has_batch:
        return {"skipped": "`resdex search --help` lists no --batch option: "
                           "no in-process batch figure"}
    qfile = os.path.join(tmp, "batch-queries.jsonl")
    one = os.path.join(tmp, "batch-one.jsonl")
    allq = [q for _ in range(args.batch_copies) for q in queries]
    with open(qfile, "w", encoding="utf-8") as f:
        for i, q in enumerate(allq, 1):
            f.write(json.dumps({"_id": "q%d" % i, "text": q}) + "\n")
    with open(one, "w", encoding="utf-8") as f:
        f.write(json.dumps({"_id": "q1", "text": queries[0]}) + "\n")

    def cmd(path, fmt):
        c = [resdex, "search", "--index", index, "--batch", path]
        if fmt:
            c += ["--format", fmt]
        return c + ["--limit", str(args.limit)]

    result = {"queries_in_batch": len(allq), "runs": args.batch_repeat, "formats": {},
              "note": "per query = batch wall time / query count; marginal = (batch - "
                      "one-query batch) / (count - 1), i.e. without process start-up. resdex "
                      "gives no per-query timings, so median and p99 are over the %d batch "
                      "runs (p99 of so few runs is about their maximum)" % args.batch_repeat}
    wanted = [f for f in ("trec", "json") if f in formats] or [None]
    out_path = os.path.join(tmp, "batch-out.txt")
    for fmt in wanted:
        # Warm-up, and a check of what the batch prints.
        with open(out_path, "w") as out:
            bl.run_measured(cmd(qfile, fmt), stdout=out, what="resdex search --batch")
        with open(out_path, encoding="utf-8", errors="replace") as f:
            lines = [line for line in f if line.strip()]
        if fmt == "json":
            qids = set()
            for line in lines:
                try:
                    obj = json.loads(line)
                    qids.add(obj.get("_id", obj.get("id", obj.get("qid", obj.get("query")))))
                except ValueError:
                    pass
        else:
            qids = {line.split()[0] for line in lines}
        per_query, marginal, singles = [], [], []
        for _ in range(args.batch_repeat):
            full = bl.run_measured(cmd(qfile, fmt), what="resdex search --batch",
                                   measure_rss=False)
            single = bl.run_measured(cmd(one, fmt), what="resdex search --batch (one query)",
                                     measure_rss=False)
            per_query.append(full["wall_s"] / len(allq))
            singles.append(single["wall_s"])
            marginal.append((full["wall_s"] - single["wall_s"]) / max(1, len(allq) - 1))
        c = cmd("QUERIES.jsonl", fmt)
        result["formats"][fmt or "default"] = {
            "command": " ".join(["resdex"] + c[1:3] + ["D"] + c[4:]),
            "output_lines": len(lines),
            "distinct_query_ids_in_output": len(qids),
            "per_query_ms_median": bl.median(per_query) * 1e3,
            "per_query_ms_p99": bl.percentile(per_query, 99) * 1e3,
            "marginal_ms_median": bl.median(marginal) * 1e3,
            "marginal_ms_p99": bl.percentile(marginal, 99) * 1e3,
            "one_query_batch_ms_median": bl.median(singles) * 1e3,
        }
    return result


def main(argv):
    args = parse_args(argv)
    queries = load_queries(args.queries)
    resdex = bl.require_executable(args.resdex, bl.RESDEX_HINT)
    quest = bl.require_executable(args.quest, bl.XAPIAN_TOOLS_HINT)
    for d, what in ((args.index, "--index"), (args.xapian_db, "--xapian-db")):
        if d and not os.path.isdir(d):
            raise bl.BenchError("%s %s: no such directory" % (what, d))
    info = bl.resdex_machine_info(resdex)
    info["quest_version"] = bl.tool_version([quest, "--version"])
    return bl.in_scratch_dir("resdex-search-bench-", args, resdex, info,
                             lambda resdex, tmp: run(args, queries, resdex, quest, info, tmp))


def run(args, queries, resdex, quest, info, tmp):
    index, db, built = args.index, args.xapian_db, None
    if not index or not db:
        new_index, new_db, built = build_indexes(args, resdex, tmp, not index, not db)
        index, db = index or new_index, db or new_db
    limit = str(args.limit)
    exhaustive = str(10 ** 9)
    engines = {
        "resdex": lambda q: [resdex, "search", "--index", index, "--limit", limit, q],
        "quest": lambda q: [quest, "-d", db, "-m", limit, q],
    }
    # resdex counting every match, as it did before it estimated the counts
    # of broad queries from a sample.
    exact_flag = ["--exact-counts"] if has_exact_counts(resdex) else []
    if exact_flag:
        engines["resdex_exact"] = lambda q: [resdex, "search", "--index", index, "--limit", limit,
                                             "--exact-counts", q]
    if not args.no_exhaustive_quest:
        engines["quest_exhaustive"] = lambda q: [quest, "-d", db, "-m", limit, "-c", exhaustive, q]
    names = list(engines)

    # Sanity check and warm-up: what each engine finds for each query.
    problems = []
    checks = {}
    rss = {e: 0.0 for e in names}
    bl.log("warm-up and match counts")
    for q in queries:
        exact, err = resdex_search(resdex, index, q, args.limit, exact_flag)
        total, shown = exact.get("total"), len(exact.get("results", []))
        qt, kind, qshown = quest_matches(quest, db, q, args.limit)
        qx = quest_matches(quest, db, q, args.limit, ["-c", exhaustive])[0]
        checks[q] = {"resdex_total": total, "resdex_shown": shown, "quest_estimate": qt,
                     "quest_estimate_kind": kind, "quest_shown": qshown, "quest_exact": qx}
        if exact_flag:
            checks[q]["estimate"] = estimate_errors(resdex_search(resdex, index, q, args.limit)[0], exact)
        if err:
            problems.append("resdex search %r wrote to stderr: %s" % (q, err[:300]))
        if shown != qshown:
            problems.append("%r: resdex shows %s hits, quest %s" % (q, shown, qshown))
        for e in names:  # one more warm-up run each, measuring peak RSS
            rss[e] = max(rss[e], bl.run_measured(engines[e](q), what=e)["maxrss_mb"])

    times = {q: {e: [] for e in names} for q in queries}
    bl.log("timing %d queries x %d engines x %d runs (load average %.2f)"
           % (len(queries), len(names), args.repeat, os.getloadavg()[0]))
    for rep in range(args.repeat):
        for i, q in enumerate(queries):
            k = (rep + i) % len(names)
            for e in names[k:] + names[:k]:
                res = bl.run_measured(engines[e](q), what=e, measure_rss=False)
                times[q][e].append(res["wall_s"])

    per_query = []
    for q in queries:
        row = {"query": q}
        row.update(checks[q])
        for e in names:
            row[e + "_ms"] = bl.median(times[q][e]) * 1e3
        row["resdex_vs_quest"] = row["resdex_ms"] / row["quest_ms"]
        if "quest_exhaustive" in names:
            row["resdex_vs_quest_exhaustive"] = row["resdex_ms"] / row["quest_exhaustive_ms"]
        if "resdex_exact" in names:
            row["resdex_exact_vs_quest"] = row["resdex_exact_ms"] / row["quest_ms"]
        per_query.append(row)
    overall = {
        "resdex_vs_quest_geomean": bl.geomean([r["resdex_vs_quest"] for r in per_query]),
        "resdex_ms_median_all": bl.median([t for q in queries for t in times[q]["resdex"]]) * 1e3,
        "quest_ms_median_all": bl.median([t for q in queries for t in times[q]["quest"]]) * 1e3,
        "peak_rss_mb": rss,
    }
    overall["resdex_vs_quest_of_medians"] = (overall["resdex_ms_median_all"]
                                             / overall["quest_ms_median_all"])
    # The ratio of each round (every query once, the engines interleaved):
    # how far the machine's load moved the figure within this run.
    rounds = [bl.geomean([times[q]["resdex"][rep] / times[q]["quest"][rep] for q in queries])
              for rep in range(args.repeat)]
    overall["resdex_vs_quest_rounds"] = {"min": min(rounds), "median": bl.median(rounds),
                                         "max": max(rounds)}
    if "resdex_exact" in names:
        overall["resdex_exact_vs_quest_geomean"] = bl.geomean(
            [r["resdex_exact_vs_quest"] for r in per_query])
        overall["resdex_exact_ms_median_all"] = bl.median(
            [t for q in queries for t in times[q]["resdex_exact"]]) * 1e3
    if "quest_exhaustive" in names:
        overall["resdex_vs_quest_exhaustive_geomean"] = bl.geomean(
            [r["resdex_vs_quest_exhaustive"] for r in per_query])
        overall["quest_exhaustive_ms_median_all"] = bl.median(
            [t for q in queries for t in times[q]["quest_exhaustive"]]) * 1e3

    bl.log("batch latency")
    batch = run_batch(args, resdex, index, queries, tmp)
    info["loadavg_at_end"] = list(os.getloadavg())
    result = {
        "benchmark": "search",
        "command": " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:]),
        "machine": info,
        "index": args.index or "(built)", "xapian_db": args.xapian_db or "(built)",
        "built": built,
        "limit": args.limit, "repeat": args.repeat,
        "per_query": per_query, "overall": overall, "batch": batch,
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
        print_report(result, names)
    return 1 if problems else 0


def print_report(result, names):
    m = result["machine"]
    bl.print_machine("Search benchmark", m)
    print("resdex: %s (%s build)  %s" % (m["resdex_version"], m["resdex_build_type"],
                                          m["quest_version"]))
    if result["built"]:
        b = result["built"]
        print("indexes built for this run from %d documents (resdex %.1f s, scriptindex %s s)"
              % (b["documents"], b.get("resdex_build_s", 0),
                 bl.fmt(b.get("scriptindex_build_s"), "%.1f")))
    print("per-process wall time, median of %d runs per query, %d results per query"
          % (result["repeat"], result["limit"]))
    print()
    exh = "quest_exhaustive" in names
    exact = "resdex_exact" in names
    headers = ["query", "matches", "resdex ms", "quest ms"]
    if exh:
        headers.append("quest -c ms")
    if exact:
        headers.append("exact ms")
    headers.append("resdex/quest")
    if exh:
        headers.append("resdex/quest -c")
    if exact:
        headers.append("exact/quest")
    rows = []
    for r in result["per_query"]:
        row = [r["query"], str(r["resdex_total"]), bl.fmt(r["resdex_ms"], "%.1f"),
               bl.fmt(r["quest_ms"], "%.1f")]
        if exh:
            row.append(bl.fmt(r["quest_exhaustive_ms"], "%.1f"))
        if exact:
            row.append(bl.fmt(r["resdex_exact_ms"], "%.1f"))
        row.append(bl.fmt(r["resdex_vs_quest"]))
        if exh:
            row.append(bl.fmt(r["resdex_vs_quest_exhaustive"]))
        if exact:
            row.append(bl.fmt(r["resdex_exact_vs_quest"]))
        rows.append(row)
    o = result["overall"]
    row = ["ALL (median of all runs; geomean ratio)", "", bl.fmt(o["resdex_ms_median_all"], "%.1f"),
           bl.fmt(o["quest_ms_median_all"], "%.1f")]
    if exh:
        row.append(bl.fmt(o["quest_exhaustive_ms_median_all"], "%.1f"))
    if exact:
        row.append(bl.fmt(o["resdex_exact_ms_median_all"], "%.1f"))
    row.append(bl.fmt(o["resdex_vs_quest_geomean"]))
    if exh:
        row.append(bl.fmt(o["resdex_vs_quest_exhaustive_geomean"]))
    if exact:
        row.append(bl.fmt(o["resdex_exact_vs_quest_geomean"]))
    rows.append(row)
    bl.print_table(headers, rows)
    rr = o["resdex_vs_quest_rounds"]
    print("resdex/quest of each round (every query once; geomean): %s min, %s median, %s max"
          % (bl.fmt(rr["min"]), bl.fmt(rr["median"]), bl.fmt(rr["max"])))
    print()
    diffs = [abs(r["resdex_total"] - r["quest_exact"]) / max(1, r["quest_exact"])
             for r in result["per_query"] if r["resdex_total"] is not None and r["quest_exact"]]
    est = [r["estimate"] for r in result["per_query"] if "estimate" in r]
    sampled = [e for e in est if not e["facets_exact"]]
    if sampled:
        errs = sorted(x for e in sampled for x in e["value_rel_errors"])
        shared = [e["institution_top5_shared"] for e in sampled if "institution_top5_shared" in e]
        print("estimated counts (resdex, default) against --exact-counts, %d of %d queries "
              "estimated: total off by %.1f%% at most; facet values of >= 5%% of the matches "
              "off by %.1f%% median, %.1f%% at most (%d values); top 5 institutions: %.1f of 5 "
              "the same on average"
              % (len(sampled), len(est), 100 * max(e["total_rel_error"] for e in sampled),
                 100 * bl.median(errs) if errs else float("nan"),
                 100 * max(errs) if errs else float("nan"), len(errs),
                 sum(shared) / len(shared) if shared else float("nan")))
    print("matches: resdex's exact total; quest -c's exact count on the scriptindex database "
          "differs by at most %.1f%% (resdex also indexes authors, venues and affiliations)"
          % (100 * max(diffs) if diffs else float("nan")))
    print("peak RSS MB (from the warm-up runs): "
          + ", ".join("%s %.0f" % (e, v) for e, v in o["peak_rss_mb"].items()))
    b = result["batch"]
    print()
    if "skipped" in b:
        print("batch: skipped: %s" % b["skipped"])
    else:
        print("in-process batch, %d queries (the list %d times), %d runs:"
              % (b["queries_in_batch"], b["queries_in_batch"] // max(1, len(result["per_query"])),
                 b["runs"]))
        for f in b["formats"].values():
            print("  %s" % f["command"])
            print("    per query %.2f ms median, %.2f ms p99; marginal %.2f ms median, "
                  "%.2f ms p99; one-query batch %.1f ms; %d output lines, %d query ids"
                  % (f["per_query_ms_median"], f["per_query_ms_p99"], f["marginal_ms_median"],
                     f["marginal_ms_p99"], f["one_query_batch_ms_median"], f["output_lines"],
                     f["distinct_query_ids_in_output"]))
        print("  " + b["note"])
    bl.print_problems(result["problems"])


if __name__ == "__main__":
    bl.run_main("search_bench", main)
