// libFuzzer target: the text analysis on arbitrary bytes, with the
// invariants the indexer, the query parser and the highlighter rely on.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/text_normalizer.h"
#include "fuzz_support.h"

namespace {

// A plain reference for well-formed UTF-8 (Unicode 15, table 3-7): no
// overlong forms, no surrogates, nothing above U+10FFFF. Returns the offset
// of the first ill-formed sequence, or npos.
size_t first_invalid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  for (size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    if (i + len > n) return i;
    if (p[i + 1] < lo || p[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k)
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return i;
    i += len;
  }
  return std::string_view::npos;
}

bool is_continuation(std::string_view s, size_t at) {
  return at < s.size() && (static_cast<unsigned char>(s[at]) & 0xC0) == 0x80;
}

void check_tokens(const resdex::TextNormalizer& norm, std::string_view text) {
  const std::vector<resdex::Token> tokens = norm.tokenize(text);
  size_t prev_end = 0;
  for (const resdex::Token& t : tokens) {
    FUZZ_CHECK(t.begin < t.end);
    FUZZ_CHECK(t.end <= text.size());
    FUZZ_CHECK(t.begin >= prev_end);  // ascending, non-overlapping
    prev_end = t.end;
    const std::string_view word = text.substr(t.begin, t.end - t.begin);
    // Whole characters only: invalid bytes are never part of a word, and
    // a word neither starts nor ends inside a sequence.
    FUZZ_CHECK(first_invalid_utf8(word) == std::string_view::npos);
    FUZZ_CHECK(!is_continuation(text, t.begin));
    FUZZ_CHECK(!is_continuation(word, 0));
    FUZZ_CHECK(!t.folded.empty());
    // fold() of the word, without the spaces around a letter symbol.
    std::string folded = norm.fold(word);
    folded.erase(folded.find_last_not_of(' ') + 1);
    folded.erase(0, folded.find_first_not_of(' '));
    FUZZ_CHECK(t.folded == folded);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const resdex::TextNormalizer& norm = resdex::fuzz::normalizer();

  // is_valid_utf8 agrees with the reference, and points at the same byte.
  size_t bad = 12345;
  const bool valid = resdex::is_valid_utf8(input, &bad);
  const size_t expected_bad = first_invalid_utf8(input);
  FUZZ_CHECK(valid == (expected_bad == std::string_view::npos));
  if (!valid) FUZZ_CHECK(bad == expected_bad);
  FUZZ_CHECK(resdex::is_valid_utf8(input) == valid);

  // fold: valid UTF-8, no NUL, idempotent.
  const std::string folded = norm.fold(input);
  FUZZ_CHECK(resdex::is_valid_utf8(folded));
  FUZZ_CHECK(folded.find('\0') == std::string::npos);
  FUZZ_CHECK(norm.fold(folded) == folded);

  // fold_query differs from fold only in the operators it keeps upper-case.
  const std::string query = norm.fold_query(input);
  FUZZ_CHECK(resdex::is_valid_utf8(query));
  FUZZ_CHECK(norm.fold(query) == folded);

  // german_variant: "" or a folded word.
  const std::string german = norm.german_variant(input);
  if (!german.empty()) {
    FUZZ_CHECK(resdex::is_valid_utf8(german));
    FUZZ_CHECK(norm.fold(german) == german);
  }

  // identifier_spellings: valid UTF-8 words, each followed by one space.
  const std::string spellings = resdex::identifier_spellings(folded);
  FUZZ_CHECK(resdex::is_valid_utf8(spellings));
  FUZZ_CHECK(spellings.empty() || (spellings.back() == ' ' && spellings.find("  ") == std::string::npos &&
                                   spellings.front() != ' '));

  check_tokens(norm, input);
  check_tokens(norm, folded);
  for (const resdex::Token& t : norm.tokenize(input)) {
    const std::string g = norm.german_variant(input.substr(t.begin, t.end - t.begin));
    if (!g.empty()) FUZZ_CHECK(norm.fold(g) == g);
  }
  return 0;
}
