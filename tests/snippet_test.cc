#include "core/snippet.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/text_normalizer.h"
#include "test_support.h"

namespace resdex {
namespace {

using test::normalizer;
using Terms = std::vector<std::string>;

const std::string kEllipsis = "\u2026";

// The highlighted words of a snippet, in order.
std::vector<std::string> marked(const Snippet& s) {
  std::vector<std::string> out;
  for (const auto& [b, e] : s.highlights) {
    REQUIRE(b < e);
    REQUIRE(e <= s.text.size());
    out.push_back(s.text.substr(b, e - b));
  }
  return out;
}

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }
bool ends_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}
bool is_continuation(const std::string& s, size_t at) {
  return at < s.size() && (static_cast<unsigned char>(s[at]) & 0xC0) == 0x80;
}

// Highlights ascending, non-overlapping, on character boundaries; text valid.
void check_well_formed(const Snippet& s) {
  CHECK(is_valid_utf8(s.text));
  size_t prev_end = 0;
  for (const auto& [b, e] : s.highlights) {
    CHECK(b >= prev_end);
    CHECK(b < e);
    CHECK(e <= s.text.size());
    CHECK_FALSE(is_continuation(s.text, b));
    CHECK_FALSE(is_continuation(s.text, e));
    prev_end = e;
  }
}

std::string repeat(const std::string& word, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += (i ? " " : "") + word;
  return out;
}

TEST_CASE("snippet: highlight offsets point at exactly the matched words") {
  Highlighter h(normalizer(), {"machine", "learning"});
  const std::string text = "Methods of machine learning, and Machine-Learning for physics.";
  Snippet s = h.mark_all(text);
  CHECK(s.text == text);
  CHECK(marked(s) == Terms{"machine", "learning", "Machine", "Learning"});
  REQUIRE(s.highlights.size() == 4);
  CHECK(s.highlights[0] == std::pair<size_t, size_t>{11, 18});
  CHECK(s.highlights[1] == std::pair<size_t, size_t>{19, 27});
  check_well_formed(s);

  Snippet m = h.make(text, 200);
  CHECK(m.text == text);
  CHECK(marked(m) == Terms{"machine", "learning", "Machine", "Learning"});
}

TEST_CASE("snippet: matching of terms to words") {
  struct Case {
    std::string what;
    Terms terms;
    std::string text;
    Terms expected;
  };
  const std::vector<Case> cases = {
      {"stem term highlights other forms", {"Zoptim"},
       "Optimization, optimizing and optimal optimisers differ from options.",
       {"Optimization", "optimizing", "optimal"}},
      {"stem from a plural", {"Zepidem"}, "An epidemic, two epidemics.", {"epidemic", "epidemics"}},
      {"folded term highlights the accented original", {"zurich"},
       "Offices in Zürich and ZÜRICH and zurich.", {"Zürich", "ZÜRICH", "zurich"}},
      {"German variant term highlights the umlaut", {"zuerich"}, "Offices in Zürich, not Zurich.",
       {"Zürich"}},
      {"German variant with a combining diaeresis", {"mueller"}, "Klaus-Robert Mu\xCC\x88ller.",
       {"Mu\xCC\x88ller"}},
      {"prefixed term", {"Amuller"}, "Klaus-Robert Müller and Mueller.", {"Müller"}},
      {"prefixed German variant", {"Amueller"}, "Klaus-Robert Müller and Mueller.",
       {"Müller", "Mueller"}},
      {"prefixed stem", {"ZSoptim"}, "Mathematical Optimization.", {"Optimization"}},
      {"sharp s", {"reiss"}, "Markus Reiß, REISS and Reiss.", {"Reiß", "REISS", "Reiss"}},
      {"acute accent", {"noe"}, "Frank Noé (NOE).", {"Noé", "NOE"}},
      {"plain word does not match its stem relatives", {"learning"}, "learn learned learning",
       {"learning"}},
      // A boolean term's value is highlighted where it occurs as a word;
      // a multi-word key ("XIfu berlin") or an id never matches one word.
      {"boolean terms highlight their value", {"XIzib", "XTgroup"}, "The ZIB group.",
       {"ZIB", "group"}},
      {"multi-word keys and ids match no word", {"XIfu berlin", "Qgroups/x", "XAfoundations of ai"},
       "fu berlin groups x foundations of ai", {}},
      {"no terms", {}, "anything at all", {}},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    Highlighter h(normalizer(), c.terms);
    Snippet s = h.mark_all(c.text);
    CHECK(s.text == c.text);
    CHECK(marked(s) == c.expected);
    check_well_formed(s);
  }
}

