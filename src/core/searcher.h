// Ranked search over an index: query parsing (Xapian's QueryParser on
// folded text), facet filters and counts, snippets.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/document.h"
#include "core/search_result.h"

namespace resdex {

// The longest query Searcher::search reads; a longer one is refused with
// Error(kUsage). Of a query's wildcards, the first 32 are expanded and the
// others read as plain words.
inline constexpr size_t kMaxQueryBytes = 16 * 1024;

struct SearchOptions {
  // The user's query; empty lists every document that passes the filters.
  std::string query;
  // kQueryLanguage reads `query` with Xapian's QueryParser (operators,
  // phrases, fields). kPlainWords reads it as a bag of words, each matched
  // on its stem (a number as it stands) and identifiers in all their
  // spellings ("IL-6", "IL6"): for natural-language queries such as claims
  // or questions, where "-" or "NOT" are not operators.
  enum class Syntax { kQueryLanguage, kPlainWords };
  Syntax syntax = Syntax::kQueryLanguage;
  // Filters: values of one facet are ORed, different facets ANDed. Values
  // match case-insensitively, institutions by short or full name.
  std::vector<std::string> institutions;
  std::vector<std::string> areas;
  std::vector<std::string> types;
  size_t offset = 0;
  size_t limit = 10;
  // Approximate snippet length in bytes.
  size_t snippet_length = 200;
  // Facet counts, and with exact_total the total, come from a pass over
  // the matches of its own (on another core while the page is ranked,
  // where there is one); without both, `total` is Xapian's estimate from
  // the ranking pass and the search is cheaper.
  // With more than ~2,000 matches that pass looks at an even sample of
  // them and scales up (SearchResult::total_exact, facets_exact false) unless
  // exact_counts asks for every match to be counted.
  bool facets = true;
  bool exact_total = true;
  bool exact_counts = false;
  // Facet values reported per facet, the most frequent first; 0 for all.
  size_t facet_limit = 20;
  bool snippets = true;
  // Load each hit's stored document; false fills only Hit::doc.id.
  bool documents = true;
};

// How hits are scored. BM25 (Xapian's BM25Weight), optionally with
// pseudo-relevance feedback: the top `feedback_docs` hits of a first pass
// give `feedback_terms` expansion terms (Xapian's ESet), added to the query
// at `feedback_weight` times their own weight.
struct RankingOptions {
  // "bm25", "bm25+" (BM25PlusWeight), "pl2", "dlh", "lm" (Dirichlet).
  std::string scheme = "bm25";
  double k1 = 1.2;
  double b = 0.75;
  // Plain-words queries also match each word's exact (unstemmed) form,
  // at this weight; 0 turns it off.
  double exact_weight = 0;
  // Plain-words queries also match the title as a field of its own (its
  // own BM25 statistics), at this weight; 0 turns it off.
  double title_weight = 0;
  // Drop English stop words from plain-words queries.
  bool stopwords = false;
  // Proximity: each pair of neighbouring query words (stop words left out)
  // found within `proximity_window` words of each other in a document adds
  // `proximity_weight` times the pair's BM25 weight. Plain-words queries
  // only; 0 turns it off.
  double proximity_weight = 0;
  unsigned proximity_window = 8;
  unsigned feedback_docs = 0;   // 0: no feedback
  unsigned feedback_terms = 10;
  double feedback_weight = 0.5;
};

// How a Searcher prepares for its searches.
struct SearcherOptions {
  // Start the first search's counting (SearchOptions::facets, exact_total)
  // at once, on another core: its handle on the index then opens while the
  // Searcher's own does, and the counts of a process that searches once
  // are ready ~0.5 ms sooner. Wasted work on that core if the first search
  // counts nothing.
  bool prepare_counting = false;
};

class Searcher {
 public:
  // Opens the index at `index_dir`. Throws Error(kNotFound) if there is
  // none, Error(kCorrupt) if it cannot be read.
  explicit Searcher(const std::string& index_dir, RankingOptions ranking = {},
                    const SearcherOptions& options = {});
  ~Searcher();

  // Throws Error(kUsage) for a query longer than kMaxQueryBytes,
  // Error(kCorrupt) if the index fails while reading.
  // A writer committing or switching generations meanwhile is not an
  // error: the search is run again on the new state.
  SearchResult search(const SearchOptions& options);

  // The documents most like the one with `id`, by relevance feedback: the
  // document alone as relevance set gives its best text terms (Xapian's
  // ESet over its unprefixed words and stems; names of fields, ids and
  // filters left out), which are searched for, weighted, as a query.
  // The document itself is never among the hits. `options` as for search,
  // but its query and syntax are ignored; the result's query is `id`.
  // Throws Error(kNotFound) for an unknown id.
  SearchResult similar(const std::string& id, const SearchOptions& options);

  // Makes the next search see the index as it is now: after a commit, or a
  // rebuild that switched generations. For long-lived readers (the web
  // server); a search on its own sees the state it was opened on, retrying
  // only when a writer invalidates it.
  void refresh();

  // The stored document with this id. Throws Error(kNotFound).
  Document get(const std::string& id);

  size_t document_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace resdex
