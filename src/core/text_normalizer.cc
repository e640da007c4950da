#include "core/text_normalizer.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>
#include <unicode/utypes.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "core/error.h"

namespace resdex {

bool has_umlaut(std::string_view text) {
  // A plain loop: the highlighter asks this of most words of every
  // snippet's text, and find_first_of() with a set of two bytes took ~170
  // instructions a word.
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (s[i] != 0xC3 && s[i] != 0xCC) continue;
    const unsigned char next = s[i + 1];
    if (s[i] == 0xCC ? next == 0x88
                     : (next == 0x84 || next == 0x96 || next == 0x9C || next == 0xA4 || next == 0xB6 ||
                        next == 0xBC))
      return true;
  }
  return false;
}

bool is_ascii(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  // Eight bytes at a time: any high bit set means non-ASCII.
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    if (w & 0x8080808080808080ULL) return false;
  }
  for (; i < n; ++i) {
    if (p[i] & 0x80) return false;
  }
  return true;
}

namespace {

// ICU takes int32_t lengths; longer input is folded in pieces no larger than
// this, split at whitespace so that no combining sequence is cut.
constexpr size_t kMaxChunk = size_t{1} << 26;

constexpr std::array<bool, 128> make_ascii_word_table() {
  std::array<bool, 128> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  t['_'] = true;
  return t;
}
constexpr std::array<bool, 128> kAsciiWord = make_ascii_word_table();

// What for_each_word() does with a byte: an ASCII byte of a word, an ASCII
// byte between words, or one to decode (the apostrophe, which may join
// two words, and every byte of a multi-byte character).
enum ByteClass : uint8_t { kWordByte, kGapByte, kDecodeByte };
constexpr std::array<ByteClass, 256> make_byte_class_table() {
  std::array<ByteClass, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = c >= 0x80 || c == '\'' ? kDecodeByte : kAsciiWord[c] ? kWordByte : kGapByte;
  return t;
}
constexpr std::array<ByteClass, 256> kByteClass = make_byte_class_table();

inline char ascii_fold(char c) {
  if (c >= 'A' && c <= 'Z') return static_cast<char>(c + ('a' - 'A'));
  if (c == '\0') return ' ';
  return c;
}

inline void append_ascii_folded(std::string_view s, std::string& out) {
  const size_t base = out.size();
  out.resize(base + s.size());
  char* dst = out.data() + base;
  for (size_t i = 0; i < s.size(); ++i) dst[i] = ascii_fold(s[i]);
}

inline bool is_word_char(UChar32 c) {
  if (c < 0x80) return c >= 0 && kAsciiWord[static_cast<size_t>(c)];
  return (U_GET_GC_MASK(c) &
          (U_GC_L_MASK | U_GC_M_MASK | U_GC_N_MASK | U_GC_PC_MASK)) != 0;
}

// U+FF07 FULLWIDTH APOSTROPHE folds to an apostrophe.
inline bool is_apostrophe(UChar32 c) { return c == 0x27 || c == 0x2019 || c == 0xFF07; }

// A character fold() deletes: default-ignorable format characters such as
// the soft hyphen U+00AD or the zero-width space U+200B (NFKC_Casefold
// removes every Default_Ignorable_Code_Point). Between two word characters
// it joins them, as it does in fold()'s output: "Optimie\u00ADrung" is
// one word.
inline bool folds_away(UChar32 c) {
  return c >= 0x80 && u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT);
}

