// Retrieval evaluation with trec_eval's definitions: nDCG@10 (ndcg_cut_10,
// graded gains), MAP, Recall@100 and MRR (recip_rank).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace resdex {

class FileSystem;

// qid -> docid -> relevance grade (> 0 is relevant).
using Qrels = std::map<std::string, std::map<std::string, int>>;

struct RankedDoc {
  std::string id;
  double score = 0;
};
// qid -> retrieved documents, best first.
using Run = std::map<std::string, std::vector<RankedDoc>>;

struct QueryMetrics {
  std::string qid;
  double ndcg10 = 0;
  double ap = 0;
  double recall100 = 0;
  double rr = 0;
  size_t relevant = 0;   // judged relevant
  size_t retrieved = 0;
};

struct Evaluation {
  std::vector<QueryMetrics> per_query;  // every judged query, sorted by qid
  QueryMetrics mean;                    // qid "all"
};

// A query of a batch: BEIR's {"_id", "text"}.
struct BatchQuery {
  std::string id;
  std::string text;
};

// Reads qrels: "query-id<TAB>corpus-id<TAB>score" lines, an optional header
// line, or TREC's four-column "qid 0 docid rel". Throws Error(kUsage) naming
// the file and line of a malformed line.
Qrels read_qrels(const FileSystem& fs, const std::string& path);

// Reads a TREC run ("qid Q0 docid rank score tag"). Throws Error(kUsage).
Run read_run(const FileSystem& fs, const std::string& path);

// Reads JSONL queries with "_id" and "text". Throws Error(kUsage) naming the
// file and line of a bad line.
std::vector<BatchQuery> read_queries(const FileSystem& fs, const std::string& path);

// Scores `run` against `qrels`. Only judged queries count; a judged query
// missing from the run scores 0. As trec_eval does, each query's documents
// are ordered by score descending, ties by document id descending.
Evaluation evaluate(const Qrels& qrels, const Run& run);

}  // namespace resdex
