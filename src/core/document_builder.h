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

struct z_stream_s;  // zlib.h

namespace resdex {

class TextNormalizer;

// The stored data of a document: its JSON record (encode_data), deflated
// with a preset dictionary when the index has one (schema::kDataDictionaryKey).
// An abstract is a few hundred bytes of JSON, too short for zlib to find
// much to reuse in it alone; with a dictionary made from the corpus's first
// records the ACL Anthology's stored data takes ~22% less space, 34 MB
// instead of 43 (docs/performance.md). Data that starts with '{' is plain JSON, as an
// index without a dictionary (or an older resdex) stores it.
class DataCodec {
 public:
  DataCodec();  // plain JSON
  // "" gives plain JSON. Throws Error(kCorrupt) if zlib refuses it.
  explicit DataCodec(std::string dictionary);
  ~DataCodec();
  DataCodec(const DataCodec&) = delete;
  DataCodec& operator=(const DataCodec&) = delete;

  const std::string& dictionary() const { return dictionary_; }
  std::string encode(const Document& doc) const;
  // Throws Error(kCorrupt) on data this codec cannot read: not resdex's,
  // or deflated with another dictionary.
  Document decode(std::string_view data) const;

  // A dictionary from the stored JSON of some documents (the first of a
  // build): the last 32 KB of it, as deflate looks back at most that far.
  static std::string make_dictionary(const std::vector<Document>& sample);

 private:
  std::string dictionary_;
  uint32_t dictionary_id_ = 0;
  // A deflate stream with the dictionary loaded, copied for each record:
  // cheaper than loading the 32 KB dictionary into a new stream each time.
  std::unique_ptr<::z_stream_s> primed_;
};

class DocumentBuilder {
 public:
  // Stored data is written with `data_dictionary` (see DataCodec).
  explicit DocumentBuilder(const TextNormalizer& norm, std::string data_dictionary = "");

  Xapian::Document build(const Document& doc);

 private:
  // `field` null: body text (unprefixed, with positions).
  void index_field(std::string_view text, const schema::TextField* field = nullptr);

  const TextNormalizer& norm_;
  Xapian::TermGenerator termgen_;
  Xapian::Stem stemmer_;
  Xapian::Document* current_ = nullptr;
  DataCodec codec_;
};

// Spelling data for did-you-mean, gathered over a run and written once per
// distinct word. Xapian's own route (TermGenerator::FLAG_SPELLING) updates
// the spelling table once per word occurrence, which costs a third of bulk
// indexing time.
class SpellingDelta {
 public:
  // Counts each plain (unprefixed, not all-digit) word of `doc` once.
  void add(const Xapian::Document& doc) { count(doc, +1); }
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
// Error(kCorrupt) on data resdex did not write.
std::string encode_data(const Document& doc);
Document decode_data(std::string_view data);

}  // namespace resdex