// A symbol that NFKC_Casefold maps to letters or digits: "™" -> "tm",
// "№" -> "no", circled letters. It is a word of its own, and fold()
// surrounds its mapping with spaces, so that "Xapian™" is the two words
// "xapian" and "tm" on both sides, not "xapiantm".
bool is_letter_symbol(UChar32 c) {
  if (c < 0x80 || is_word_char(c) || folds_away(c) ||
      !u_hasBinaryProperty(c, UCHAR_CHANGES_WHEN_NFKC_CASEFOLDED)) {
    return false;
  }
  UErrorCode ec = U_ZERO_ERROR;
  const icu::Normalizer2* nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(ec);
  if (U_FAILURE(ec)) return false;
  icu::UnicodeString mapped = nfkc_cf->normalize(icu::UnicodeString(c), ec);
  if (U_FAILURE(ec)) return false;
  for (int32_t i = 0; i < mapped.length();) {
    const UChar32 m = mapped.char32At(i);
    if (is_word_char(m)) return true;
    i += U16_LENGTH(m);
  }
  return false;
}

inline const uint8_t* bytes(std::string_view s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}

// Calls on_word(begin, end) for each word of `text` as defined for
// TextNormalizer::tokenize().
template <typename F>
void for_each_word(std::string_view text, F&& on_word) {
  const uint8_t* s = bytes(text);
  const size_t n = text.size();
  size_t i = 0;
  bool in_word = false;
  size_t word_begin = 0;
  while (i < n) {
    // An ASCII byte other than the apostrophe: a table lookup, without
    // decoding UTF-8 (most of the text of most corpora). It is not one of
    // the characters below that fold away or stand for letters.
    const ByteClass cls = kByteClass[s[i]];
    if (cls == kWordByte) {
      if (!in_word) {
        in_word = true;
        word_begin = i;
      }
      ++i;
      continue;
    }
    if (cls == kGapByte) {
      if (in_word) {
        on_word(word_begin, i);
        in_word = false;
      }
      ++i;
      continue;
    }
    const size_t at = i;
    UChar32 c;
    U8_NEXT(s, i, n, c);
    if (c >= 0 && is_word_char(c)) {
      if (!in_word) {
        in_word = true;
        word_begin = at;
      }
      continue;
    }
    // An apostrophe, or a run of characters fold() deletes, followed by a
    // word character stays inside the word.
    if (in_word && c >= 0 && (is_apostrophe(c) || folds_away(c)) && i < n) {
      size_t j = i;
      UChar32 next = -1;
      while (j < n) {
        U8_NEXT(s, j, n, next);
        if (next < 0 || !folds_away(next)) break;
      }
      if (next >= 0 && is_word_char(next)) continue;
    }
    if (in_word) {
      on_word(word_begin, at);
      in_word = false;
    }
    if (c >= 0x80 && is_letter_symbol(c)) on_word(at, i);
  }
  if (in_word) on_word(word_begin, n);
}

void check(UErrorCode ec, const char* what) {
  if (U_FAILURE(ec)) {
    throw Error(Error::Kind::kIo, std::string("text analysis failed (ICU ") + what + ": " +
                                      u_errorName(ec) + ")");
  }
}

// ICU's normalizers. ICU makes each once per process, on the first call,
// loading its data (~30 us in a fresh process): asked for only when text
// that is not pure ASCII comes (prepare_unicode() asks ahead).
const icu::Normalizer2& normalizer(const icu::Normalizer2* (*instance)(UErrorCode&), const char* what) {
  UErrorCode ec = U_ZERO_ERROR;
  const icu::Normalizer2* n = instance(ec);
  check(ec, what);
  return *n;
}

const icu::Normalizer2& nfkc_cf() { return normalizer(icu::Normalizer2::getNFKCCasefoldInstance, "NFKC_Casefold"); }
const icu::Normalizer2& nfd() { return normalizer(icu::Normalizer2::getNFDInstance, "NFD"); }
const icu::Normalizer2& nfc() { return normalizer(icu::Normalizer2::getNFCInstance, "NFC"); }

}  // namespace

