// What a search returns: plain data, printed by the output formatters.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/document.h"

namespace resdex {

struct Hit {
  size_t rank = 0;  // 1-based, counted from the first result overall
  double score = 0;
  Document doc;     // as stored; `text` is the whole body
  std::string snippet;
  std::vector<std::pair<size_t, size_t>> highlights;  // byte ranges into snippet
};

struct FacetCount {
  std::string value;
  size_t count = 0;
};

struct FacetCounts {
  std::string name;  // "institution", "area"
  std::vector<FacetCount> counts;  // by count descending, then value
};

struct SearchResult {
  std::string query;
  std::optional<std::string> corrected_query;
  size_t total = 0;  // number of matching documents
  // Whether `total` is exact; false: estimated from a sample of the
  // matches (SearchOptions::exact_counts) and rounded to two significant
  // digits, or, when nothing was counted, Xapian's estimate.
  bool total_exact = true;
  size_t offset = 0;
  size_t limit = 0;
  std::vector<Hit> hits;
  std::vector<FacetCounts> facets;  // in schema::kFacets order
  // Whether the facet counts are exact; false: estimated from a sample,
  // rounded like an estimated total.
  bool facets_exact = true;
};

}  // namespace resdex
