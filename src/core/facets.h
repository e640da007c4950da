// Facet counts over all matches of a query, for facets with several values
// per document.
//
// Each facet slot holds the document's whole list of values
// (schema::encode_list). Xapian's built-in ValueCountMatchSpy counts the
// distinct lists; splitting them and summing gives per-value counts in
// which a document with two institutions counts under both. A custom
// MatchSpy would do the same in one step, but only the built-in spies work
// through xapian-tcpsrv for remote shards.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <xapian.h>

#include "core/schema.h"
#include "core/search_result.h"

namespace resdex {

class FacetCounter {
 public:
  explicit FacetCounter(const schema::Facet& facet);

  // Register with Enquire::add_matchspy; counts are exact only if the
  // MSet was asked for with checkatleast >= the number of documents.
  Xapian::MatchSpy* spy() { return spy_.get(); }

  FacetCounts counts() const;

 private:
  const schema::Facet& facet_;
  std::unique_ptr<Xapian::ValueCountMatchSpy> spy_;
};

// Per-value counts from counts of encoded lists, sorted by count
// descending, then by value.
std::vector<FacetCount> split_list_counts(
    const std::vector<std::pair<std::string, size_t>>& list_counts);

}  // namespace resdex