TEST_CASE("snippet: highlighters sharing a StemMemo mark what each marks with its own") {
  const std::vector<std::pair<Terms, std::string>> pages = {
      {{"Zmodel", "Zlanguag"}, "Language models model languages; a modelled language, the modeller's models."},
      {{"Zembed", "word"}, "Word embeddings embed words: embedding, embedded, wordy words."},
      {{"Zmodel", "Zmuller"}, "M\u00fcller's models of Mueller and Muller modelling."},
  };
  StemMemo shared;
  for (int round = 0; round < 2; ++round) {
    for (const auto& [terms, text] : pages) {
      CAPTURE(text);
      const Snippet own = Highlighter(normalizer(), terms).make(text, 200);
      const Snippet with_memo = Highlighter(normalizer(), terms, {}, &shared).make(text, 200);
      CHECK(with_memo.text == own.text);
      CHECK(with_memo.highlights == own.highlights);
      CHECK_FALSE(own.highlights.empty());
    }
  }
}

TEST_CASE("snippet: matches compares the original and the folded word") {
  Highlighter h(normalizer(), {"zuerich", "Zoptim"});
  CHECK(h.matches("Zürich", normalizer().fold("Zürich")));
  CHECK(h.matches("optimizing", "optimizing"));
  CHECK_FALSE(h.matches("Zurich", "zurich"));
  CHECK_FALSE(h.matches("options", "options"));
}

TEST_CASE("snippet: the window picks the densest cluster of distinct terms") {
  const std::string filler = repeat("lorem", 50);  // 299 bytes
  const std::string text = "Alpha starts. " + filler + ". Then alpha and beta together. " + filler +
                           ". Beta ends.";
  Highlighter h(normalizer(), {"alpha", "beta"});
  Snippet s = h.make(text, 80);
  INFO("snippet: ", s.text);
  CHECK(s.text.find("alpha and beta together") != std::string::npos);
  CHECK(marked(s) == Terms{"alpha", "beta"});
  CHECK(starts_with(s.text, kEllipsis));
  CHECK(ends_with(s.text, kEllipsis));
  check_well_formed(s);
}

TEST_CASE("snippet: among equally distinct clusters the one with more hits wins") {
  const std::string filler = repeat("lorem", 50);
  const std::string text = filler + " alpha beta " + filler + " beta alpha beta alpha " + filler;
  Highlighter h(normalizer(), {"alpha", "beta"});
  Snippet s = h.make(text, 60);
  INFO("snippet: ", s.text);
  CHECK(marked(s) == Terms{"beta", "alpha", "beta", "alpha"});
  check_well_formed(s);
}

TEST_CASE("snippet: ellipses only where the text was cut") {
  Highlighter h(normalizer(), {"target"});
  SUBCASE("text fits") {
    Snippet s = h.make("A short text with the target word.", 200);
    CHECK(s.text == "A short text with the target word.");
    CHECK(marked(s) == Terms{"target"});
  }
  SUBCASE("match at the start of a long text") {
    const std::string text = "The target comes first. " + repeat("lorem", 100);
    Snippet s = h.make(text, 50);
    CHECK(starts_with(s.text, "The target"));
    CHECK(ends_with(s.text, kEllipsis));
    CHECK(marked(s) == Terms{"target"});
  }
  SUBCASE("match at the end of a long text") {
    const std::string text = repeat("lorem", 100) + " and finally the target.";
    Snippet s = h.make(text, 50);
    CHECK(starts_with(s.text, kEllipsis));
    CHECK(ends_with(s.text, "target."));
    CHECK(marked(s) == Terms{"target"});
  }
  SUBCASE("match in the middle") {
    const std::string text = repeat("lorem", 100) + " the target " + repeat("ipsum", 100);
    Snippet s = h.make(text, 50);
    CHECK(starts_with(s.text, kEllipsis));
    CHECK(ends_with(s.text, kEllipsis));
    CHECK(s.text.find("target") != std::string::npos);
  }
  SUBCASE("mark_all never cuts") {
    const std::string text = repeat("lorem", 100) + " target";
    Snippet s = h.mark_all(text);
    CHECK(s.text == text);
    CHECK(marked(s) == Terms{"target"});
  }
}

TEST_CASE("snippet: whitespace runs are collapsed to one space") {
  Highlighter h(normalizer(), {"beta"});
  const std::string text = "  alpha \t\n\n  beta\r\n\r\ngamma   delta  ";
  Snippet m = h.mark_all(text);
  CHECK(m.text == "alpha beta gamma delta");
  CHECK(marked(m) == Terms{"beta"});
  Snippet s = h.make(text, 200);
  CHECK(s.text == "alpha beta gamma delta");
  CHECK(marked(s) == Terms{"beta"});
  Snippet p = h.mark_all("a ,  b .\n\n(c)");
  CHECK(p.text == "a , b . (c)");
}

