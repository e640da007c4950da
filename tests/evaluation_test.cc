#include "core/evaluation.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/file_system.h"
#include "test_support.h"

namespace resdex {
namespace {

using doctest::Approx;

// 1 / log2(rank + 1): the discount of trec_eval's nDCG at a 1-based rank.
double disc(int rank) { return 1.0 / std::log2(static_cast<double>(rank) + 1); }

const QueryMetrics* find(const Evaluation& ev, const std::string& qid) {
  for (const QueryMetrics& m : ev.per_query)
    if (m.qid == qid) return &m;
  return nullptr;
}

std::vector<std::string> qids(const Evaluation& ev) {
  std::vector<std::string> out;
  for (const QueryMetrics& m : ev.per_query) out.push_back(m.qid);
  return out;
}

// q1: graded judgments, some unretrieved, an unjudged hit at rank 1.
//   qrels: d1 = 2, d2 = 1, d3 = 1, d4 = 0 (judged not relevant): 3 relevant.
//   run, by score: dA (unjudged), d2, d4, d1, dB; d3 not retrieved.
//   relevant hits: d2 at rank 2 (gain 1), d1 at rank 4 (gain 2).
//   DCG@10  = 1/log2(3) + 2/log2(5)            = 0.63093 + 0.86135 = 1.49228
//   IDCG@10 = 2/log2(2) + 1/log2(3) + 1/log2(4) = 2 + 0.63093 + 0.5 = 3.13093
//   nDCG@10 = 1.49228 / 3.13093 = 0.47663
//   AP      = (1/2 + 2/4) / 3 = 1/3
//   R@100   = 2/3
//   RR      = 1/2
void add_q1(Qrels& qrels, Run& run) {
  qrels["q1"] = {{"d1", 2}, {"d2", 1}, {"d3", 1}, {"d4", 0}};
  // Deliberately not in score order: evaluate() sorts by score.
  run["q1"] = {{"d1", 7}, {"dA", 10}, {"d4", 8}, {"dB", 6}, {"d2", 9}};
}

// q2: one relevant document at rank 1, the other beyond rank 100.
//   qrels: r1 = 1, r2 = 1.
//   run: r1 (rank 1), n000..n099 (ranks 2..101, unjudged), r2 (rank 102).
//   DCG@10  = 1/log2(2) = 1
//   IDCG@10 = 1 + 1/log2(3) = 1.63093
//   nDCG@10 = 1 / 1.63093 = 0.61315
//   AP      = (1/1 + 2/102) / 2 = 0.50980
//   R@100   = 1/2 (r2 is at rank 102)
//   RR      = 1
void add_q2(Qrels& qrels, Run& run) {
  qrels["q2"] = {{"r1", 1}, {"r2", 1}};
  std::vector<RankedDoc>& docs = run["q2"];
  docs.push_back({"r1", 1000});
  for (int i = 0; i < 100; ++i) {
    char id[8];
    std::snprintf(id, sizeof id, "n%03d", i);
    docs.push_back({id, 999.0 - i});
  }
  docs.push_back({"r2", 1});
}

TEST_CASE("evaluation: nDCG@10 with graded gains, AP, Recall@100 and RR of one query") {
  Qrels qrels;
  Run run;
  add_q1(qrels, run);
  Evaluation ev = evaluate(qrels, run);
  REQUIRE(ev.per_query.size() == 1);
  const QueryMetrics& m = ev.per_query[0];
  CHECK(m.qid == "q1");
  const double dcg = disc(2) * 1 + disc(4) * 2;
  const double idcg = disc(1) * 2 + disc(2) * 1 + disc(3) * 1;
  CHECK(m.ndcg10 == Approx(dcg / idcg));
  CHECK(m.ndcg10 == Approx(0.47663).epsilon(1e-4));
  CHECK(m.ap == Approx(1.0 / 3));
  CHECK(m.recall100 == Approx(2.0 / 3));
  CHECK(m.rr == Approx(0.5));
  CHECK(m.relevant == 3);
  CHECK(m.retrieved == 5);
}

TEST_CASE("evaluation: a relevant document beyond rank 100 counts for AP but not Recall@100") {
  Qrels qrels;
  Run run;
  add_q2(qrels, run);
  Evaluation ev = evaluate(qrels, run);
  REQUIRE(ev.per_query.size() == 1);
  const QueryMetrics& m = ev.per_query[0];
  CHECK(m.recall100 == Approx(0.5));
  CHECK(m.ap == Approx((1.0 + 2.0 / 102) / 2));
  CHECK(m.ap == Approx(0.50980).epsilon(1e-4));
  CHECK(m.ndcg10 == Approx(1.0 / (1.0 + disc(2))));
  CHECK(m.ndcg10 == Approx(0.61315).epsilon(1e-4));
  CHECK(m.rr == 1.0);
  CHECK(m.retrieved == 102);

  // At rank 100 exactly it counts: drop one of the unjudged documents.
  run["q2"].erase(run["q2"].begin() + 1, run["q2"].begin() + 3);  // r2 now at rank 100
  Evaluation at100 = evaluate(qrels, run);
  CHECK(at100.per_query.at(0).recall100 == 1.0);
  CHECK(at100.per_query.at(0).ap == Approx((1.0 + 2.0 / 100) / 2));
}

TEST_CASE("evaluation: a perfect ranking scores 1 everywhere, an ideal graded order too") {
  Qrels qrels;
  qrels["q"] = {{"a", 2}, {"b", 1}, {"c", 1}};
  Run run;
  run["q"] = {{"a", 3}, {"b", 2}, {"c", 1}, {"x", 0.5}};
  Evaluation ev = evaluate(qrels, run);
  REQUIRE(ev.per_query.size() == 1);
  CHECK(ev.per_query[0].ndcg10 == Approx(1.0));
  CHECK(ev.per_query[0].ap == Approx(1.0));
  CHECK(ev.per_query[0].recall100 == 1.0);
  CHECK(ev.per_query[0].rr == 1.0);

  // The grade-1 documents first: same AP, lower nDCG.
  //   DCG = 1 + 1/log2(3) + 2/log2(4) = 1 + 0.63093 + 1 = 2.63093
  //   IDCG = 2 + 1/log2(3) + 1/log2(4) = 3.13093; nDCG = 0.84030
  run["q"] = {{"b", 3}, {"c", 2}, {"a", 1}};
  Evaluation swapped = evaluate(qrels, run);
  CHECK(swapped.per_query[0].ap == Approx(1.0));
  CHECK(swapped.per_query[0].ndcg10 ==
        Approx((disc(1) + disc(2) + 2 * disc(3)) / (2 * disc(1) + disc(2) + disc(3))));
  CHECK(swapped.per_query[0].ndcg10 == Approx(0.84030).epsilon(1e-4));
}

TEST_CASE("evaluation: only the top 10 count for nDCG@10") {
  Qrels qrels;
  qrels["q"] = {{"rel", 1}};
  Run run;
  for (int i = 0; i < 10; ++i) run["q"].push_back({"x" + std::to_string(i), 100.0 - i});
  run["q"].push_back({"rel", 1});  // rank 11
  Evaluation ev = evaluate(qrels, run);
  CHECK(ev.per_query.at(0).ndcg10 == 0.0);
  CHECK(ev.per_query.at(0).rr == Approx(1.0 / 11));
  CHECK(ev.per_query.at(0).ap == Approx(1.0 / 11));
  CHECK(ev.per_query.at(0).recall100 == 1.0);
}

TEST_CASE("evaluation: RR is the reciprocal rank of the first relevant hit") {
  Qrels qrels;
  qrels["q"] = {{"r1", 1}, {"r2", 3}};
  Run run;
  run["q"] = {{"x", 9}, {"y", 8}, {"r2", 7}, {"r1", 6}};
  Evaluation ev = evaluate(qrels, run);
  CHECK(ev.per_query.at(0).rr == Approx(1.0 / 3));
  // AP = (1/3 + 2/4) / 2 = 0.41667
  CHECK(ev.per_query.at(0).ap == Approx((1.0 / 3 + 2.0 / 4) / 2));
  // DCG = 3/log2(4) + 1/log2(5); IDCG = 3/log2(2) + 1/log2(3)
  CHECK(ev.per_query.at(0).ndcg10 == Approx((3 * disc(3) + disc(4)) / (3 * disc(1) + disc(2))));
}

TEST_CASE("evaluation: a judged query missing from the run scores 0, unjudged run queries are ignored") {
  Qrels qrels;
  Run run;
  add_q1(qrels, run);
  qrels["q3"] = {{"z", 1}};                 // judged, not in the run
  run["q9"] = {{"d1", 5}, {"z", 4}};        // in the run, not judged
  Evaluation ev = evaluate(qrels, run);
  CHECK(qids(ev) == std::vector<std::string>{"q1", "q3"});
  const QueryMetrics* q3 = find(ev, "q3");
  REQUIRE(q3 != nullptr);
  CHECK(q3->ndcg10 == 0.0);
  CHECK(q3->ap == 0.0);
  CHECK(q3->recall100 == 0.0);
  CHECK(q3->rr == 0.0);
  CHECK(q3->relevant == 1);
  CHECK(q3->retrieved == 0);
  // A run entry with no documents is the same as none.
  run["q3"] = {};
  CHECK(evaluate(qrels, run).per_query.at(1).ap == 0.0);
}

TEST_CASE("evaluation: a query without relevant judgments is skipped") {
  Qrels qrels;
  Run run;
  add_q1(qrels, run);
  qrels["q0"] = {{"d1", 0}, {"d2", 0}};  // judged, nothing relevant
  qrels["qn"] = {{"d1", -1}};            // negative grades are not relevant either
  run["q0"] = {{"d1", 3}};
  Evaluation ev = evaluate(qrels, run);
  CHECK(qids(ev) == std::vector<std::string>{"q1"});
  // ... and does not pull the mean down.
  CHECK(ev.mean.ap == Approx(1.0 / 3));
}

TEST_CASE("evaluation: ties are ordered by score descending, then document id descending") {
  Qrels qrels;
  qrels["t"] = {{"b", 1}};
  Run run;
  // Listed b first, but trec_eval puts equal scores in descending id
  // order: c, b, a; "z" has a lower score and comes last in spite of its id.
  run["t"] = {{"b", 5}, {"z", 4}, {"a", 5}, {"c", 5}};
  Evaluation ev = evaluate(qrels, run);
  CHECK(ev.per_query.at(0).rr == Approx(0.5));
  CHECK(ev.per_query.at(0).ap == Approx(0.5));
  CHECK(ev.per_query.at(0).ndcg10 == Approx(disc(2) / disc(1)));

  // Ids compare as strings (strcmp), not as numbers: "9" > "10".
  qrels["n"] = {{"10", 1}};
  run["n"] = {{"10", 2}, {"9", 2}};
  Evaluation ev2 = evaluate(qrels, run);
  CHECK(find(ev2, "n")->rr == Approx(0.5));

  // A higher score always wins over the id order.
  run["n"] = {{"9", 2}, {"10", 2.0000001}};
  CHECK(find(evaluate(qrels, run), "n")->rr == 1.0);
}

TEST_CASE("evaluation: the mean is taken over judged queries, per_query sorted by qid") {
  Qrels qrels;
  Run run;
  add_q2(qrels, run);
  add_q1(qrels, run);
  qrels["q3"] = {{"z", 1}};  // scores 0
  Evaluation ev = evaluate(qrels, run);
  CHECK(qids(ev) == std::vector<std::string>{"q1", "q2", "q3"});
  const double ndcg1 = (disc(2) + 2 * disc(4)) / (2 + disc(2) + disc(3));
  const double ndcg2 = 1.0 / (1.0 + disc(2));
  CHECK(ev.mean.qid == "all");
  CHECK(ev.mean.ndcg10 == Approx((ndcg1 + ndcg2 + 0) / 3));
  CHECK(ev.mean.ap == Approx((1.0 / 3 + (1.0 + 2.0 / 102) / 2 + 0) / 3));
  CHECK(ev.mean.recall100 == Approx((2.0 / 3 + 0.5 + 0) / 3));
  CHECK(ev.mean.rr == Approx((0.5 + 1.0 + 0) / 3));
  CHECK(ev.mean.relevant == 3 + 2 + 1);
  CHECK(ev.mean.retrieved == 5 + 102 + 0);

  // Nothing judged: no queries, zeros.
  Evaluation none = evaluate(Qrels{}, run);
  CHECK(none.per_query.empty());
  CHECK(none.mean.ndcg10 == 0.0);
  CHECK(none.mean.ap == 0.0);
}

// ---------------------------------------------------------------------------
// Files

void check_usage_error(const std::function<void()>& f, const std::string& where) {
  try {
    f();
    FAIL("no exception; expected one naming " << where);
  } catch (const Error& e) {
    CHECK(e.kind() == Error::Kind::kUsage);
    INFO("message: ", e.what());
    CHECK(std::string(e.what()).find(where) != std::string::npos);
  }
}

TEST_CASE("evaluation: read_qrels reads BEIR's TSV with its header") {
  MemoryFileSystem fs;
  fs.write("qrels/test.tsv",
           "query-id\tcorpus-id\tscore\n"
           "1\t31715818\t1\n"
           "1\t14717500\t2\n"
           "\n"
           "13\t1606628\t0\n");
  Qrels q = read_qrels(fs, "qrels/test.tsv");
  CHECK(q.size() == 2);
  CHECK(q.at("1") == std::map<std::string, int>{{"14717500", 2}, {"31715818", 1}});
  CHECK(q.at("13") == std::map<std::string, int>{{"1606628", 0}});
  CHECK(q.count("query-id") == 0);
}

TEST_CASE("evaluation: read_qrels reads TREC's four columns") {
  MemoryFileSystem fs;
  fs.write("qrels.txt",
           "301 0 FBIS3-10082 1\n"
           "301 0 FBIS3-10169 0\n"
           "302 Q0 FT921-1 2\r\n");
  Qrels q = read_qrels(fs, "qrels.txt");
  CHECK(q.at("301") == std::map<std::string, int>{{"FBIS3-10082", 1}, {"FBIS3-10169", 0}});
  CHECK(q.at("302") == std::map<std::string, int>{{"FT921-1", 2}});
}

TEST_CASE("evaluation: read_qrels names the file and line of a malformed line") {
  MemoryFileSystem fs;
  fs.write("bad.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\n");
  check_usage_error([&] { read_qrels(fs, "bad.tsv"); }, "bad.tsv:3");
  fs.write("bad2.tsv", "q1\td1\t1\nq1\td2\tvery\n");
  check_usage_error([&] { read_qrels(fs, "bad2.tsv"); }, "bad2.tsv:2");
  fs.write("bad3.tsv", "q1 0 d1 1\nq1 0 d2 1 extra\n");
  check_usage_error([&] { read_qrels(fs, "bad3.tsv"); }, "bad3.tsv:2");
  CHECK_THROWS_AS(read_qrels(fs, "missing.tsv"), Error);
}

TEST_CASE("evaluation: read_run reads a TREC run in file order") {
  MemoryFileSystem fs;
  fs.write("run.trec",
           "q1 Q0 d3 1 12.5 resdex\n"
           "q1 Q0 d1 2 11 resdex\n"
           "\n"
           "q2 Q0 d9 1 -0.25 other\n");
  Run run = read_run(fs, "run.trec");
  REQUIRE(run.size() == 2);
  REQUIRE(run.at("q1").size() == 2);
  CHECK(run.at("q1")[0].id == "d3");
  CHECK(run.at("q1")[0].score == 12.5);
  CHECK(run.at("q1")[1].id == "d1");
  CHECK(run.at("q1")[1].score == 11.0);
  REQUIRE(run.at("q2").size() == 1);
  CHECK(run.at("q2")[0].score == -0.25);

  fs.write("short.trec", "q1 Q0 d3 1 12.5 resdex\nq1 Q0 d1 2\n");
  check_usage_error([&] { read_run(fs, "short.trec"); }, "short.trec:2");
  fs.write("score.trec", "q1 Q0 d3 1 high resdex\n");
  check_usage_error([&] { read_run(fs, "score.trec"); }, "score.trec:1");
}

TEST_CASE("evaluation: read_queries reads _id and text, skips blank lines") {
  MemoryFileSystem fs;
  fs.write("queries.jsonl",
           R"({"_id": "q1", "text": "inverse problems", "metadata": {}})" "\n"
           "\n"
           R"({"_id": 7, "text": "((( NOT AND -"})" "\n"
           R"({"text": "id after text", "_id": "q3"})");
  std::vector<BatchQuery> q = read_queries(fs, "queries.jsonl");
  REQUIRE(q.size() == 3);
  CHECK(q[0].id == "q1");
  CHECK(q[0].text == "inverse problems");
  CHECK(q[1].id == "7");
  CHECK(q[1].text == "((( NOT AND -");
  CHECK(q[2].id == "q3");
}

TEST_CASE("evaluation: read_queries names the file and line of a bad line") {
  MemoryFileSystem fs;
  fs.write("q.jsonl", R"({"_id": "q1", "text": "a"})" "\n\n" R"({"_id": "q2", "text": )" "\n");
  check_usage_error([&] { read_queries(fs, "q.jsonl"); }, "q.jsonl:3");
  fs.write("q2.jsonl", R"({"_id": "q1"})" "\n");
  check_usage_error([&] { read_queries(fs, "q2.jsonl"); }, "q2.jsonl:1");
  fs.write("q3.jsonl", R"({"_id": "q1", "text": "a"})" "\n" R"({"text": "no id"})" "\n");
  check_usage_error([&] { read_queries(fs, "q3.jsonl"); }, "q3.jsonl:2");
  fs.write("q4.jsonl", R"(["q1", "a"])" "\n");
  check_usage_error([&] { read_queries(fs, "q4.jsonl"); }, "q4.jsonl:1");
  fs.write("q5.jsonl", R"({"_id": "q1", "text": ["a"]})" "\n");
  check_usage_error([&] { read_queries(fs, "q5.jsonl"); }, "q5.jsonl:1");
}

TEST_CASE("evaluation: files read back evaluate like the structures they describe") {
  MemoryFileSystem fs;
  fs.write("qrels.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\td2\t1\nq1\td3\t1\nq1\td4\t0\n");
  fs.write("run.trec",
           "q1 Q0 dA 1 10 t\nq1 Q0 d2 2 9 t\nq1 Q0 d4 3 8 t\nq1 Q0 d1 4 7 t\nq1 Q0 dB 5 6 t\n");
  Evaluation ev = evaluate(read_qrels(fs, "qrels.tsv"), read_run(fs, "run.trec"));
  Qrels qrels;
  Run run;
  add_q1(qrels, run);
  Evaluation expected = evaluate(qrels, run);
  REQUIRE(ev.per_query.size() == 1);
  CHECK(ev.per_query[0].ndcg10 == Approx(expected.per_query[0].ndcg10));
  CHECK(ev.per_query[0].ap == Approx(1.0 / 3));
  CHECK(ev.per_query[0].rr == Approx(0.5));
}

}  // namespace
}  // namespace resdex
