#include "core/match_sample.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace resdex {

namespace {

// The docids of one database that are in the sample, in ascending order.
class SampleSource : public Xapian::PostingSource {
 public:
  explicit SampleSource(uint32_t threshold) : threshold_(threshold) {}

  Xapian::PostingSource* clone() const override { return new SampleSource(threshold_); }

  // Called once per database of the search, with docids local to it.
  void init(const Xapian::Database& db) override {
    last_ = db.get_lastdocid();
    docs_ = db.get_doccount();
    did_ = 0;
  }

  Xapian::doccount get_termfreq_min() const override { return 0; }
  Xapian::doccount get_termfreq_est() const override {
    return static_cast<Xapian::doccount>((static_cast<uint64_t>(docs_) * threshold_) >> 32);
  }
  Xapian::doccount get_termfreq_max() const override { return docs_; }

  void next(double) override { advance(did_ + 1); }
  void skip_to(Xapian::docid did, double) override {
    if (did > did_) advance(did);
  }
  bool at_end() const override { return did_ > last_; }
  Xapian::docid get_docid() const override { return did_; }

 private:
  void advance(Xapian::docid from) {
    did_ = from;
    while (did_ <= last_ && !in_sample(did_, threshold_)) ++did_;
  }

  uint32_t threshold_;
  Xapian::docid last_ = 0;
  Xapian::doccount docs_ = 0;
  Xapian::docid did_ = 0;
};

}  // namespace

uint32_t sample_threshold(double k) {
  const double t = std::ldexp(1.0, 32) / std::max(1.0, k);
  return t >= 4294967295.0 ? UINT32_MAX : static_cast<uint32_t>(t);
}

Xapian::Query sample_query(uint32_t threshold) {
  return Xapian::Query((new SampleSource(threshold))->release());
}

namespace {

bool has_positions(const Xapian::Query& q) {
  const Xapian::Query::op op = q.get_type();
  if (op == Xapian::Query::OP_PHRASE || op == Xapian::Query::OP_NEAR) return true;
  for (size_t i = 0; i < q.get_num_subqueries(); ++i)
    if (has_positions(q.get_subquery(i))) return true;
  return false;
}

// `q` filtered by `sample` (one query shared by every branch: a posting
// source is cloned for each use).
Xapian::Query filtered(const Xapian::Query& q, const Xapian::Query& sample) {
  if (!has_positions(q)) return Xapian::Query(Xapian::Query::OP_FILTER, q, sample);
  const Xapian::Query::op op = q.get_type();
  std::vector<Xapian::Query> parts;
  for (size_t i = 0; i < q.get_num_subqueries(); ++i) parts.push_back(q.get_subquery(i));
  switch (op) {
    case Xapian::Query::OP_OR:
      // A match of any branch is a match: filter each.
      for (Xapian::Query& part : parts) part = filtered(part, sample);
      return Xapian::Query(op, parts.begin(), parts.end());
    case Xapian::Query::OP_AND:
    case Xapian::Query::OP_FILTER:
    case Xapian::Query::OP_AND_NOT:
    case Xapian::Query::OP_AND_MAYBE: {
      // A match of the first part is needed (of every part, for AND and
      // FILTER): filtering the first part with positions filters the whole,
      // and leaves it under the AND.
      size_t i = 0;
      const size_t needed = op == Xapian::Query::OP_AND || op == Xapian::Query::OP_FILTER ? parts.size() : 1;
      while (i < needed && !has_positions(parts[i])) ++i;
      if (i == needed) break;
      parts[i] = filtered(parts[i], sample);
      return Xapian::Query(op, parts.begin(), parts.end());
    }
    default:
      break;
  }
  return Xapian::Query(Xapian::Query::OP_FILTER, q, sample);
}

}  // namespace

Xapian::Query sample_matches(const Xapian::Query& query, uint32_t threshold) {
  return filtered(query, sample_query(threshold));
}

}  // namespace resdex