TEST_CASE("snippet: the passage length is respected") {
  const std::string text = repeat("lorem ipsum dolor sit amet, target consectetur", 40);
  Highlighter h(normalizer(), {"target", "Zdolor"});
  for (size_t length : {20u, 50u, 100u, 200u, 400u}) {
    INFO("length ", length);
    Snippet s = h.make(text, length);
    // Up to 8 bytes of trailing punctuation and two ellipses on top.
    CHECK(s.text.size() <= length + 8 + 2 * kEllipsis.size());
    CHECK(s.text.size() >= length / 2);
    CHECK_FALSE(s.highlights.empty());
    check_well_formed(s);
  }
}

TEST_CASE("snippet: no match gives the beginning of the text without highlights") {
  Highlighter h(normalizer(), {"absent"});
  const std::string text = "The opening words of a long text. " + repeat("lorem", 100);
  Snippet s = h.make(text, 40);
  CHECK(starts_with(s.text, "The opening words"));
  CHECK(ends_with(s.text, kEllipsis));
  CHECK(s.highlights.empty());
  CHECK(s.text.size() <= 40 + 8 + kEllipsis.size());

  Highlighter none(normalizer(), {});
  Snippet n = none.make("Short text.", 40);
  CHECK(n.text == "Short text.");
  CHECK(n.highlights.empty());
  CHECK(none.make("", 40).text.empty());
}

TEST_CASE("snippet: highlights fall on UTF-8 character boundaries for every length") {
  const std::string text =
      "Grüße aus Zürich — Müllers Büro « Zürich » liegt an der Straße; "
      "Noé, Reiß und Müller → Zürich… ☃☃☃ Ärger über Öl. Zürich!";
  Highlighter h(normalizer(), {"zurich", "Amuller", "reiss", "Zstrass"});
  for (size_t length = 1; length <= text.size() + 5; ++length) {
    INFO("length ", length);
    Snippet s = h.make(text, length);
    check_well_formed(s);
    for (const std::string& w : marked(s))
      CHECK((w == "Zürich" || w == "Müller" || w == "Reiß" || w == "Straße"));
  }
  Snippet all = h.mark_all(text);
  CHECK(marked(all) ==
        Terms{"Zürich", "Zürich", "Straße", "Reiß", "Müller", "Zürich", "Zürich"});
  check_well_formed(all);
}

TEST_CASE("snippet: text without words is cut on a character boundary") {
  Highlighter h(normalizer(), {"anything"});
  const std::string arrows = [] {
    std::string s;
    for (int i = 0; i < 100; ++i) s += "\u2192";  // 3 bytes each, no word characters
    return s;
  }();
  for (size_t length : {10u, 50u, 100u, 200u}) {
    INFO("length ", length);
    Snippet s = h.make(arrows, length);
    CHECK(is_valid_utf8(s.text));
    CHECK(s.highlights.empty());
    CHECK(s.text.size() <= length + kEllipsis.size());
    CHECK(starts_with(s.text, "\u2192"));
    if (length < arrows.size()) CHECK(ends_with(s.text, kEllipsis));
  }
}

TEST_CASE("snippet: trailing punctuation is kept without splitting a character") {
  // The last word is followed by a run of multi-byte punctuation.
  const std::string text = "alpha beta gamma\u00BB\u00BB\u00BB\u00BB\u00BB\u00BB\u00BB\u00BB " +
                           repeat("lorem", 20);
  Highlighter h(normalizer(), {"alpha"});
  for (size_t length = 10; length <= 40; ++length) {
    INFO("length ", length);
    Snippet s = h.make(text, length);
    CHECK(is_valid_utf8(s.text));
    CHECK(starts_with(s.text, "alpha"));
    CHECK(marked(s) == Terms{"alpha"});
  }
}

// The highlighter stems only words whose first byte some stem of the query
// starts with (snippet.h); that holds if stemming never changes a word's
// first byte. Checked on every word of the test and bundled corpora and on the
// stemmer's special cases.
TEST_CASE("snippet: every word lights up for the stem of itself") {
  std::vector<std::string> words = {"dying", "lying", "tying", "skis", "skies", "news", "gently",
                                    "early", "only", "singly", "ugly", "idly", "sky", "howe",
                                    "atlas", "cosmos", "bias", "andes", "inning", "outing",
                                    "canning", "herring", "earring", "proceed", "exceed",
                                    "succeed", "yield", "youth", "generously", "communism",
                                    "universities", "arsenal", "abilities", "ied", "ies"};
  for (const char* dir : {RESDEX_FIXTURES "/corpus", RESDEX_SOURCE_DIR "/corpus"}) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path());
      std::stringstream text;
      text << in.rdbuf();
      for (const Token& t : normalizer().tokenize(text.str())) words.push_back(t.folded);
    }
  }
  REQUIRE(words.size() > 1000);
  Xapian::Stem stem("english");
  for (const std::string& w : words) {
    const Snippet s = Highlighter(normalizer(), {"Z" + stem(w)}).mark_all(w);
    CHECK_MESSAGE(marked(s) == std::vector<std::string>{w}, w);
  }
}

}  // namespace
}  // namespace resdex
