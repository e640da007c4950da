#include "core/evaluation.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file_system.h"

namespace resdex {

namespace {

std::vector<std::string> split_ws(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

[[noreturn]] void bad_line(const std::string& path, int line, const std::string& why) {
  throw Error(Error::Kind::kUsage, path + ":" + std::to_string(line) + ": " + why);
}

bool parse_int(const std::string& s, int* out) {
  try {
    size_t used = 0;
    *out = std::stoi(s, &used);
    return used == s.size();
  } catch (...) {
    return false;
  }
}

bool parse_double(const std::string& s, double* out) {
  try {
    size_t used = 0;
    *out = std::stod(s, &used);
    return used == s.size();
  } catch (...) {
    return false;
  }
}

}  // namespace

Qrels read_qrels(const FileSystem& fs, const std::string& path) {
  Qrels qrels;
  auto lines = fs.open_lines(path);
  std::string line;
  for (int n = 1; lines->next(&line); ++n) {
    std::vector<std::string> f = split_ws(line);
    if (f.empty()) continue;
    int grade = 0;
    if (f.size() == 3 && parse_int(f[2], &grade)) {
      qrels[f[0]][f[1]] = grade;
    } else if (f.size() == 4 && parse_int(f[3], &grade)) {
      qrels[f[0]][f[2]] = grade;
    } else if (n == 1) {
      continue;  // header ("query-id corpus-id score")
    } else {
      bad_line(path, n, "expected 'query-id<TAB>doc-id<TAB>grade'");
    }
  }
  return qrels;
}

Run read_run(const FileSystem& fs, const std::string& path) {
  Run run;
  auto lines = fs.open_lines(path);
  std::string line;
  for (int n = 1; lines->next(&line); ++n) {
    std::vector<std::string> f = split_ws(line);
    if (f.empty()) continue;
    double score = 0;
    if (f.size() < 5 || !parse_double(f[4], &score))
      bad_line(path, n, "expected 'qid Q0 docid rank score tag'");
    run[f[0]].push_back({f[2], score});
  }
  return run;
}

std::vector<BatchQuery> read_queries(const FileSystem& fs, const std::string& path) {
  std::vector<BatchQuery> queries;
  auto lines = fs.open_lines(path);
  std::string line;
  for (int n = 1; lines->next(&line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) bad_line(path, n, "not a JSON object");
    auto id = j.find("_id");
    auto text = j.find("text");
    if (id == j.end() || !(id->is_string() || id->is_number_integer()))
      bad_line(path, n, "missing '_id'");
    if (text == j.end() || !text->is_string()) bad_line(path, n, "missing 'text'");
    queries.push_back({id->is_string() ? id->get<std::string>() : std::to_string(id->get<long long>()),
                       text->get<std::string>()});
  }
  return queries;
}

Evaluation evaluate(const Qrels& qrels, const Run& run) {
  Evaluation ev;
  ev.mean.qid = "all";
  for (const auto& [qid, judged] : qrels) {
    QueryMetrics m;
    m.qid = qid;
    std::vector<int> grades;
    for (const auto& [doc, g] : judged)
      if (g > 0) grades.push_back(g);
    m.relevant = grades.size();
    if (m.relevant == 0) continue;  // trec_eval skips queries with no relevant document

    std::vector<RankedDoc> docs;
    if (auto it = run.find(qid); it != run.end()) docs = it->second;
    std::stable_sort(docs.begin(), docs.end(), [](const RankedDoc& a, const RankedDoc& b) {
      if (a.score != b.score) return a.score > b.score;
      return a.id > b.id;
    });
    m.retrieved = docs.size();

    std::sort(grades.rbegin(), grades.rend());
    double dcg = 0, idcg = 0;
    size_t found = 0;
    double precision_sum = 0;
    for (size_t i = 0; i < docs.size(); ++i) {
      auto j = judged.find(docs[i].id);
      int g = j == judged.end() ? 0 : j->second;
      if (g <= 0) continue;
      ++found;
      precision_sum += static_cast<double>(found) / static_cast<double>(i + 1);
      if (i < 10) dcg += g / std::log2(static_cast<double>(i) + 2);
      if (i < 100) m.recall100 += 1;
      if (m.rr == 0) m.rr = 1.0 / static_cast<double>(i + 1);
    }
    for (size_t i = 0; i < grades.size() && i < 10; ++i)
      idcg += grades[i] / std::log2(static_cast<double>(i) + 2);
    m.ndcg10 = idcg > 0 ? dcg / idcg : 0;
    m.ap = precision_sum / static_cast<double>(m.relevant);
    m.recall100 /= static_cast<double>(m.relevant);
    ev.per_query.push_back(m);
  }
  for (const QueryMetrics& m : ev.per_query) {
    ev.mean.ndcg10 += m.ndcg10;
    ev.mean.ap += m.ap;
    ev.mean.recall100 += m.recall100;
    ev.mean.rr += m.rr;
    ev.mean.relevant += m.relevant;
    ev.mean.retrieved += m.retrieved;
  }
  if (!ev.per_query.empty()) {
    double n = static_cast<double>(ev.per_query.size());
    ev.mean.ndcg10 /= n;
    ev.mean.ap /= n;
    ev.mean.recall100 /= n;
    ev.mean.rr /= n;
  }
  return ev;
}

}  // namespace resdex
