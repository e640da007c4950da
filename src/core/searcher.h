// Ranked search over an index: query parsing (Xapian's QueryParser on
// folded text), facet filters and counts, snippets.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/document.h"
#include "core/search_result.h"

namespace resdex {

struct SearchOptions {
  // The user's query in Xapian's query language; empty lists every
  // document that passes the filters.
  std::string query;
  // Filters: values of one facet are ORed, different facets ANDed. Values
  // match case-insensitively, institutions by short or full name.
  std::vector<std::string> institutions;
  std::vector<std::string> areas;
  std::vector<std::string> types;
  size_t offset = 0;
  size_t limit = 10;
  // Approximate snippet length in bytes.
  size_t snippet_length = 200;
  bool facets = true;
  bool snippets = true;
};

// BM25 parameters (Xapian's BM25Weight).
struct RankingOptions {
  double k1 = 1.2;
  double b = 0.75;
};

class Searcher {
 public:
  // Opens the index at `index_dir`. Throws Error(kNotFound) if there is
  // none, Error(kCorrupt) if it cannot be read.
  explicit Searcher(const std::string& index_dir, RankingOptions ranking = {});
  ~Searcher();

  // Throws Error(kUsage) for a query that cannot be read even as plain
  // words, Error(kCorrupt) if the index fails while reading.
  SearchResult search(const SearchOptions& options);

  // The stored document with this id. Throws Error(kNotFound).
  Document get(const std::string& id);

  size_t document_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace resdex