struct TextNormalizer::Impl {
  // Appends fold(text) to out.
  void fold_into(std::string_view text, std::string& out) const {
    if (is_ascii(text)) {
      append_ascii_folded(text, out);
      return;
    }
    while (text.size() > kMaxChunk) {
      size_t cut = kMaxChunk;
      while (cut > kMaxChunk / 2 && text[cut - 1] != ' ' &&
             text[cut - 1] != '\n') {
        --cut;
      }
      if (cut == kMaxChunk / 2) {
        cut = kMaxChunk;
        while (cut > 0 && (static_cast<uint8_t>(text[cut]) & 0xC0) == 0x80) {
          --cut;
        }
      }
      fold_chunk(text.substr(0, cut), out);
      text.remove_prefix(cut);
    }
    fold_chunk(text, out);
  }

  // Puts a space before and after each letter symbol (see
  // is_letter_symbol) in `text`.
  static void space_letter_symbols(icu::UnicodeString& text) {
    for (int32_t i = 0; i < text.length();) {
      const UChar32 c = text.char32At(i);
      const int32_t len = U16_LENGTH(c);
      if (c >= 0x80 && is_letter_symbol(c)) {
        text.insert(i + len, u' ');
        text.insert(i, u' ');
        i += len + 2;
      } else {
        i += len;
      }
    }
  }

