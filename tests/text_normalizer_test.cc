#include "core/text_normalizer.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <thread>
#include <string_view>
#include <vector>

namespace resdex {
namespace {

using namespace std::string_literals;

const TextNormalizer& normalizer() {
  static const TextNormalizer n;
  return n;
}

struct Case {
  std::string input;
  std::string expected;
};

void check_fold(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    INFO("input: ", c.input);
    CHECK(normalizer().fold(c.input) == c.expected);
  }
}

struct TokenCase {
  size_t begin;
  size_t end;
  std::string folded;
};

void check_tokens(const std::string& text,
                  const std::vector<TokenCase>& expected) {
  INFO("text: ", text);
  const std::vector<Token> tokens = normalizer().tokenize(text);
  REQUIRE(tokens.size() == expected.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    INFO("token #", i);
    CHECK(tokens[i].begin == expected[i].begin);
    CHECK(tokens[i].end == expected[i].end);
    CHECK(tokens[i].folded == expected[i].folded);
  }
}

const std::string kFFFD = "\xEF\xBF\xBD";


TEST_CASE("text_normalizer: fold ASCII lower-cases only") {
  check_fold({
      {"Hello World", "hello world"},
      {"ABC_123 x-Y.z!", "abc_123 x-y.z!"},
      {"already lower", "already lower"},
      {"  Tabs\tand\nNewlines ", "  tabs\tand\nnewlines "},
  });
}

TEST_CASE("text_normalizer: prepare_unicode on some threads while others fold accented text") {
  std::vector<std::string> folded(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < folded.size(); ++i)
    threads.emplace_back([&, i] {
      if (i % 2 == 0) TextNormalizer::prepare_unicode();
      folded[i] = TextNormalizer().fold("Zürich Noé Xapian™");
    });
  for (std::thread& t : threads) t.join();
  for (const std::string& f : folded) CHECK(f == "zurich noe xapian tm ");
}

TEST_CASE("text_normalizer: fold removes case and diacritics") {
  check_fold({
      {"Müller", "muller"},
      {"MÜLLER", "muller"},
      {"muller", "muller"},
      {"Reiß", "reiss"},
      {"REIẞ", "reiss"},
      {"Noé", "noe"},
      {"Zürich", "zurich"},
      {"Ångström", "angstrom"},
      {"Çà et là", "ca et la"},
      {"Dvořák", "dvorak"},
      {"São Paulo", "sao paulo"},
      {"İstanbul", "istanbul"},
  });
}

TEST_CASE("text_normalizer: fold maps letters without combining marks") {
  check_fold({
      {"Æsir", "aesir"},
      {"æ", "ae"},
      {"Œuvre", "oeuvre"},
      {"œ", "oe"},
      {"Ø", "o"},
      {"ø", "o"},
      {"Søren", "soren"},
      {"Łódź", "lodz"},
      {"ł", "l"},
      {"Đakovo", "dakovo"},
      {"đ", "d"},
      {"Ð", "d"},
      {"ð", "d"},
      {"Þór", "thor"},
      {"þ", "th"},
      {"ı", "i"},
      {"ǽ", "ae"},
      {"ǿ", "o"},
  });
}

TEST_CASE("text_normalizer: fold gives NFC and NFD input the same result") {
  struct Pair {
    std::string nfc;
    std::string nfd;
    std::string expected;
  };
  const std::vector<Pair> pairs = {
      {"Müller", "Mu\xCC\x88ller", "muller"},
      {"MÜLLER", "MU\xCC\x88LLER", "muller"},
      {"Noé", "Noe\xCC\x81", "noe"},
      {"Zürich", "Zu\xCC\x88rich", "zurich"},
      {"Ångström", "A\xCC\x8Angstro\xCC\x88m", "angstrom"},
  };
  for (const Pair& p : pairs) {
    INFO("nfc: ", p.nfc);
    REQUIRE(p.nfc != p.nfd);
    CHECK(normalizer().fold(p.nfc) == p.expected);
    CHECK(normalizer().fold(p.nfd) == p.expected);
  }
}

TEST_CASE("text_normalizer: fold applies compatibility mappings") {
  check_fold({
      {"\xEF\xAC\x81", "fi"},                  // U+FB01 ligature fi
      {"\xEF\xAC\x81le", "file"},
      {"\xEF\xBC\xA1\xEF\xBC\xA2\xEF\xBC\xA3", "abc"},  // fullwidth ABC
      {"x\xC2\xB2", "x2"},                     // superscript two
      {"caf\xC3\xA9\xC2\xA0" "bar", "cafe bar"},  // no-break space
  });
}

TEST_CASE("text_normalizer: fold keeps non-Latin scripts, lower-cased") {
  check_fold({
      {"ΑΘΗΝΑ", "αθηνα"},
      {"Ἀθῆναι", "αθηναι"},
      {"ΟΔΟΣ", "οδοσ"},
      {"МОСКВА", "москва"},
      {"Ёлка", "елка"},
      {"北京大学", "北京大学"},
      {"Straße МИР", "strasse мир"},
  });
}

TEST_CASE("text_normalizer: fold neither joins nor splits words") {
  check_fold({
      {"Müller, Noé.", "muller, noe."},
      {"a-b c.d é-É", "a-b c.d e-e"},
      {"«Zürich»", "«zurich»"},
  });
}

TEST_CASE("text_normalizer: fold spells out symbols that stand for letters as words of their own") {
  check_fold({
      {"Xapian\u2122", "xapian tm "},       // trade mark sign
      {"\u2116 5", " no  5"},                // numero sign
      {"\u24B6\u24B7", " a  b "},           // circled A, circled B
      {"\u00A9 2024", "\u00A9 2024"},         // copyright sign has no mapping
  });
}

TEST_CASE("text_normalizer: fold deletes default-ignorable characters, joining the word") {
  check_fold({
      {"Optimie\u00ADrung", "optimierung"},  // soft hyphen
      {"zero\u200Bwidth", "zerowidth"},      // zero-width space
      {"a\u200D\u2060b", "ab"},
  });
}

TEST_CASE("text_normalizer: fold replaces invalid UTF-8 with U+FFFD") {
  check_fold({
      {"ab\xFF" "cd", "ab" + kFFFD + "cd"},
      {"\xC3\xA9\xFF", "e" + kFFFD},
      {"M\xC3", "m" + kFFFD},
      {"\xC0\xAF", kFFFD + kFFFD},
      {"X\xED\xA0\x80Y", "x" + kFFFD + kFFFD + kFFFD + "y"},
  });
  const std::string out = normalizer().fold("\xFE\xFF\x80 Ünïcode \xE2\x82");
  CHECK(is_valid_utf8(out));
}

TEST_CASE("text_normalizer: fold turns NUL bytes into spaces") {
  check_fold({
      {"a\0B"s, "a b"},
      {"\0"s, " "},
      {"\xC3\xA9\0\xC3\x89"s, "e e"},
      {"M\xC3\xBC\0\0ller"s, "mu  ller"},
  });
}

TEST_CASE("text_normalizer: empty input") {
  CHECK(normalizer().fold("") == "");
  CHECK(normalizer().fold_query("") == "");
  CHECK(normalizer().german_variant("") == "");
  CHECK(normalizer().tokenize("").empty());
  CHECK(normalizer().tokenize(" ,.!? \t").empty());
  size_t off = 99;
  CHECK(is_valid_utf8("", &off));
  CHECK(off == 99);
}

TEST_CASE("text_normalizer: german_variant") {
  const std::vector<Case> cases = {
      {"Müller", "mueller"},
      {"MÜLLER", "mueller"},
      {"Zürich", "zuerich"},
      {"Schütte", "schuette"},
      {"Mu\xCC\x88ller", "mueller"},
      {"Zu\xCC\x88rich", "zuerich"},
      {"Ärger", "aerger"},
      {"Öl", "oel"},
      {"Tschüß", "tschuess"},
      {"Noé", ""},
      {"Reiß", ""},
      {"Muller", ""},
      {"naïve", ""},
      {"Ёлка", ""},
  };
  for (const Case& c : cases) {
    INFO("input: ", c.input);
    CHECK(normalizer().german_variant(c.input) == c.expected);
  }
}

TEST_CASE("text_normalizer: fold_query keeps upper-case operators") {
  const std::vector<Case> cases = {
      {"cats AND dogs", "cats AND dogs"},
      {"Cats And Dogs", "cats and dogs"},
      {"cats and dogs", "cats and dogs"},
      {"Müller AND Noé", "muller AND noe"},
      {"a OR b NOT c", "a OR b NOT c"},
      {"A XOR B", "a XOR b"},
      {"Zürich NEAR Genf", "zurich NEAR genf"},
      {"Zürich NEAR/3 Genf", "zurich NEAR/3 genf"},
      {"Ärger ADJ Öl", "arger ADJ ol"},
      {"(Zürich OR Genf) AND NOT Bern", "(zurich OR genf) AND NOT bern"},
      {"ANDROID BAND ORDER NOTE", "android band order note"},
      {"_AND AND_ AND'S", "_and and_ and's"},
      {"AND", "AND"},
      {"MÜLLER", "muller"},
  };
  for (const Case& c : cases) {
    INFO("input: ", c.input);
    CHECK(normalizer().fold_query(c.input) == c.expected);
  }
}

TEST_CASE("text_normalizer: tokenize gives byte offsets and folded words") {
  check_tokens("Hello, Wörld! don't",
               {{0, 5, "hello"}, {7, 13, "world"}, {15, 20, "don't"}});
  check_tokens("Müller MÜLLER", {{0, 7, "muller"}, {8, 15, "muller"}});
  check_tokens("Mu\xCC\x88ller.", {{0, 8, "muller"}});
  check_tokens("snake_case 42 x\xC2\xB2",
               {{0, 10, "snake_case"}, {11, 13, "42"}, {14, 17, "x2"}});
  check_tokens("e-mail", {{0, 1, "e"}, {2, 6, "mail"}});
  check_tokens("北京 大学", {{0, 6, "北京"}, {7, 13, "大学"}});
  check_tokens("Straße", {{0, 7, "strasse"}});
}

TEST_CASE("text_normalizer: words gives tokenize's words, each folded as fold would, into a reused buffer") {
  const TextNormalizer& n = normalizer();
  Words words;
  // Lower-case words (their own folded form), upper-case and non-ASCII
  // ones, apostrophes, a letter symbol and a run that folds to nothing;
  // then a shorter text into the same buffer.
  for (const std::string text : {"Hello, Wörld! don't l'analyse BERT bert Straße x\xC2\xB2 \xE2\x84\xA2 \xCC\x88 end",
                                 "née Zürich c++", "", "a"}) {
    CAPTURE(text);
    n.words(text, &words);
    const std::vector<Token> tokens = n.tokenize(text);
    REQUIRE(words.spans.size() == tokens.size());
    for (size_t i = 0; i < tokens.size(); ++i) {
      const Words::Span& w = words.spans[i];
      CHECK(w.begin == tokens[i].begin);
      CHECK(w.end == tokens[i].end);
      CHECK(words.folded_of(w) == tokens[i].folded);
      // fold() puts a letter symbol's letters between spaces.
      std::string folded = n.fold(text.substr(w.begin, w.end - w.begin));
      folded.erase(0, folded.find_first_not_of(' '));
      folded.erase(folded.find_last_not_of(' ') + 1);
      CHECK(words.folded_of(w) == folded);
      CHECK(w.ascii == std::all_of(text.begin() + static_cast<std::ptrdiff_t>(w.begin),
                                   text.begin() + static_cast<std::ptrdiff_t>(w.end),
                                   [](char c) { return static_cast<unsigned char>(c) < 0x80; }));
    }
  }
}

TEST_CASE("text_normalizer: identifier_spellings splits letters from digits and joins identifier compounds") {
  // Letters meeting digits: also split.
  CHECK(identifier_spellings("il6") == "il 6 ");
  CHECK(identifier_spellings("h3k36 p53") == "h 3 k 36 p 53 ");
  CHECK(identifier_spellings("cd4+ cells") == "cd 4 ");
  CHECK(identifier_spellings("\u03b1v\u03b28") == "\u03b1v\u03b2 8 ");  // any script's letters
  CHECK(identifier_spellings("n\u0303a2") == "n\u0303a 2 ");  // a mark stays with its letter
  CHECK(identifier_spellings("v_2x") == "v_ 2 x ");  // a connector stays with the run before it
  CHECK(identifier_spellings("\u03b12a") == "\u03b1 2 a ");  // ASCII and other letters alike
  // Hyphenated compounds with a digit: also joined.
  CHECK(identifier_spellings("il-6 and il6") == "il6 il 6 ");
  CHECK(identifier_spellings("covid-19") == "covid19 ");
  CHECK(identifier_spellings("anti-il-6") == "antiil6 ");
  CHECK(identifier_spellings("il\u20106, covid\u201119") == "il6 covid19 ");
  CHECK(identifier_spellings("5-ht2a") == "ht 2 a 5ht2a ");
  // Words that a hyphen joins, other gaps, plain words: nothing.
  CHECK(identifier_spellings("t-cell dose-dependent alpha-synuclein").empty());
  CHECK(identifier_spellings("il - 6, il--6, il/6").empty());
  CHECK(identifier_spellings("plain words 42").empty());
  CHECK(identifier_spellings("").empty());
}

TEST_CASE("text_normalizer: tokenize joins apostrophes only inside words") {
  check_tokens("don\xE2\x80\x99t", {{0, 7, "don\xE2\x80\x99t"}});
  check_tokens("'quoted'", {{1, 7, "quoted"}});
  check_tokens("rock'n'roll", {{0, 11, "rock'n'roll"}});
  check_tokens("dogs' toys", {{0, 4, "dogs"}, {6, 10, "toys"}});
  check_tokens("a''b", {{0, 1, "a"}, {3, 4, "b"}});
  check_tokens("it's", {{0, 4, "it's"}});
  check_tokens("end'", {{0, 3, "end"}});
}

TEST_CASE("text_normalizer: tokenize never includes invalid bytes") {
  check_tokens("ab\xFF" "cd", {{0, 2, "ab"}, {3, 5, "cd"}});
  check_tokens("caf\xC3\xA9\xC3", {{0, 5, "cafe"}});
  check_tokens("\xC0\xAF" "x\xED\xA0\x80y", {{2, 3, "x"}, {6, 7, "y"}});
  check_tokens("don'\xFFt", {{0, 3, "don"}, {5, 6, "t"}});

  const std::string text = "\xE2\x82 Grüße\xF0\x9F\x98\x80Welt \x80\x80 ça\xC3";
  for (const Token& t : normalizer().tokenize(text)) {
    const std::string_view bytes =
        std::string_view(text).substr(t.begin, t.end - t.begin);
    INFO("token: ", std::string(bytes));
    CHECK(is_valid_utf8(bytes));
    CHECK(t.folded.find(kFFFD) == std::string::npos);
    CHECK(t.folded == normalizer().fold(bytes));
  }
}

TEST_CASE("text_normalizer: tokenize skips runs that fold to nothing") {
  check_tokens(" \xCC\x81 abc", {{4, 7, "abc"}});
}

TEST_CASE("text_normalizer: is_valid_utf8") {
  struct Utf8Case {
    std::string input;
    bool valid;
    size_t offset;
  };
  const std::vector<Utf8Case> cases = {
      {"abc", true, 0},
      {"Müller", true, 0},
      {"\xF0\x9F\x98\x80", true, 0},
      {"\xEF\xBF\xBF", true, 0},
      {"\xF4\x8F\xBF\xBF", true, 0},
      {"a\0b"s, true, 0},
      {"\xC0\xAF", false, 0},
      {"\xE0\x80\xAF", false, 0},
      {"a\xED\xA0\x80", false, 1},
      {"ab\xC3", false, 2},
      {"x\xE2\x82", false, 1},
      {"\xF4\x90\x80\x80", false, 0},
      {"\x80", false, 0},
      {"\xC3\xA9\xFF", false, 2},
      {"ok \xC3\xA9 \xC3(", false, 6},
  };
  for (const Utf8Case& c : cases) {
    INFO("input: ", c.input);
    size_t off = 12345;
    CHECK(is_valid_utf8(c.input, &off) == c.valid);
    if (!c.valid) CHECK(off == c.offset);
    CHECK(is_valid_utf8(c.input) == c.valid);
  }
}

TEST_CASE("text_normalizer: replace_invalid_utf8 puts one U+FFFD for each maximal ill-formed part") {
  const std::string R = kFFFD;
  const std::vector<Case> cases = {
      {"", ""},
      {"M\xC3\xBCller \xE2\x82\xAC", "M\xC3\xBCller \xE2\x82\xAC"},
      {"a\0b"s, "a\0b"s},
      {"caf\xE9", "caf" + R},
      {"\xFF\xFE", R + R},
      {"na\xC3", "na" + R},                 // cut off at the end
      {"x\xE2\x82y", "x" + R + "y"},        // one part: a lead and its valid trail
      {"\xE2\x82\xE2\x82\xAC", R + "\xE2\x82\xAC"},
      {"\xC0\xAF", R + R},                  // overlong: C0 is never valid
      {"\xE0\x80\xAF", R + R + R},          // E0 80 is no prefix of a character
      {"\xED\xA0\x80", R + R + R},          // a surrogate
      {"\xF4\x90\x80\x80", R + R + R + R},  // beyond U+10FFFF
      {"\xF0\x9F\x98", R},                 // an emoji cut off
  };
  for (const Case& c : cases) {
    INFO("input: ", c.input);
    const std::string out = replace_invalid_utf8(c.input);
    CHECK(out == c.expected);
    CHECK(is_valid_utf8(out));
  }
}


TEST_CASE("text_normalizer: tokenize joins across default-ignorable characters inside words") {
  check_tokens("Optimie\u00ADrung!", {{0, 13, "optimierung"}});
  check_tokens("a\u200B\u200Bb c", {{0, 8, "ab"}, {9, 10, "c"}});
  check_tokens("end\u00AD next", {{0, 3, "end"}, {6, 10, "next"}});
  check_tokens("\u00ADstart", {{2, 7, "start"}});
}

TEST_CASE("text_normalizer: tokenize makes a symbol that stands for letters a word") {
  check_tokens("Xapian\u2122 rocks", {{0, 6, "xapian"}, {6, 9, "tm"}, {10, 15, "rocks"}});
  check_tokens("\u00A9 2024", {{3, 7, "2024"}});
}

// Every word fold() produces is a word tokenize() finds, and the other way
// round: the indexer (which splits fold()'s output) and the highlighter and
// plain-words queries (which use tokenize()) see the same words. Checked
// for every code point between two letters and alone, except the word
// characters whose mapping holds punctuation ("\u00BD" -> "1\u20442"; see
// docs/reliability.md).
TEST_CASE("text_normalizer: tokenize and fold agree on the words of every code point") {
  const TextNormalizer& n = normalizer();
  auto words_of_fold = [&](const std::string& text) {
    std::vector<std::string> out;
    for (const Token& t : n.tokenize(n.fold(text))) out.push_back(t.folded);
    return out;
  };
  auto words_of_tokens = [&](const std::string& text) {
    std::vector<std::string> out;
    for (const Token& t : n.tokenize(text)) {
      for (const Token& w : n.tokenize(t.folded)) out.push_back(w.folded);
    }
    return out;
  };
  size_t checked = 0, disagreements = 0;
  std::string first;
  for (char32_t c = 0x80; c <= 0x10FFFF; ++c) {
    if (c >= 0xD800 && c <= 0xDFFF) continue;
    const std::string cp = utf8_encode(c);
    // Word characters that fold to several words are the known exception.
    const std::vector<Token> alone = n.tokenize(cp);
    if (alone.size() == 1 && n.tokenize(alone[0].folded).size() > 1) continue;
    for (const std::string& text : {"ab" + cp + "cd", cp}) {
      ++checked;
      if (words_of_fold(text) != words_of_tokens(text)) {
        if (disagreements++ == 0) first = fmt::format("U+{:04X}", static_cast<uint32_t>(c));
      }
    }
  }
  INFO("first disagreement: ", first);
  CHECK(checked > 2000000);
  CHECK(disagreements == 0);
}

TEST_CASE("text_normalizer: has_umlaut finds a, o and u with a diaeresis, precomposed or combining") {
  CHECK(has_umlaut("M\u00fcller"));       // ü
  CHECK(has_umlaut("\u00c4rger"));        // Ä
  CHECK(has_umlaut("sch\u00f6n"));        // ö
  CHECK(has_umlaut("\u00d6l \u00dcber"));  // Ö, Ü
  CHECK(has_umlaut("\u00e4"));            // a word of the letter alone
  CHECK(has_umlaut("Mu\u0308ller"));      // u + combining diaeresis
  CHECK_FALSE(has_umlaut(""));
  CHECK_FALSE(has_umlaut("Mueller"));
  CHECK_FALSE(has_umlaut("caf\u00e9 na\u00efve Stra\u00dfe"));  // é, ï, ß
  CHECK_FALSE(has_umlaut("e\u0301"));     // a combining acute
  CHECK_FALSE(has_umlaut("end \xC3"));    // a lead byte with nothing after it
  CHECK_FALSE(has_umlaut("\xCC"));
}

}  // namespace
}  // namespace resdex
