// Turns a corpus Document into a Xapian document: terms by schema.h, facet
// values, and the stored data a hit is displayed from.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <xapian.h>

#include "core/document.h"
#include "core/schema.h"
#include "core/facet_dictionary.h"

namespace resdex {

class TextNormalizer;

// The stored data of a document: its JSON record (encode_data), compressed
// with zstd and a dictionary when the index has one
// (schema::kDataDictionaryKey). An abstract is a few hundred bytes of JSON,
// too short for a compressor to find much to reuse in it alone; a
// dictionary trained on the corpus's first records (make_dictionary) gives
// it the corpus's common keys, words and phrases. The ACL Anthology's
// stored data takes 29.3 MB instead of 43 as plain JSON and 34.0 with the
// zlib codec this replaced (docs/performance.md). It is kept in the value
// slot schema::kSlotData (stored_record()).
//
// Formats of the data, by first byte:
//   '{'     plain JSON: an index without a dictionary (or an older resdex);
//   '\x02'  zstd: the dictionary's id (4 bytes), then a zstd frame without
//           its magic number and dictionary id, with its content size;
//   '\x01'  raw deflate with the dictionary as preset dictionary, behind its
//           id, as resdex wrote before: read, no longer written.
// Both the dictionary a build trains and one of an older index (32 KB of
// JSON, which zstd uses as plain content) serve either format.
//
// One codec may be used by several threads at once: the dictionaries zstd
// digests are made on first use (a searcher only needs the decoder's),
// and each thread compresses with its own context.
class DataCodec {
 public:
  DataCodec();  // plain JSON
  // "" gives plain JSON.
  explicit DataCodec(std::string dictionary);
  // With `dictionary` kept alive by `owner` (a mapped file, say) rather
  // than copied.
  DataCodec(std::string_view dictionary, std::shared_ptr<const void> owner);
  ~DataCodec();
  DataCodec(const DataCodec&) = delete;
  DataCodec& operator=(const DataCodec&) = delete;

  // Throws Error(kCorrupt) if zstd refuses the dictionary.
  std::string encode(const Document& doc) const;
  // Throws Error(kCorrupt) on data this codec cannot read: not resdex's,
  // damaged, or compressed with another dictionary.
  Document decode(std::string_view data) const;
  // False if `data` names a dictionary and it is not this codec's (or this
  // codec has none): decode() would refuse it. Plain JSON and data of
  // unknown formats give true (decode() reads or refuses them whatever
  // the dictionary).
  bool reads(std::string_view data) const;

  // Digests the dictionary for decode() now rather than on its first call
  // (~0.04 ms for the ACL abstracts' 112 KB), and with `with_context`
  // also makes a decompression context that the first thread to decode
  // without one of its own takes (~0.02 ms): for a thread with time to
  // spare before another decodes. Throws Error(kCorrupt) if zstd refuses
  // the dictionary.
  void prepare_decode(bool with_context = true) const;

  // A dictionary from the stored JSON of some documents (the first of a
  // build): trained by zstd (ZDICT_trainFromBuffer) when there are enough
  // of them, otherwise their JSON itself; "" for none.
  static std::string make_dictionary(const std::vector<Document>& sample);

 private:
  struct Zstd;  // the digested dictionaries

  explicit DataCodec(const std::shared_ptr<const std::string>& owned);

  std::shared_ptr<const void> owner_;  // keeps dictionary_'s bytes
  std::string_view dictionary_;
  uint32_t dictionary_id_ = 0;
  std::unique_ptr<Zstd> zstd_;
};

class DocumentBuilder {
 public:
  // Stored data is written with `data_dictionary` (see DataCodec), facet
  // values as ids of `facets` (shared by the builders of one index
  // write; nullptr: one of the builder's own).
  explicit DocumentBuilder(const TextNormalizer& norm, std::string data_dictionary = "",
                           FacetDictionary* facets = nullptr);

  Xapian::Document build(const Document& doc);

 private:
  // `field` null: body text (unprefixed, with positions).
  void index_field(std::string_view text, const schema::TextField* field = nullptr);

  const TextNormalizer& norm_;
  Xapian::TermGenerator termgen_;
  Xapian::Stem stemmer_;  // remembering_stemmer(): the termgen_'s too
  Xapian::Document* current_ = nullptr;
  DataCodec codec_;
  std::unique_ptr<FacetDictionary> own_facets_;
  FacetDictionary* facets_;
};

// Spelling data for did-you-mean, gathered over a run and written once per
// distinct word. Xapian's own route (TermGenerator::FLAG_SPELLING) updates
// the spelling table once per word occurrence, which costs a third of bulk
// indexing time.
class SpellingDelta {
 public:
  // Counts each plain (unprefixed, not all-digit) word of `doc` once.
  void add(const Xapian::Document& doc) { count(doc, +1); }
  // What add() of every document of `db` would count, read from its term
  // dictionary (a word's term frequency is the number of documents with
  // it): one step per distinct word instead of one per word of each
  // document. Sees what a WritableDatabase has not committed yet.
  void add_words(const Xapian::Database& db);
  // Takes back what add() counted for a document being replaced or removed.
  void remove(const Xapian::Document& doc) { count(doc, -1); }
  // Adds another delta's counts to this one.
  void merge(const SpellingDelta& other);
  // Drops the words this delta adds that `all` (the counts of a whole
  // build) has in fewer than `min_documents` documents.
  void prune(const SpellingDelta& all, long min_documents);
  // Part `index` of `parts` disjoint parts of this delta (a word's part
  // is fixed by a hash of it), without the words counted in fewer than
  // `min_documents` documents. The writers of a build each write one part
  // of the build's whole delta, so each word is written once, not once
  // per writer that met it.
  SpellingDelta part(size_t index, size_t parts, long min_documents) const;
  void apply(Xapian::WritableDatabase& db) const;

 private:
  void count(const Xapian::Document& doc, long sign);
  std::unordered_map<std::string, long> delta_;
};

// The stored data of a document (JSON), and back. decode_data throws
// Error(kCorrupt) on data resdex did not write. It takes the JSON by value
// as it parses it in place: a caller that owns it (a decompressed record)
// moves it in.
std::string encode_data(const Document& doc);
Document decode_data(std::string json);

// The stored record of an indexed document, for DataCodec::decode: its
// schema::kSlotData value, or its document data in an index written
// before schema version 7.
std::string stored_record(const Xapian::Document& doc);

}  // namespace resdex
