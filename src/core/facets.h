// Facet counts over all matches of a query, for facets with several values
// per document.
//
// One value slot holds all facets of a document (schema::kSlotFacets): the
// ids of its values (facet_dictionary.h) from schema version 8, each
// facet's list of values (schema::encode_facets) in versions 3 to 7; a
// document with two institutions counts under both. (An index written
// before schema version 3 has one slot per facet instead,
// Facet::legacy_slot; both ways below read it too.) There are two ways to
// count:
//
// - Local databases (the usual case): one MatchSpy reads the slot through
//   a value stream of its own, or from the database's FacetColumn when it
//   has a current one, and counts each id in an array (each value of
//   each list in a hash table, for the older slots). Xapian's
//   ValueCountMatchSpy keeps a std::map of whole values, and the lists of
//   affiliations are nearly all distinct, so that map and the splitting
//   afterwards cost more than the rest of a broad search.
// - A database with shards served by xapian-tcpsrv, which runs only
//   Xapian's built-in spies: a ValueCountMatchSpy on the slot, counts of
//   whole values cut into ids or lists, split and summed afterwards
//   (split_list_counts).
//
// With ids, only the values shown are read from the dictionary: equal
// counts are ordered by the values' ranks (FacetLookup).
//
// Both give the same counts in the same order.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <xapian.h>

#include "core/schema.h"
#include "core/search_result.h"

namespace resdex {

class FacetColumn;
class FacetLookup;

class FacetCounter {
 public:
  enum class Mode {
    kLocal,    // every database is local (glass)
    kBuiltIn,  // some shard is remote: only Xapian's built-in spies
  };

  // Counts the facets of schema::kFacets on the matches of `db`, which
  // must be the database the Enquire searches. `names`: db's facet
  // dictionary, when the caller has read it already (FacetLookup);
  // otherwise it is read here if db's facet slot holds ids. `column`:
  // db's FacetColumn (a single local database), read instead of the slot.
  FacetCounter(const Xapian::Database& db, Mode mode, std::shared_ptr<FacetLookup> names = nullptr,
               std::shared_ptr<const FacetColumn> column = nullptr);
  ~FacetCounter();
  FacetCounter(const FacetCounter&) = delete;
  FacetCounter& operator=(const FacetCounter&) = delete;

  // Registers the spies with `enquire` (none for a facet no document
  // has). Counts are exact only if the MSet is then asked for with
  // checkatleast >= the number of documents. With Mode::kLocal and a
  // remote shard, get_mset throws Xapian::UnimplementedError.
  void attach(Xapian::Enquire& enquire);

  // One entry per facet of schema::kFacets, in its order; in each, at most
  // `limit` values (0: all), by count descending, then value (bytewise).
  // With `scale`, the counts are of a sample of the matches: each count
  // is multiplied by it, rounded (round_estimate) and kept at most `cap`
  // before the values are ordered. Not const: the spy reads some of the
  // matches' values only here (LocalSpy::flush in facets.cc).
  std::vector<FacetCounts> counts(size_t limit = 0, double scale = 1, size_t cap = SIZE_MAX);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// `x` rounded to two significant digits (18,856 -> 19,000; 87.4 -> 87), for
// counts estimated from a sample, whose further digits would be noise.
size_t round_estimate(double x);

// Per-value counts from counts of encoded lists, sorted by count
// descending, then by value.
std::vector<FacetCount> split_list_counts(
    const std::vector<std::pair<std::string, size_t>>& list_counts);

}  // namespace resdex
