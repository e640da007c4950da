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
// Only a cache of the slot: the file names the database (uuid), revision
// and last docid it was written from, and open() refuses it for any other
// state, so a writer that commits without rewriting it (or a file left by
// an older database) sends the search back to the slot.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <xapian.h>

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
