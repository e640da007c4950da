// The facet slot (schema::kSlotFacets) of every document of a database, in
// a file of its own indexed by docid: a column that a search maps and
// reads only at the docids it counts (like Lucene's doc values or
// tantivy's fast fields).
//
// Xapian keeps a slot as a value stream in its B-tree: chunks of a few
// hundred documents, each read with pread(2) and decoded from its start.
// Facet counts over a sample spread across the whole index (match_sample.h)
// read every chunk: on the ACL abstracts ~0.5 ms of a ~4 ms search
// process, which the column brings down to what the sample touches
// (docs/performance.md).
//
// The file also holds the facet dictionary (facet_dictionary.h) as the
// database's metadata had it: each id's rank and value. A count then reads
// no metadata: reading the ranks and the values shown from Xapian took a
// counting thread ~0.2 ms of a ~3 ms search on the ACL abstracts, most of
// it before it could start counting (docs/performance.md).
//
// Only a cache of the slot: the file names the database (uuid), revision
// and last docid it was written from, and open() refuses it for any other
// state, so a writer that commits without rewriting it (or a file left by
// an older database) sends the search back to the slot.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <xapian.h>

#include "core/schema.h"

namespace resdex {

class MappedFile;

class FacetColumn {
 public:
  // Writes the column of `db`, a single local database, to `path`, whole
  // (replace_file). Throws Error(kIo) if the file cannot be written.
  static void write(const Xapian::Database& db, const std::string& path);

  // The column at `path` if it was written from `db` as `db` is now (same
  // uuid, revision and last docid); nullptr if there is none, it is of
  // another state, or it is not a column file. `db` must be a single
  // database.
  static std::shared_ptr<const FacetColumn> open(const std::string& path, const Xapian::Database& db);

  // Whether the column is of `db` as `db` is now (what open() checks):
  // a column kept from an earlier search may be used again if so.
  bool current_for(const Xapian::Database& db) const;

  // The slot's value of `did`: "" for a docid with none, or past the last.
  std::string_view value(Xapian::docid did) const;

  // Calls visit(value(dids[i])) for i = 0 .. n-1, in that order, reading
  // ahead. The docids a count visits (a sample's matches) are spread over
  // the whole file, so each value costs two cache misses (its offset, then
  // its bytes), most of them TLB misses too; one at a time they took
  // ~0.3 us a document, ~0.3 ms of a search's ~1,000-match count. Asking
  // for the offsets and the bytes a few documents ahead overlaps the misses.
  template <class Visit>
  void for_each_value(const Xapian::docid* dids, size_t n, Visit&& visit) const;

  // Whether the file holds the facet dictionary (a database whose facet
  // slot holds ids, FacetDictionary::holds_ids).
  bool has_dictionary() const { return has_dictionary_; }
  // The dictionary of facet number `facet` (schema::kFacets order): how
  // many ids it has, the rank of `id` < that in the bytewise order of the
  // values, and the value of `id` ("" for one it does not know).
  uint32_t dictionary_size(size_t facet) const { return dictionary_[facet].size; }
  uint32_t rank(size_t facet, uint32_t id) const;
  std::string_view dictionary_value(size_t facet, uint32_t id) const;

 private:
  FacetColumn() = default;

  // The bytes of a value, [begin, end) in data_, or {0, 0} for none.
  struct Span {
    uint32_t begin, end;
  };
  Span span(Xapian::docid did) const;
  const unsigned char* offset_of(Xapian::docid did) const { return offsets_ + 4 * (did - 1); }

  std::shared_ptr<const MappedFile> file_;
  const unsigned char* header_ = nullptr;
  const unsigned char* offsets_ = nullptr;  // last_ + 1 of them, little-endian
  const char* data_ = nullptr;
  uint32_t data_size_ = 0;
  Xapian::docid last_ = 0;
  // One facet's dictionary in the file: `size` ranks, `size` + 1 offsets
  // into `values` (from 0 to values_size), all little-endian.
  struct Dictionary {
    uint32_t size = 0;
    const unsigned char* ranks = nullptr;
    const unsigned char* offsets = nullptr;
    const char* values = nullptr;
    uint32_t values_size = 0;
  };
  // Reads the dictionary section [p, end) into dictionary_; false if it
  // is not one (a damaged file).
  bool read_dictionary(const unsigned char* p, const unsigned char* end);
  std::array<Dictionary, std::size(schema::kFacets)> dictionary_;
  bool has_dictionary_ = false;
};

template <class Visit>
void FacetColumn::for_each_value(const Xapian::docid* dids, size_t n, Visit&& visit) const {
  // Far enough for the misses to overlap, near enough to stay in cache.
  constexpr size_t kAhead = 16;
  constexpr size_t kBlock = 256;
  Span spans[kBlock];
  for (size_t start = 0; start < n; start += kBlock) {
    const size_t count = std::min(kBlock, n - start);
    const Xapian::docid* block = dids + start;
    for (size_t i = 0; i < count; ++i) {
      if (i + kAhead < count && block[i + kAhead] - 1 < last_) __builtin_prefetch(offset_of(block[i + kAhead]));
      spans[i] = span(block[i]);
    }
    for (size_t i = 0; i < count; ++i) {
      if (i + kAhead < count) __builtin_prefetch(data_ + spans[i + kAhead].begin);
      visit(std::string_view(data_ + spans[i].begin, spans[i].end - spans[i].begin));
    }
  }
}

}  // namespace resdex
