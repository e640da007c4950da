// The index schema, declared once: document types, term prefixes, value
// slots and facets. The indexer writes what this file declares and the
// searcher reads it; neither spells a prefix or slot number of its own.
//
// Prefixes follow Xapian Omega's conventions (docs/termprefixes.rst):
// Q unique id, S title, A author (here: the person), X... our own.
#pragma once

#include <array>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <xapian.h>

namespace resdex {

class TextNormalizer;

namespace schema {

// Stored in the index metadata under kVersionKey. Bump it whenever the text
// analysis, the terms or the slots change: an index with another version is
// rebuilt by `resdex index` on its own.
inline constexpr int kVersion = 10;
inline constexpr const char* kVersionKey = "resdex.schema_version";

// The schema version `db` (the first of several databases) was written
// with; 0 when it has none (an index from before the key existed) or it
// is not a number.
int stored_version(const Xapian::Database& db);

// Index metadata holding the synonym groups (Synonyms::serialize), set on
// every shard by `resdex index` from the synonyms files; absent or "" when
// there are none.
inline constexpr const char* kSynonymsKey = "resdex.synonyms";

// Index metadata holding the dictionary the stored document data is
// compressed with (DataCodec, document_builder.h: zstd's, trained on the
// first documents of a build, or an older index's deflate dictionary);
// every shard of a generation has the same. Absent: plain JSON.
inline constexpr const char* kDataDictionaryKey = "resdex.data_dictionary";

// A copy of the kDataDictionaryKey metadata in a file of its own, in the
// generation directory (IndexLocation::generation_dir), which a search maps
// (MappedFile) instead of reading the metadata: Xapian assembles the
// 112 KB of the ACL Anthology's dictionary from ~30 B-tree items into a
// string, ~0.15 ms of a ~4 ms search process. Only a cache: every
// compressed record names its dictionary's id, and a search that finds no
// file, or one whose id is not its records', reads the metadata.
inline constexpr const char* kDataDictionaryFile = "data_dictionary.zst";

// The kSlotFacets values of every document of a single-database generation
// in a file of its own (FacetColumn), next to kDataDictionaryFile, which
// facet counting maps instead of walking the slot's value stream. Also
// only a cache: it is used only for the database state it names.
inline constexpr const char* kFacetColumnFile = "facet_column.bin";

// The synonyms file `resdex index` reads at the top of a corpus directory.
inline constexpr const char* kSynonymsFile = "synonyms.txt";

// The Snowball stemmer applied to indexed words and to query words.
inline constexpr const char* kStemmer = "english";

// Value slots.
enum Slot : Xapian::valueno {
  kSlotId = 0,      // document id; breaks ranking ties stably
  kSlotHash = 1,    // content hash of the source (hex), for incremental runs
  // The file the document came from, as source_value() of its path (from
  // schema version 9; the path itself before).
  kSlotSource = 2,
  // Every facet's values of a document in one: their ids
  // (FacetDictionary::encode) from schema version 8, the values
  // themselves (encode_facets) in versions 3 to 7, which are still read.
  kSlotFacets = 7,
  // The stored record (DataCodec::encode). In Xapian's document data up
  // to schema version 6: glass deflates every document data entry longer
  // than 4 bytes, which our compressed records never shrink under, so a
  // build spent ~23 us a record on a deflate that was thrown away (values
  // are stored as they are). Readers still read the data of an older index.
  kSlotData = 8,
};
// Slots 3 to 6 held one facet each (Facet::legacy_slot) and the document
// type (5) up to schema version 5: read from an index written before
// kSlotFacets existed, never written now. Each value is stored twice (in
// the document and in the slot's stream); the copies took 3 MB of the ACL
// Anthology's index.

inline constexpr const char* kPrefixId = "Q";
inline constexpr const char* kPrefixStem = "Z";  // Xapian's stemmed-term prefix

// Free-text fields: searchable by `field:word` and, with a `weight`, also
// by plain words. Weights are wdf multipliers; name and title outweigh the
// body so that a hit in them ranks first.
//
// The prefixed terms carry positions (for `title:"..."`). The unprefixed
// copy of the title carries them too, so that a phrase of plain words finds
// a title as the body's phrase search does, with no second phrase to check:
// asked for in the `S` terms as well, `"machine translation"` took twice
// as long on the ACL Anthology. The other fields' unprefixed copies carry
// none, as their positions twice would take another 8 MB of a 268 MB index
// (docs/performance.md); a phrase of plain words still finds their text, as
// the searcher asks for it in each such field too (field_query.h). Their
// prefixed terms are rare words (names, departments), so that is cheap.
struct TextField {
  const char* name;    // query prefix name ("name" for name:...)
  const char* prefix;  // term prefix
  unsigned weight;     // wdf multiplier of the unprefixed copy (0: none)
  // Whether the prefixed terms have "Z" stems too. A person's name is
  // matched as written: stemmed, "manning" was "man". (The unprefixed
  // copy is always stemmed, like all plain words.)
  bool stemmed;
  // The schema version from which the unprefixed copy has positions as
  // well (0: never); see plain_positions().
  int plain_positions_since;
};
inline constexpr TextField kTextFields[] = {
    {"name", "A", 3, false, 0},
    {"title", "S", 3, true, 10},
    {"department", "XD", 1, true, 0},
};

// Whether an index of schema `version` has positions on the unprefixed
// copy of `field`.
inline constexpr bool plain_positions(const TextField& field, int version) {
  return field.weight > 0 && field.plain_positions_since != 0 && version >= field.plain_positions_since;
}

// Boolean fields: exact filters (`institution:zib`), matched on the
// canonical key of a value (see Facet::key), never ranked.
struct BooleanField {
  const char* name;
  const char* prefix;
};
inline constexpr BooleanField kBooleanFields[] = {
    {"institution", "XI"},
    {"area", "XA"},
    {"type", "XT"},
    {"year", "XY"},
};

// Facets counted over all matches of a query.
enum class FacetId { kInstitution, kArea, kYear };
struct Facet {
  FacetId id;
  const char* name;    // as in JSON output and --institution / --area
  const char* prefix;  // boolean term prefix
  // The slot that held encode_list() of the values in an index written
  // before schema version 3 (see Slot).
  Xapian::valueno legacy_slot;
};
inline constexpr Facet kFacets[] = {
    {FacetId::kInstitution, "institution", "XI", 3},
    {FacetId::kArea, "area", "XA", 4},
    {FacetId::kYear, "year", "XY", 6},
};
const Facet& facet(FacetId id);

// Document types the Markdown corpus accepts.
inline constexpr const char* kTypes[] = {"group", "area", "researcher", "course", "abstract"};
bool is_known_type(std::string_view type);

// A known institution: its canonical short name, full name and the other
// spellings that resolve to it.
struct Institution {
  const char* short_name;
  const char* full_name;
  std::vector<const char*> aliases;
};
const std::vector<Institution>& institutions();

// The canonical display form of an institution: "zib", "Zuse Institute
// Berlin" and "ZIB" all give "ZIB". Unknown names are returned trimmed.
std::string canonical_institution(std::string_view name, const TextNormalizer& norm);

// The full name of a known institution, or "" if not known.
std::string institution_full_name(std::string_view canonical);

// Matching key of a facet value: folded, runs of non-alphanumerics
// collapsed to one space, trimmed, cut to fit in a Xapian term.
std::string facet_key(std::string_view value, const TextNormalizer& norm);

// The boolean term for `value` of the boolean field with `prefix`.
// Institutions are canonicalised first, so full names match short ones.
std::string boolean_term(std::string_view prefix, std::string_view value,
                         const TextNormalizer& norm);

// The values of every facet of a document (each encode_list() of its
// values), in kFacets order, joined by '\x1e' (record separator, which
// never occurs in a value), or "" when all are empty: kSlotFacets as
// schema versions 3 to 7 wrote it (now FacetDictionary::encode's ids).
// Facet counting reads this one slot per match instead of one per facet;
// Xapian decodes a value stream entry by entry, so that is a third of the
// work.
std::string encode_facets(const std::vector<std::string>& slot_values);

// The facets' lists that encode_facets() joined, in kFacets order: views
// into `encoded`, "" for a facet past its end.
std::array<std::string_view, std::size(kFacets)> decode_facets(std::string_view encoded);

// The kSlotSource value of a document read from `path`: the path's 64-bit
// XXH3 hash, 8 bytes. An update only asks of a document's source whether
// it could be read this time (the path of an unreadable file or line is
// hashed the same way), so the hash serves as the path did, in 8 bytes
// instead of the path's: Xapian keeps every value twice (its value stream
// and the document's own list), and the one JSONL path of the 58,959 ACL
// abstracts took 6.5 MB of a 267 MB index (docs/performance.md).
std::string source_value(std::string_view path);

// Multi-valued slot contents: values joined by '\x1f' (unit separator,
// which never occurs in a value: encode_list drops control characters).
std::string encode_list(const std::vector<std::string>& values);
std::vector<std::string> decode_list(std::string_view encoded);
// The values of an encode_list() result as views into `encoded`.
std::vector<std::string_view> split_list(std::string_view encoded);

}  // namespace schema
}  // namespace resdex
