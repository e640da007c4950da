// Short ids for facet values: what a document's facet slot holds
// (schema::kSlotFacets, from schema version 8).
//
// Counting the facets of a query's matches reads the slot of every match,
// or of a sample of them spread over the whole index: every chunk of the
// slot's value stream. As the values themselves (one ACL abstract's
// affiliations run to ~17 bytes, venue and year to ~10) the stream of the
// 59,000 ACL abstracts took 1.7 MB, 122 blocks read for one broad query;
// as ids it takes ~0.3 MB (docs/performance.md).
//
// Ids are given per facet in the order the values are first met, from 0,
// and never taken back: a value no document has any more keeps its id.
// Every database of an index (each shard) stores the whole dictionary of
// the build or update that wrote it, in its metadata:
//
// - kValuesPrefix + facet name + "." + n: the values of ids 64 n to
//   64 n + 63, joined by '\x1f' (which no value holds: control characters
//   are dropped, as schema::encode_list drops them);
// - kOrderPrefix + facet name: each id's rank in the bytewise order of the
//   values, a varint each, in id order.
//
// A search reads the ranks (FacetLookup), which order the values of equal
// counts, and then the values of the few ids it shows: one entry of all
// 8,270 ACL affiliations took Xapian 0.5 ms to read.
//
// A slot value is, for each facet in schema::kFacets order, the number of
// its values and their ids, each a LEB128 varint; "" when the document has
// no facet values at all.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <xapian.h>

#include "core/schema.h"

namespace resdex {

class FacetColumn;

inline constexpr size_t kFacetCount = std::size(schema::kFacets);

// One document's values of each facet, in schema::kFacets order.
using FacetValues = std::array<std::vector<std::string>, kFacetCount>;
// The same as ids.
using FacetIds = std::array<std::vector<uint32_t>, kFacetCount>;

class FacetDictionary {
 public:
  static constexpr const char* kValuesPrefix = "resdex.facet_values.";
  static constexpr const char* kOrderPrefix = "resdex.facet_order.";
  static constexpr uint32_t kChunk = 64;  // values per kValuesPrefix entry

  FacetDictionary();
  ~FacetDictionary();
  FacetDictionary(FacetDictionary&&) noexcept;
  FacetDictionary& operator=(FacetDictionary&&) noexcept;

  // The dictionary stored in `db` (for several databases, the first one's);
  // empty if it stores none.
  static FacetDictionary load(const Xapian::Database& db);

  // Whether `db`'s facet slot holds ids (an index of schema version 8 or
  // later, which has the version key), or the values themselves.
  static bool holds_ids(const Xapian::Database& db);

  // The id of `value` of facet number `facet`; a new one if it has none.
  // Safe to call from several threads at once.
  uint32_t id(size_t facet, std::string_view value);

  // The value with `id`, or "" for an id it does not know.
  std::string_view value(size_t facet, uint32_t id) const;

  // Ids given so far for facet number `facet`.
  size_t size(size_t facet) const;

  // Writes the dictionary into `db`'s metadata: all of it, or with
  // `only_new` just what changed since load() (the entries holding new ids,
  // and the ranks), for a `db` that holds what was loaded. An update that
  // adds no value then writes nothing (a no-op run of `resdex index` on
  // the ACL abstracts rewrote all 141 entries otherwise).
  void store(Xapian::WritableDatabase& db, bool only_new = false) const;

  // The slot value for `values`, new ids given as needed (thread-safe).
  std::string encode(const FacetValues& values);

  // The values of a slot value this dictionary's ids make up ("" for an
  // unknown id is left out).
  FacetValues values(std::string_view encoded) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The read side of a stored FacetDictionary, for counting: the ranks of all
// ids at once, each value when it is first asked for; or the copy of the
// dictionary in a FacetColumn, which costs no reading at all.
class FacetLookup {
 public:
  // The dictionary stored in `db` (for several databases, the first one's).
  explicit FacetLookup(const Xapian::Database& db);
  // The one in `column` if it holds one (FacetColumn::has_dictionary), else
  // the one stored in `db`. `column` must be current for `db`.
  FacetLookup(const Xapian::Database& db, std::shared_ptr<const FacetColumn> column);

  // Ids facet number `facet` has.
  size_t size(size_t facet) const;
  // The rank of `id` < size(facet) in the bytewise order of the values.
  uint32_t rank(size_t facet, uint32_t id) const;
  // The value of `id` ("" if the index holds none).
  std::string_view value(size_t facet, uint32_t id);

 private:
  std::shared_ptr<const FacetColumn> column_;  // with a dictionary, or null
  Xapian::Database db_;
  std::array<std::vector<uint32_t>, kFacetCount> ranks_;
  // Entries read so far, by facet and chunk, split into values.
  struct Chunk {
    std::string stored;
    std::vector<std::string_view> values;
  };
  std::array<std::vector<std::unique_ptr<Chunk>>, kFacetCount> chunks_;
};

// The ids of a slot value (FacetDictionary::encode). A damaged value gives
// the ids read up to the damage.
FacetIds decode_facet_ids(std::string_view encoded);

// Appends `v` as a varint of FacetDictionary::encode (LEB128: 7 bits a
// byte, low first).
inline void put_facet_varint(uint32_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Reads a varint of FacetDictionary::encode off the front of *in; false at
// the end of `in` or on one longer than 32 bits.
inline bool get_facet_varint(std::string_view* in, uint32_t* v) {
  uint32_t out = 0;
  for (int shift = 0; shift < 35 && !in->empty(); shift += 7) {
    const auto byte = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    out |= static_cast<uint32_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) {
      *v = out;
      return true;
    }
  }
  return false;
}

// Calls visit(facet, id) for each id decode_facet_ids gives, in its order,
// without building the lists: counting does it once per match.
template <class Visit>
void for_each_facet_id(std::string_view encoded, Visit&& visit) {
  for (size_t f = 0; f < kFacetCount && !encoded.empty(); ++f) {
    uint32_t n = 0;
    if (!get_facet_varint(&encoded, &n)) return;
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t id = 0;
      if (!get_facet_varint(&encoded, &id)) return;
      visit(f, id);
    }
  }
}

// The facet values of `doc`, whichever schema version wrote it: ids of
// `dictionary` if `ids` (FacetDictionary::holds_ids of its database), the
// values themselves (schema::encode_facets, versions 3 to 7), or one slot
// per facet (Facet::legacy_slot, before version 3).
FacetValues facet_values(const Xapian::Document& doc, bool ids, const FacetDictionary& dictionary);

}  // namespace resdex
