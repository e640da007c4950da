#include "core/match_sample.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/facets.h"

namespace resdex {
namespace {

TEST_CASE("match_sample: the sample keeps about 1 in k documents, evenly along the docids") {
  for (double k : {1.0, 2.0, 3.5, 10.0, 48.8, 1000.0}) {
    CAPTURE(k);
    const uint32_t t = sample_threshold(k);
    const Xapian::docid n = 1000000;
    size_t kept = 0;
    // Every stretch of 20 k consecutive documents holds about 20 of them:
    // no stretch of the corpus (a year, a venue) is left out or crowded.
    const Xapian::docid window = static_cast<Xapian::docid>(20 * k);
    size_t in_window = 0, fewest = SIZE_MAX, most = 0;
    for (Xapian::docid d = 1; d <= n; ++d) {
      const bool in = in_sample(d, t);
      kept += in;
      in_window += in;
      if (d % window == 0) {
        fewest = std::min(fewest, in_window);
        most = std::max(most, in_window);
        in_window = 0;
      }
    }
    CHECK(std::abs(static_cast<double>(kept) - n / k) <= 0.005 * n / k + 1);
    if (k > 1) {
      CHECK(fewest >= 17);
      CHECK(most <= 23);
    }
  }
}

TEST_CASE("match_sample: k of 1 or less keeps every document") {
  for (double k : {0.0, 0.5, 1.0})
    for (Xapian::docid d : {1u, 2u, 77u, 4000000000u}) CHECK(in_sample(d, sample_threshold(k)));
}

// The docids `q` matches in `db`, ascending.
std::vector<Xapian::docid> matches(const Xapian::Database& db, const Xapian::Query& q) {
  Xapian::Enquire enquire(db);
  enquire.set_query(q);
  enquire.set_weighting_scheme(Xapian::BoolWeight());
  const Xapian::MSet mset = enquire.get_mset(0, db.get_doccount());
  std::vector<Xapian::docid> out(mset.begin(), mset.end());
  std::sort(out.begin(), out.end());
  return out;
}

TEST_CASE("match_sample: sample_matches keeps the matches in the sample, phrases under an OR included") {
  // 600 documents of words from a small vocabulary, with positions, so
  // that phrases match some and miss others that have their words.
  Xapian::WritableDatabase db(std::string(), Xapian::DB_BACKEND_INMEMORY);
  const char* const words[] = {"low", "resource", "language", "model", "parsing", "speech"};
  uint32_t state = 7;
  for (int d = 0; d < 600; ++d) {
    Xapian::Document doc;
    for (Xapian::termpos pos = 1; pos <= 12; ++pos) {
      state = state * 1664525u + 1013904223u;
      doc.add_posting(words[(state >> 16) % 6], pos);
    }
    db.add_document(doc);
  }
  auto phrase = [](std::initializer_list<const char*> ws, Xapian::Query::op op = Xapian::Query::OP_PHRASE) {
    std::vector<std::string> terms(ws.begin(), ws.end());
    return Xapian::Query(op, terms.begin(), terms.end(), static_cast<Xapian::termcount>(terms.size()));
  };
  using Q = Xapian::Query;
  const Q low_resource = phrase({"low", "resource"});
  const std::vector<Q> queries = {
      Q("language"),
      low_resource,
      Q(Q::OP_OR, low_resource, Q("language")),
      Q(Q::OP_OR, Q(Q::OP_OR, low_resource, phrase({"speech", "model"})), Q("parsing")),
      Q(Q::OP_AND, Q("model"), Q(Q::OP_OR, low_resource, Q("speech"))),
      Q(Q::OP_AND_NOT, Q(Q::OP_OR, low_resource, Q("speech")), Q("parsing")),
      Q(Q::OP_AND_NOT, Q("speech"), low_resource),
      Q(Q::OP_AND_MAYBE, Q(Q::OP_OR, low_resource, Q("model")), Q("speech")),
      Q(Q::OP_FILTER, Q(Q::OP_OR, phrase({"language", "model"}, Q::OP_NEAR), Q("low")), Q("parsing")),
      Q(Q::OP_XOR, low_resource, Q("model")),
  };
  for (double k : {1.0, 2.0, 5.0, 40.0}) {
    const uint32_t t = sample_threshold(k);
    for (const Q& q : queries) {
      CAPTURE(k);
      CAPTURE(q.get_description());
      // The matches of q that in_sample() keeps, found without the
      // sample's posting source.
      std::vector<Xapian::docid> expected = matches(db, q);
      expected.erase(std::remove_if(expected.begin(), expected.end(),
                                    [&](Xapian::docid d) { return !in_sample(d, t); }),
                     expected.end());
      CHECK(matches(db, Q(Q::OP_FILTER, q, sample_query(t))) == expected);
      CHECK(matches(db, sample_matches(q, t)) == expected);
      if (k == 2.0) CHECK_FALSE(expected.empty());
    }
  }
  // The filter is on each branch of an OR with a phrase, not on top.
  CHECK(sample_matches(Q(Q::OP_OR, low_resource, Q("language")), sample_threshold(5)).get_type() == Q::OP_OR);
  CHECK(sample_matches(Q(Q::OP_OR, Q("low"), Q("language")), sample_threshold(5)).get_type() == Q::OP_FILTER);
}

TEST_CASE("match_sample: estimates are rounded to two significant digits") {
  CHECK(round_estimate(0) == 0);
  CHECK(round_estimate(-3) == 0);
  CHECK(round_estimate(0.4) == 0);
  CHECK(round_estimate(87.4) == 87);
  CHECK(round_estimate(99.6) == 100);
  CHECK(round_estimate(123) == 120);
  CHECK(round_estimate(18856) == 19000);
  CHECK(round_estimate(48808.3) == 49000);
  CHECK(round_estimate(1049999) == 1000000);
}

}  // namespace
}  // namespace resdex
