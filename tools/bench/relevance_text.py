#!/usr/bin/env python3
"""Text-analysis variants on BEIR SciFact, measured without changing resdex.

Each variant rewrites the corpus and the queries with the same function
(what an analysis change in resdex would do identically at index and query
time), indexes the rewritten corpus with resdex and prints nDCG@10, MAP and
Recall@100 on the train qrels (where choices are made) and the test qrels
(reported only), as tools/bench/relevance.sh does for the ranking options.
The variants apply on top of resdex's own analysis; docs/relevance.md gives
the commit its rows were measured at.

Usage: tools/bench/relevance_text.py [--data DIR] [--resdex PATH] [VARIANT...]
  DIR defaults to ../shared/data/scifact; with no VARIANT, all of them.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# Words joined by single hyphens: "IL-6", "alpha-synuclein", "COVID-19".
COMPOUND = re.compile(r"\w+(?:-\w+)+")


def identifier_like(parts):
    """A compound that names a thing rather than joins two words: one part
    has a digit or is at most two characters ("IL-6", "T-cell")."""
    return any(re.search(r"\d", p) or len(p) <= 2 for p in parts)


def add_joined(select):
    """Each selected compound also as one word: "IL-6" -> "IL-6 IL6"."""
    def transform(text):
        def rep(m):
            parts = m.group(0).split("-")
            return m.group(0) + " " + "".join(parts) if select(parts) else m.group(0)
        return COMPOUND.sub(rep, text)
    return transform


def replace_joined(text):
    """Identifier-like compounds as one word only: "IL-6" -> "IL6"."""
    def rep(m):
        parts = m.group(0).split("-")
        return "".join(parts) if identifier_like(parts) else m.group(0)
    return COMPOUND.sub(rep, text)


def split_letter_digit(text):
    """Letters and digits of one word apart: "IL6" -> "IL 6", "p53" -> "p 53"."""
    return re.sub(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])", " ", text)


GREEK = {}
for _cp in range(0x391, 0x3CA):
    _m = re.match(r"GREEK (?:SMALL|CAPITAL) LETTER (\w+)$", unicodedata.name(chr(_cp), ""))
    if _m:
        GREEK[chr(_cp)] = _m.group(1).lower()
GREEK["\u00b5"] = "mu"  # MICRO SIGN


def greek_names(text):
    """A Greek letter inside a Latin word or standing alone spelled out:
    "IL-1β" -> "IL-1beta", "NF-κB" -> "NF-kappaB", "β-blockers" ->
    "beta-blockers". Greek words stay Greek."""
    def rep(m):
        w = m.group(0)
        if not any(c in GREEK for c in w) or (len(w) > 1 and all(c in GREEK for c in w)):
            return w
        return "".join(GREEK.get(c, c) for c in w)
    return re.sub(r"\w+", rep, text)


VARIANTS = {
    "none": ("as given", lambda t: t),
    "joined-added": ("identifier-like hyphen compounds also joined (IL-6 -> IL-6 IL6)",
                     add_joined(identifier_like)),
    "joined-added-all": ("every hyphen compound also joined", add_joined(lambda parts: True)),
    "joined-only": ("identifier-like hyphen compounds joined instead (IL-6 -> IL6)", replace_joined),
    "letter-digit-split": ("letters and digits split (IL6 -> IL 6)", split_letter_digit),
    "greek-names": ("Greek letters in Latin words spelled out (IL-1β -> IL-1beta)", greek_names),
}


def rewrite(src, dest, fields, transform):
    with open(src, encoding="utf-8") as fin, open(dest, "w", encoding="utf-8") as fout:
        for line in fin:
            rec = json.loads(line)
            for f in fields:
                if isinstance(rec.get(f), str):
                    rec[f] = transform(rec[f])
            fout.write(json.dumps(rec, ensure_ascii=False) + "\n")


def metrics(resdex, index, queries, qrels):
    out = subprocess.run([resdex, "eval", "--index", index, "--queries", queries, "--qrels", qrels,
                          "--json"], check=True, capture_output=True, text=True).stdout
    d = json.loads(out)
    return ["%.4f" % d[k] for k in ("ndcg@10", "map", "recall@100")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data", "scifact"))
    ap.add_argument("--resdex", default=os.path.join(REPO, "build", "resdex"))
    ap.add_argument("variants", nargs="*", metavar="VARIANT", help="one of: " + ", ".join(VARIANTS))
    args = ap.parse_args()
    for v in args.variants:
        if v not in VARIANTS:
            sys.exit("relevance_text.py: unknown variant '%s' (known: %s)" % (v, ", ".join(VARIANTS)))
    if not os.access(args.resdex, os.X_OK):
        sys.exit("relevance_text.py: build resdex first (%s not found)" % args.resdex)
    if not os.path.isfile(os.path.join(args.data, "corpus.jsonl")):
        sys.exit("relevance_text.py: no corpus.jsonl in %s" % args.data)
    print("%-66s %8s %8s %8s   %8s %8s %8s" %
          ("variant", "tr nDCG", "tr MAP", "tr R@100", "te nDCG", "te MAP", "te R@100"), flush=True)
    with tempfile.TemporaryDirectory(prefix="resdex-relevance-text-") as tmp:
        for name in args.variants or list(VARIANTS):
            label, transform = VARIANTS[name]
            corpus, queries = os.path.join(tmp, name + "-corpus.jsonl"), os.path.join(tmp, name + "-queries.jsonl")
            rewrite(os.path.join(args.data, "corpus.jsonl"), corpus, ("title", "text"), transform)
            rewrite(os.path.join(args.data, "queries.jsonl"), queries, ("text",), transform)
            index = os.path.join(tmp, name + "-index")
            subprocess.run([args.resdex, "index", "-q", "--corpus", corpus, "--index", index], check=True)
            row = metrics(args.resdex, index, queries, os.path.join(args.data, "qrels-train.tsv"))
            row += metrics(args.resdex, index, queries, os.path.join(args.data, "qrels-test.tsv"))
            print("%-66s %8s %8s %8s   %8s %8s %8s" % ((name + ": " + label)[:66], *row), flush=True)


if __name__ == "__main__":
    main()
