// Stems of words, remembered rather than made again.
//
// Snowball's English stemmer costs ~2,500 instructions a word, and text
// repeats its words: the texts of one page of hits share their words and
// the query's, and a corpus's common words come back in every document.
// The searcher's highlighters share a StemMemo; the indexer's
// TermGenerator stems through remembering_stemmer().
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>

#include <xapian.h>

namespace resdex {

// Stems by schema::kStemmer, remembered. Not thread-safe: one per thread.
class StemMemo {
 public:
  // Enough for the words of many pages of hits (~5 MB when full).
  static constexpr size_t kDefaultCapacity = size_t{1} << 16;

  // At most `capacity` words are kept (at least one): a memo that is full
  // starts afresh, as the words that come back soon return to it.
  explicit StemMemo(size_t capacity = kDefaultCapacity);

  // The stem of `word`, as Xapian::Stem(schema::kStemmer) gives it. The
  // reference is valid until the next call.
  const std::string& operator()(const std::string& word);

  size_t size() const { return memo_.size(); }

 private:
  size_t capacity_;
  Xapian::Stem stemmer_;
  std::unordered_map<std::string, std::string> memo_;
};

// A Xapian::Stem that stems as Xapian::Stem(schema::kStemmer) does, and
// remembers the stems of recent words in a table of `slots` (rounded up to
// a power of two; ~1 MB for the default): for a TermGenerator, which stems
// every occurrence of every word it indexes. Copies share the table, so
// the stemmer and its copies belong to one thread.
inline constexpr size_t kRememberedStems = size_t{1} << 14;
Xapian::Stem remembering_stemmer(size_t slots = kRememberedStems);

}  // namespace resdex
