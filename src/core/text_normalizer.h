// Text analysis shared by the indexer, the query parser and the highlighter.
//
// This is the only module that sees ICU. Indexed text and queries go through
// the same folding, so that "Müller", "MÜLLER", "muller" (and, through the
// German variant, "mueller") meet on one term.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace resdex {

// A word of the original text: [begin, end) are byte offsets into the text
// given to tokenize(); `folded` is fold() of those bytes, without leading or
// trailing spaces.
struct Token {
  size_t begin = 0;
  size_t end = 0;
  std::string folded;
};

// The words of a text as TextNormalizer::words() gives them: without a
// string or a call per word, for a caller that looks at every word of a
// text once (the highlighter).
struct Words {
  struct Span {
    size_t begin, end;                 // the word: text[begin, end)
    size_t folded_begin, folded_size;  // its folded form in `folded` (or `text`)
    bool ascii;                        // text[begin, end) is all ASCII
    bool folded_in_text;               // the word is its own folded form
  };
  std::string_view text;  // the text, which must outlive the spans' use
  std::vector<Span> spans;
  std::string folded;  // the folded forms that are not the words themselves

  std::string_view folded_of(const Span& w) const {
    return (w.folded_in_text ? text : std::string_view(folded)).substr(w.folded_begin, w.folded_size);
  }
};

class TextNormalizer {
 public:
  TextNormalizer();
  ~TextNormalizer();
  TextNormalizer(const TextNormalizer&) = delete;
  TextNormalizer& operator=(const TextNormalizer&) = delete;

  // Loads ICU's normalization data now rather than with the first text
  // that is not pure ASCII (~30 us in a fresh process, once per process):
  // for a thread with time to spare, such as a search's counting thread
  // while the query is parsed. Thread-safe. Throws Error(kIo) as fold()
  // does.
  static void prepare_unicode();

  // NFKC, full case folding, diacritics removed (NFD, non-spacing marks
  // dropped, NFC again), and the letters that carry no combining mark mapped
  // to plain Latin: ß->ss, æ->ae, œ->oe, ø->o, ł->l, đ->d, ð->d, þ->th,
  // ı->i. Non-Latin scripts are kept (only their marks go). Symbols that
  // stand for letters are spelled out as words of their own ("Xapian™" ->
  // "xapian tm "). Default-ignorable characters (soft hyphen, zero-width
  // space) are deleted, which joins the word characters around them, as
  // tokenize() does. Otherwise never joins or splits words: a space or
  // punctuation character stays one. Invalid UTF-8
  // bytes become U+FFFD; NUL bytes become spaces. Pure ASCII input takes a
  // fast path (ASCII lower-casing only).
  std::string fold(std::string_view text) const;

  // fold() for a query string, except that the boolean operators AND, OR,
  // NOT, XOR, NEAR and ADJ stay upper-case when they stand as whole words in
  // upper case in the input ("cats AND dogs" keeps AND; "and" stays "and"),
  // so that Xapian's QueryParser still sees them as operators.
  std::string fold_query(std::string_view query) const;

  // The German transliteration of one word: ä->ae, ö->oe, ü->ue (either
  // case, precomposed or as a base letter plus U+0308), then fold().
  // Returns "" when the word has no umlaut, so callers can skip it.
  // german_variant("Müller") == "mueller", german_variant("Zürich") ==
  // "zuerich", german_variant("Noé") == "".
  std::string german_variant(std::string_view word) const;

  // Splits text into words with their byte offsets. A word is a maximal run
  // of letters, digits, combining marks and connector punctuation ('_'),
  // where an apostrophe (', U+2019 or U+FF07) or a run of default-ignorable
  // characters between two word characters joins ("don't" is one word, and
  // so is "Optimie\u00ADrung"); a symbol standing for letters ("™") is a
  // word of its own, its `folded` the letters ("tm"). Offsets always fall on UTF-8 character
  // boundaries of the input; invalid bytes are never part of a word.
  std::vector<Token> tokenize(std::string_view text) const;

  // The words tokenize() gives, in order, into *out (its contents
  // replaced; its memory kept for the next text).
  void words(std::string_view text, Words* out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Other spellings of the identifier-like words of folded text, as words
// separated by spaces, for indexing and matching next to the text itself,
// so that the ways scientific text writes one name meet ("IL-6", "IL6",
// "IL 6"; "p53", "p-53"):
//  - a word where letters meet digits also split there: "il6" -> "il 6",
//    "h3k36" -> "h 3 k 36";
//  - words joined by single hyphens (U+002D, U+2010, U+2011), one of them
//    with a digit, also as one word: "il-6" -> "il6", "covid-19" ->
//    "covid19" (but not "t-cell" or "dose-dependent", where the hyphen
//    joins words that are words on their own).
// identifier_spellings("il-6 and il6") == "il6 il 6 ". Empty when there
// are none.
std::string identifier_spellings(std::string_view folded);

// The UTF-8 encoding of the scalar value `c` (not a surrogate, at most
// U+10FFFF).
std::string utf8_encode(char32_t c);

// True if every byte of `s` is ASCII.
bool is_ascii(std::string_view s);

// Whether `text` may hold an a, o or u with a diaeresis: precomposed
// (U+00C4, U+00D6, U+00DC, U+00E4, U+00F6, U+00FC) or combining (U+0308).
// A cheap byte scan: the indexer gives a word its German spelling
// (TextNormalizer::german_variant) only if it passes, so a word that does
// not cannot match by one.
bool has_umlaut(std::string_view text);

// True if `text` is well-formed UTF-8. On false, *bad_offset (if given) is
// the byte offset of the first invalid sequence.
bool is_valid_utf8(std::string_view text, size_t* bad_offset = nullptr);

// `text` with each maximal ill-formed subsequence (Unicode's "substitution
// of maximal subparts", as ICU and nlohmann::json replace them) replaced
// by U+FFFD; a copy of `text` when it is well-formed.
std::string replace_invalid_utf8(std::string_view text);

}  // namespace resdex
