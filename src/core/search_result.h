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
  size_t total = 0;  // exact number of matching documents
  size_t offset = 0;
  size_t limit = 0;
  std::vector<Hit> hits;
  std::vector<FacetCounts> facets;  // in schema::kFacets order
};

}  // namespace resdex
