// The facet slot (schema::kSlotFacets) of every document of a database, in
// a file of its own indexed by docid: a column that a search maps and
// reads only at the docids it counts (like Lucene's doc values or
// tantivy's fast fields).
//
// The values lie in the order of the samples counts are estimated from
// (match_sample.h), so that the matches of a sample are read from the
// start of the file: a sample of 1 in k documents touches 1/k of it,
// where values in docid order (an earlier format) had it touch every page,
// ~0.07 ms of mapping for a search of the ACL abstracts (docs/performance.md).
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
#include <vector>

#include <xapian.h>

#include "core/match_sample.h"
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

  // Calls visit(value(d)) once for each of the n distinct docids `dids`,
  // in an order of its own. Docids of a sample
  // (sample_hash below some threshold) are read in the order of the file,
  // from its start up to the last of them, when that is not far more than
  // asked for; others one by one, in the order given, reading ahead: each
  // costs two cache misses (its offset, then its bytes), most of them TLB
  // misses too, which asking a few documents ahead overlaps.
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

  // The value whose entry (its length as a facet varint, then its bytes)
  // starts at `at` in entries_ ("" for a damaged one); *next, if given, the
  // offset of the entry after it (0 for a damaged one).
  std::string_view entry(uint32_t at, uint32_t* next = nullptr) const;
  const unsigned char* offset_of(Xapian::docid did) const { return offsets_ + 4 * (did - 1); }
  // The little-endian 4-byte integer at `p`.
  static uint32_t le32(const unsigned char* p) {
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
           static_cast<uint32_t>(p[3]) << 24;
  }
  // Where the entry of `did` (1..last_) starts in entries_.
  uint32_t entry_offset(Xapian::docid did) const { return le32(offset_of(did)); }
  template <class Visit>
  void walk_sample(const Xapian::docid* dids, size_t n, uint32_t max_hash, Visit&& visit) const;

  std::shared_ptr<const MappedFile> file_;
  const unsigned char* header_ = nullptr;
  const unsigned char* offsets_ = nullptr;  // the entry of docid d at offsets_[d - 1], little-endian
  const unsigned char* hashes_ = nullptr;   // sample_hash of docids 1..last_, ascending
  const char* entries_ = nullptr;           // in the order of hashes_
  uint32_t entries_size_ = 0;
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
void FacetColumn::walk_sample(const Xapian::docid* dids, size_t n, uint32_t max_hash, Visit&& visit) const {
  std::vector<uint64_t> asked((static_cast<size_t>(last_) >> 6) + 1);
  for (size_t i = 0; i < n; ++i)
    if (dids[i] != 0 && dids[i] <= last_) asked[dids[i] >> 6] |= uint64_t{1} << (dids[i] & 63);
  uint32_t at = 0;
  for (Xapian::docid i = 0; i < last_; ++i) {
    const uint32_t hash = le32(hashes_ + 4 * static_cast<size_t>(i));
    if (hash > max_hash) break;
    const Xapian::docid did = sample_unhash(hash);
    const bool wanted = did <= last_ && (asked[did >> 6] >> (did & 63) & 1);
    // Most values are shorter than 128 bytes: a length of one byte.
    const uint32_t first = at < entries_size_ ? static_cast<unsigned char>(entries_[at]) : 0x80u;
    if (first < 0x80 && first < entries_size_ - at) {
      if (wanted) visit(std::string_view(entries_ + at + 1, first));
      at += 1 + first;
    } else {
      uint32_t next = 0;
      const std::string_view value = entry(at, &next);
      if (next <= at) break;  // a damaged file: the values asked and not met read as ""
      if (wanted) visit(value);
      at = next;
    }
    if (wanted) asked[did >> 6] &= ~(uint64_t{1} << (did & 63));
  }
  for (size_t i = 0; i < n; ++i)
    if (dids[i] == 0 || dids[i] > last_ || (asked[dids[i] >> 6] >> (dids[i] & 63) & 1)) visit(std::string_view());
}

template <class Visit>
void FacetColumn::for_each_value(const Xapian::docid* dids, size_t n, Visit&& visit) const {
  if (n == 0) return;
  // Reading in the file's order, from its start to the last docid asked
  // for, costs about half the instructions a value passed by that a value
  // read on its own costs. It pays for values spread over the whole file
  // when it passes by fewer than ~2 values for each asked; for a sample's
  // values, which lie in the first part of the file, also when it passes
  // by up to ~8 (a sample's matches of a query that matches one document
  // in 8 or more), since the rest of the file is not touched at all.
  uint32_t max_hash = 0;
  for (size_t i = 0; i < n; ++i)
    if (dids[i] != 0 && dids[i] <= last_) max_hash = std::max(max_hash, sample_hash(dids[i]));
  const double passed = static_cast<double>(last_) * (static_cast<double>(max_hash) + 1) / 4294967296.0;
  const double asked = static_cast<double>(n);
  if (passed <= 2 * asked || (passed <= 8 * asked && passed <= static_cast<double>(last_) / 4)) {
    walk_sample(dids, n, max_hash, visit);
    return;
  }
  // Far enough for the misses to overlap, near enough to stay in cache.
  constexpr size_t kAhead = 16;
  constexpr size_t kBlock = 256;
  uint32_t at[kBlock];
  for (size_t start = 0; start < n; start += kBlock) {
    const size_t count = std::min(kBlock, n - start);
    const Xapian::docid* block = dids + start;
    for (size_t i = 0; i < count; ++i) {
      if (i + kAhead < count && block[i + kAhead] - 1 < last_) __builtin_prefetch(offset_of(block[i + kAhead]));
      at[i] = block[i] - 1 < last_ ? entry_offset(block[i]) : entries_size_;
    }
    for (size_t i = 0; i < count; ++i) {
      if (i + kAhead < count && at[i + kAhead] < entries_size_) __builtin_prefetch(entries_ + at[i + kAhead]);
      visit(entry(at[i]));
    }
  }
}

}  // namespace resdex
