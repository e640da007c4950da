// Query-biased snippets with exact highlight offsets.
//
// Xapian's MSet::snippet re-tokenises the original text and only knows
// unaccented terms, so "Zürich" would not light up for the query "zurich".
// This highlighter folds each word of the original text the way the index
// did and compares it with the terms the document matched on.
#pragma once

#include <bitset>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <xapian.h>

#include "core/stem_memo.h"
#include "core/text_normalizer.h"

namespace resdex {

struct Snippet {
  std::string text;
  // Byte ranges [begin, end) into `text`, ascending, non-overlapping.
  std::vector<std::pair<size_t, size_t>> highlights;
};

class Highlighter {
 public:
  // `terms` are the terms a document matched on, as Enquire reports them:
  // plain words, "Z"-prefixed stems and field-prefixed terms (for which the
  // word without its upper-case prefix is highlighted).
  // `wildcards` are the folded stems of trailing wildcards in the query
  // ("biomark" for biomark*): Xapian does not report the terms a wildcard
  // matched, so words starting with one are highlighted.
  // `memo`: stems shared with other highlighters (one thread's), or null
  // for one of its own.
  Highlighter(const TextNormalizer& norm, const std::vector<std::string>& terms,
              const std::vector<std::string>& wildcards = {}, StemMemo* memo = nullptr);
  // Not copied: stem_ may point into the object itself.
  Highlighter(const Highlighter&) = delete;
  Highlighter& operator=(const Highlighter&) = delete;

  // True if the word text[begin, end) matches one of the terms.
  bool matches(std::string_view word, std::string_view folded) const;

  // A passage of about `length` bytes of `text` around its densest cluster
  // of matching words (most distinct terms, then most occurrences), cut at
  // word boundaries, whitespace runs collapsed to one space, with "…" where
  // the text was cut. With no match, the beginning of the text. Every
  // matching word inside the passage is highlighted.
  Snippet make(std::string_view text, size_t length) const;

  // `text` whole (whitespace collapsed), with every matching word
  // highlighted; for short fields such as a title.
  Snippet mark_all(std::string_view text) const;

 private:
  // A word of a text: bytes [begin, end).
  struct Word {
    size_t begin, end;
  };
  // text[begin, end) with whitespace collapsed and the words of `words`
  // (the `count` words of text in that range, in order) highlighted where
  // `matched` (one flag each) says so, "…" before and after as asked.
  Snippet render(std::string_view text, const Word* words, const char* matched, size_t count, size_t begin,
                 size_t end, bool cut_before, bool cut_after) const;
  // False only if the word cannot match: neither a term nor a wildcard's
  // stem starts it, no stem's head (stem_heads_) starts it, and it has no
  // umlaut. Cheap: no stemming, no allocation.
  bool may_match(std::string_view word, std::string_view folded) const;
  // Whether the word matches (without seen_); if so, *key is what it
  // matches as (match_id).
  bool match_uncached(std::string_view word, std::string_view folded, std::string* key) const;
  // -1 if the word does not match, else the id of what it matches as: its
  // stem (its folded form if no term is a stem), so that "model" and
  // "models" are one distinct term of a passage.
  int match_id(std::string_view word, std::string_view folded) const;
  // match_id() of the word `w` of `text`, as `words` has it.
  int match_id(std::string_view text, const Words& words, const Words::Span& w) const;

  struct ViewHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  const TextNormalizer& norm_;
  mutable StemMemo own_memo_;  // unless one is given
  StemMemo* stem_;
  std::set<std::string, std::less<>> words_;
  std::set<std::string, std::less<>> stems_;
  // The heads of stems_: each stem less its last two bytes (at least its
  // first byte). Snowball's English stemmer only rewrites the end of a
  // word: of the 164,000 distinct words of the ACL abstracts, every one
  // starts with its stem less the stem's last byte, but for "dying",
  // "lying" and "tying" ("die"...), which keep all but two. So a word that
  // starts with none of the heads cannot stem to any of stems_ and is not
  // stemmed at all: stemming the words of a text was a third of a
  // search's snippet work.
  std::vector<std::string> stem_heads_;
  std::vector<std::string> wildcards_;
  // The first bytes of words_, stem_heads_ and wildcards_ (all of them for
  // an empty wildcard): a folded word that starts with none of them can
  // only match by its German spelling. Most words of a text are told so
  // by one lookup, without the string comparisons of may_match().
  std::bitset<256> first_bytes_;
  // match_id() of each word asked about (`folded` is a function of `word`).
  mutable std::unordered_map<std::string, int, ViewHash, std::equal_to<>> seen_;
  // The ids of match_id(), by stem (or folded form).
  mutable std::map<std::string, int> keys_;
  // The words of the text asked about last, kept for their memory.
  mutable Words words_of_text_;
};

}  // namespace resdex
