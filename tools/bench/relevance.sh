#!/usr/bin/env bash
# Relevance of resdex's ranking options on BEIR SciFact: each technique's
# nDCG@10, MAP and Recall@100 on the train qrels (where choices are made)
# and on the test qrels (reported only).
#
# Usage: tools/bench/relevance.sh [DATA_DIR] [INDEX_DIR]
#   DATA_DIR defaults to ../shared/data/scifact, INDEX_DIR to a temp dir.
set -euo pipefail
cd "$(dirname "$0")/../.."
RESDEX=${RESDEX:-build/resdex}
DATA=${1:-../shared/data/scifact}
INDEX=${2:-$(mktemp -d)/scifact}
[[ -x $RESDEX ]] || { echo "relevance.sh: build resdex first ($RESDEX not found)" >&2; exit 1; }
[[ -f $DATA/corpus.jsonl ]] || { echo "relevance.sh: no $DATA/corpus.jsonl" >&2; exit 1; }

if [[ ! -f $INDEX/XAPIANDB ]]; then
  "$RESDEX" index -q --corpus "$DATA/corpus.jsonl" --index "$INDEX"
fi

techniques=(
  "BM25 k1=1.2 b=0.75 (default)|"
  "BM25 k1=1.0 b=0.5 (Xapian's defaults)|--bm25-k1 1.0 --bm25-b 0.5"
  "BM25 k1=0.9 b=0.4 (Anserini's defaults)|--bm25-k1 0.9 --bm25-b 0.4"
  "BM25 k1=1.2 b=0.9|--bm25-b 0.9"
  "BM25+|--weighting bm25+"
  "PL2|--weighting pl2"
  "DLH|--weighting dlh"
  "LM Dirichlet mu=1000|--weighting lm"
  "stop words dropped|--stopwords"
  "exact-form bonus 0.1|--exact-weight 0.1"
  "title as own field 0.2|--title-weight 0.2"
  "proximity 0.1, window 4|--proximity-weight 0.1 --proximity-window 4"
  "proximity 0.2, window 8|--proximity-weight 0.2 --proximity-window 8"
  "PRF 10 docs, 5 terms, 0.3|--feedback-docs 10 --feedback-terms 5 --feedback-weight 0.3"
  "PRF 3 docs, 10 terms, 0.5|--feedback-docs 3 --feedback-terms 10 --feedback-weight 0.5"
)

metrics() {
  "$RESDEX" eval --index "$INDEX" --queries "$DATA/queries.jsonl" --qrels "$1" --json "${@:2}" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.4f %.4f %.4f" % (d["ndcg@10"], d["map"], d["recall@100"]))'
}

printf '%-42s %8s %8s %8s   %8s %8s %8s\n' technique "tr nDCG" "tr MAP" "tr R@100" "te nDCG" "te MAP" "te R@100"
for t in "${techniques[@]}"; do
  name=${t%%|*}
  read -r -a opts <<< "${t#*|}"
  read -r tn tm tr < <(metrics "$DATA/qrels-train.tsv" "${opts[@]}")
  read -r en em er < <(metrics "$DATA/qrels-test.tsv" "${opts[@]}")
  printf '%-42s %8s %8s %8s   %8s %8s %8s\n' "$name" "$tn" "$tm" "$tr" "$en" "$em" "$er"
done