  void fold_chunk(std::string_view text, std::string& out) const {
    if (is_ascii(text)) {
      append_ascii_folded(text, out);
      return;
    }
    UErrorCode ec = U_ZERO_ERROR;
    // fromUTF8 substitutes U+FFFD for each maximal ill-formed subsequence.
    icu::UnicodeString a = icu::UnicodeString::fromUTF8(
        icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
    space_letter_symbols(a);
    icu::UnicodeString b;
    nfkc_cf().normalize(a, b, ec);
    check(ec, "NFKC_Casefold");
    nfd().normalize(b, a, ec);
    check(ec, "NFD");

    // Each code point maps to at most two UTF-16 units ("ae", "th", or one
    // supplementary character).
    const int32_t len = a.length();
    const char16_t* src = a.getBuffer();
    char16_t* dst = b.getBuffer(len * 2 + 1);
    if (dst == nullptr) check(U_MEMORY_ALLOCATION_ERROR, "buffer");
    int32_t o = 0;
    for (int32_t i = 0; i < len;) {
      UChar32 c;
      U16_NEXT(src, i, len, c);
      if (c < 0x80) {
        dst[o++] = c == 0 ? u' ' : static_cast<char16_t>(c);
        continue;
      }
      if (u_charType(c) == U_NON_SPACING_MARK) continue;
      switch (c) {
        case 0x00E6:  // æ
          dst[o++] = u'a';
          dst[o++] = u'e';
          break;
        case 0x0153:  // œ
          dst[o++] = u'o';
          dst[o++] = u'e';
          break;
        case 0x00F8:  // ø
          dst[o++] = u'o';
          break;
        case 0x0142:  // ł
          dst[o++] = u'l';
          break;
        case 0x0111:  // đ
        case 0x00F0:  // ð
          dst[o++] = u'd';
          break;
        case 0x00FE:  // þ
          dst[o++] = u't';
          dst[o++] = u'h';
          break;
        case 0x0131:  // ı
          dst[o++] = u'i';
          break;
        case 0x00DF:  // ß, unreachable after full case folding; kept for safety
          dst[o++] = u's';
          dst[o++] = u's';
          break;
        default:
          U16_APPEND_UNSAFE(dst, o, c);
      }
    }
    b.releaseBuffer(o);
    nfc().normalize(b, a, ec);
    check(ec, "NFC");
    a.toUTF8String(out);
  }
};

TextNormalizer::TextNormalizer() : impl_(std::make_unique<Impl>()) {}
TextNormalizer::~TextNormalizer() = default;

void TextNormalizer::prepare_unicode() {
  // The whole path once: the normalizers and the character properties
  // that space_letter_symbols() reads.
  TextNormalizer().fold("\u00e9\u2122");
}

std::string TextNormalizer::fold(std::string_view text) const {
  std::string out;
  out.reserve(text.size());
  impl_->fold_into(text, out);
  return out;
}

std::string TextNormalizer::fold_query(std::string_view query) const {
  static constexpr std::string_view kOperators[] = {"AND", "OR",   "NOT",
                                                    "XOR", "NEAR", "ADJ"};
  std::string out;
  out.reserve(query.size());
  size_t done = 0;
  // Operators are cut out at word boundaries, so folding the pieces between
  // them separately gives the same result as folding the whole string.
  for_each_word(query, [&](size_t begin, size_t end) {
    const std::string_view word = query.substr(begin, end - begin);
    for (std::string_view op : kOperators) {
      if (word == op) {
        impl_->fold_into(query.substr(done, begin - done), out);
        out.append(word);
        done = end;
        return;
      }
    }
  });
  impl_->fold_into(query.substr(done), out);
  return out;
}

std::string TextNormalizer::german_variant(std::string_view word) const {
  if (is_ascii(word) || word.size() > kMaxChunk) return {};
  UErrorCode ec = U_ZERO_ERROR;
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(
      icu::StringPiece(word.data(), static_cast<int32_t>(word.size())));
  icu::UnicodeString d;
  nfd().normalize(u, d, ec);
  check(ec, "NFD");

  // In NFD an umlaut is a/o/u plus U+0308, possibly after other marks of
  // lower combining class. The U+0308 becomes the 'e'; marks left between
  // vowel and 'e' are dropped by fold().
  bool found = false;
  UChar32 base = 0;
  const int32_t len = d.length();
  for (int32_t i = 0; i < len;) {
    const int32_t at = i;
    UChar32 c = d.char32At(i);
    i += U16_LENGTH(c);
    if (c == 0x0308) {
      if (base == 'a' || base == 'o' || base == 'u' || base == 'A' ||
          base == 'O' || base == 'U') {
        d.setCharAt(at, u'e');
        found = true;
        base = 0;
      }
    } else if (u_getCombiningClass(c) == 0) {
      base = c;
    }
  }
  if (!found) return {};
  std::string utf8;
  d.toUTF8String(utf8);
  return fold(utf8);
}

void TextNormalizer::words(std::string_view text, Words* out) const {
  out->spans.clear();
  out->folded.clear();
  out->spans.reserve(text.size() / 6);
  out->folded.reserve(text.size());
  out->text = text;
  std::string scratch;
  for_each_word(text, [&](size_t begin, size_t end) {
    const std::string_view word = text.substr(begin, end - begin);
    unsigned char high = 0;
    bool upper = false;
    for (const char ch : word) {
      const auto c = static_cast<unsigned char>(ch);
      high |= c;
      upper |= static_cast<unsigned>(c - 'A') < 26u;
    }
    if (high < 0x80) {
      // ASCII letters, digits, '_' and apostrophes: folding is lower-casing,
      // and leaves no space to trim. A word already in lower case is its
      // own folded form.
      if (!upper) {
        out->spans.push_back({begin, end, begin, word.size(), true, true});
        return;
      }
      const size_t at = out->folded.size();
      append_ascii_folded(word, out->folded);
      out->spans.push_back({begin, end, at, word.size(), true, false});
      return;
    }
    const size_t at = out->folded.size();
    scratch.clear();
    impl_->fold_into(word, scratch);
    // A letter symbol folds to its mapping between spaces.
    const size_t first = scratch.find_first_not_of(' ');
    // A run of marks alone, or of default-ignorable letters, folds to
    // nothing; an empty term is of no use to any caller.
    if (first == std::string::npos) return;
    const size_t last = scratch.find_last_not_of(' ');
    out->folded.append(scratch, first, last + 1 - first);
    out->spans.push_back({begin, end, at, last + 1 - first, false, false});
  });
}

std::vector<Token> TextNormalizer::tokenize(std::string_view text) const {
  Words words;
  this->words(text, &words);
  std::vector<Token> tokens;
  tokens.reserve(words.spans.size());
  for (const Words::Span& w : words.spans) tokens.push_back(Token{w.begin, w.end, std::string(words.folded_of(w))});
  return tokens;
}

std::string identifier_spellings(std::string_view folded) {
  const uint8_t* s = bytes(folded);
  std::string out;
  std::vector<std::string_view> chain;  // words joined by single hyphens so far
  bool identifier_like = false;         // a word of `chain` has a digit
  auto end_chain = [&] {
    if (chain.size() >= 2 && identifier_like) {
      for (std::string_view part : chain) out.append(part);
      out += ' ';
    }
    chain.clear();
    identifier_like = false;
  };
  size_t last_end = 0;
  std::vector<size_t> cuts;  // of the word at hand
  for_each_word(folded, [&](size_t begin, size_t end) {
    // The word split where letters meet digits; marks and connectors go
    // with the run they follow.
    enum { kOther, kLetter, kDigit } run = kOther;
    bool has_digit = false;
    cuts.clear();
    for (size_t i = begin; i < end;) {
      const size_t at = i;
      auto kind = kOther;
      if (s[i] < 0x80) {  // ASCII, most words: no decoding
        const unsigned b = s[i++];
        kind = b - '0' < 10u ? kDigit : (b | 0x20u) - 'a' < 26u ? kLetter : kOther;
      } else {
        UChar32 c;
        U8_NEXT(s, i, end, c);
        const uint32_t gc = c < 0 ? 0 : U_GET_GC_MASK(c);
        kind = (gc & U_GC_L_MASK) ? kLetter : (gc & U_GC_ND_MASK) ? kDigit : kOther;
      }
      if (kind != kOther) {
        if (run != kOther && kind != run) cuts.push_back(at);
        run = kind;
      }
      has_digit = has_digit || kind == kDigit;
    }
    if (!cuts.empty()) {
      size_t from = begin;
      for (size_t cut : cuts) {
        out.append(folded.substr(from, cut - from)).append(" ");
        from = cut;
      }
      out.append(folded.substr(from, end - from)).append(" ");
    }

    const std::string_view gap = folded.substr(last_end, begin - last_end);
    if (gap != "-" && gap != "\u2010" && gap != "\u2011") end_chain();
    chain.push_back(folded.substr(begin, end - begin));
    identifier_like = identifier_like || has_digit;
    last_end = end;
  });
  end_chain();
  return out;
}

std::string utf8_encode(char32_t c) {
  std::string s;
  if (c < 0x80) {
    s += static_cast<char>(c);
  } else if (c < 0x800) {
    s += static_cast<char>(0xC0 | (c >> 6));
    s += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    s += static_cast<char>(0xE0 | (c >> 12));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (c >> 18));
    s += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (c & 0x3F));
  }
  return s;
}

bool is_valid_utf8(std::string_view text, size_t* bad_offset) {
  const uint8_t* s = bytes(text);
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    // Eight ASCII bytes at a time: most text is mostly ASCII.
    if (i + 8 <= n && is_ascii(text.substr(i, 8))) {
      i += 8;
      continue;
    }
    if (s[i] < 0x80) {
      ++i;
      continue;
    }
    const size_t at = i;
    UChar32 c;
    U8_NEXT(s, i, n, c);
    if (c < 0) {
      if (bad_offset != nullptr) *bad_offset = at;
      return false;
    }
  }
  return true;
}

std::string replace_invalid_utf8(std::string_view text) {
  size_t bad = 0;
  if (is_valid_utf8(text, &bad)) return std::string(text);
  const uint8_t* s = bytes(text);
  const size_t n = text.size();
  std::string out(text.substr(0, bad));
  out.reserve(text.size() + 8);
  for (size_t i = bad; i < n;) {
    const size_t at = i;
    UChar32 c;
    U8_NEXT(s, i, n, c);  // past the maximal ill-formed subsequence when c < 0
    if (c < 0) out += "\xEF\xBF\xBD";
    else out.append(text.substr(at, i - at));
  }
  return out;
}

}  // namespace resdex
