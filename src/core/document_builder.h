// Turns a corpus Document into a Xapian document: terms by schema.h, facet
// values, and the stored data a hit is displayed from.
#pragma once

#include <string>
#include <string_view>

#include <xapian.h>

#include "core/document.h"

namespace resdex {

class TextNormalizer;

class DocumentBuilder {
 public:
  // `db` receives spelling data for did-you-mean; may be null.
  DocumentBuilder(const TextNormalizer& norm, Xapian::WritableDatabase* db);

  Xapian::Document build(const Document& doc);

 private:
  void index_field(std::string_view text, const std::string& prefix, unsigned weight);

  const TextNormalizer& norm_;
  Xapian::TermGenerator termgen_;
  Xapian::Stem stemmer_;
  Xapian::Document* current_ = nullptr;
};

// The stored data of a document (JSON), and back. decode_data throws
// Error(kCorrupt) on data resdex did not write.
std::string encode_data(const Document& doc);
Document decode_data(std::string_view data);

}  // namespace resdex
