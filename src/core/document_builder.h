// Turns a corpus Document into a Xapian document: terms by schema.h, facet
// values, and the stored data a hit is displayed from.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

#include <xapian.h>

#include "core/document.h"

namespace resdex {

class TextNormalizer;

class DocumentBuilder {
 public:
  explicit DocumentBuilder(const TextNormalizer& norm);

  Xapian::Document build(const Document& doc);

 private:
  void index_field(std::string_view text, const std::string& prefix, unsigned weight);

  const TextNormalizer& norm_;
  Xapian::TermGenerator termgen_;
  Xapian::Stem stemmer_;
  Xapian::Document* current_ = nullptr;
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
