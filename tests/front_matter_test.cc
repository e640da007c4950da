#include "core/front_matter.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/document.h"
#include "test_support.h"

namespace resdex {
namespace {

using namespace std::string_literals;
using test::normalizer;

struct Parsed {
  bool ok = false;
  Document doc;
  ReadError err;
};

Parsed parse(std::string_view contents) {
  Parsed p;
  p.ok = parse_markdown_document(contents, normalizer(), &p.doc, &p.err);
  return p;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_CASE("front_matter: a valid group fills every field") {
  const std::string src =
      "---\n"
      "type: group\n"
      "name: Klaus-Robert Müller\n"
      "title: \"Machine Learning: Advanced Applications\"\n"
      "institutions: [Zuse Institute Berlin, fu berlin, TU Berlin]\n"
      "department: Computer Science\n"
      "areas: [AI-based Data Analysis, Foundations of AI]\n"
      "ignored_key: whatever\n"
      "---\n"
      "Our research focuses on **machine learning**.\n"
      "\n"
      "Second paragraph.\n";
  Parsed p = parse(src);
  REQUIRE(p.ok);
  CHECK(p.doc.type == "group");
  CHECK(p.doc.name == "Klaus-Robert Müller");
  CHECK(p.doc.title == "Machine Learning: Advanced Applications");
  CHECK(p.doc.institutions == std::vector<std::string>{"ZIB", "FU Berlin", "TU Berlin"});
  CHECK(p.doc.department == "Computer Science");
  CHECK(p.doc.areas == std::vector<std::string>{"AI-based Data Analysis", "Foundations of AI"});
  CHECK(p.doc.text == "Our research focuses on machine learning.\n\nSecond paragraph.");
  // id, path and hash belong to the caller.
  CHECK(p.doc.id.empty());
  CHECK(p.doc.path.empty());
  CHECK(p.doc.hash.empty());
}

TEST_CASE("front_matter: institutions are canonicalised") {
  struct Case {
    std::string value;  // the institutions: line after the colon
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {"[Zuse Institute Berlin]", {"ZIB"}},
      {"[zib]", {"ZIB"}},
      {"[fu berlin]", {"FU Berlin"}},
      {"[Freie Universität Berlin]", {"FU Berlin"}},
      {"[Humboldt-Universität zu Berlin]", {"HU Berlin"}},
      {"[WIAS, Weierstraß-Institut]", {"WIAS"}},
      {"[ZIB, Zuse Institute Berlin, zib]", {"ZIB"}},  // duplicates after canonicalising
      {"[\"  Some Other Lab  \"]", {"Some Other Lab"}},  // unknown: trimmed, kept
      {"zib", {"ZIB"}},                                 // a scalar is a one-element list
      {"Zuse Institute Berlin", {"ZIB"}},
  };
  for (const Case& c : cases) {
    INFO("institutions: ", c.value);
    Parsed p = parse("---\ntype: group\nname: N\ntitle: T\ninstitutions: " + c.value +
                     "\n---\nbody\n");
    REQUIRE(p.ok);
    CHECK(p.doc.institutions == c.expected);
  }
}

TEST_CASE("front_matter: a scalar areas value is a one-element list") {
  Parsed p = parse("---\ntype: area\nname: Optimization for AI\nareas: Optimization for AI\n---\n");
  REQUIRE(p.ok);
  CHECK(p.doc.areas == std::vector<std::string>{"Optimization for AI"});
  CHECK(p.doc.text.empty());
  CHECK(p.doc.institutions.empty());
}

TEST_CASE("front_matter: non-group types need neither title nor institutions") {
  for (const char* type : {"area", "researcher", "course", "abstract"}) {
    INFO("type: ", std::string(type));
    Parsed p = parse("---\ntype: "s + type + "\nname: Someone\n---\nText.\n");
    REQUIRE(p.ok);
    CHECK(p.doc.type == type);
    CHECK(p.doc.title.empty());
    CHECK(p.doc.text == "Text.");
  }
}

struct ErrorCase {
  std::string what;
  std::string contents;
  int line;
  std::string reason_part;  // a piece of the reason
};

void check_errors(const std::vector<ErrorCase>& cases) {
  for (const ErrorCase& c : cases) {
    INFO(c.what);
    Parsed p = parse(c.contents);
    CHECK_FALSE(p.ok);
    CHECK(p.err.line == c.line);
    INFO("reason: ", p.err.reason);
    CHECK(contains(p.err.reason, c.reason_part));
  }
}

TEST_CASE("front_matter: missing or unterminated front matter") {
  check_errors({
      {"no front matter", "Just text.\n---\ntype: group\n---\n", 1, "no front matter"},
      {"blank first line", "\n---\ntype: area\nname: N\n---\n", 1, "no front matter"},
      {"only the opening fence", "---", 1, "not closed"},
      {"unterminated", "---\ntype: area\nname: N\nText without a closing fence.\n", 1,
       "not closed"},
  });
}

TEST_CASE("front_matter: malformed YAML reports the file line of the error") {
  check_errors({
      // yaml-cpp: "illegal map value" on YAML line 2 (0-based), the 4th line of the file.
      {"map value in a value", "---\ntype: group\nname: X\ntitle: a: b\nareas: [A]\n---\n", 4,
       "malformed front matter"},
      {"bad indentation", "---\ntype: group\nname: X\n  bad: indent\nareas: [A]\n---\n", 4,
       "malformed front matter"},
      {"sequence item in a map", "---\ntype: group\nname: X\n- item\nareas: [A]\n---\n", 4,
       "malformed front matter"},
      // An unclosed flow sequence is only noticed on the next line.
      {"unclosed flow sequence", "---\ntype: group\nname: X\ntitle: [unclosed\nareas: [A]\n---\n",
       5, "malformed front matter"},
      {"not a map", "---\njust a sentence\n---\nbody\n", 2, "key: value"},
  });
}

TEST_CASE("front_matter: required keys and types") {
  check_errors({
      {"missing name", "---\ntype: area\n---\nbody\n", 1, "'name'"},
      {"missing type", "---\nname: N\n---\nbody\n", 1, "'type'"},
      {"empty type", "---\ntype: \"\"\nname: N\n---\nbody\n", 1, "'type'"},
      {"unknown type", "---\nname: N\ntype: person\n---\nbody\n", 3, "unknown type 'person'"},
      {"group without title", "---\ntype: group\nname: N\ninstitutions: [ZIB]\n---\n", 1,
       "'title'"},
      {"group without institutions", "---\ntype: group\nname: N\ntitle: T\n---\n", 1,
       "'institutions'"},
      {"group with empty institutions",
       "---\ntype: group\nname: N\ntitle: T\ninstitutions: []\n---\n", 1, "'institutions'"},
      {"name is a list", "---\ntype: area\nname: [a, b]\n---\n", 3, "'name' must be a single value"},
  });
}

TEST_CASE("front_matter: an empty name is refused") {
  for (const std::string& value : {"\"\""s, ""s, "''"s}) {
    INFO("name: ", value);
    Parsed p = parse("---\ntype: area\nname: " + value + "\n---\nbody\n");
    CHECK_FALSE(p.ok);
    CHECK(contains(p.err.reason, "'name'"));
    // The front matter (line 1) or the name line (line 3).
    CHECK((p.err.line == 1 || p.err.line == 3));
  }
}

TEST_CASE("front_matter: list fields must be lists of strings") {
  check_errors({
      {"areas is a map", "---\ntype: area\nname: N\n\nareas: {a: b}\n---\n", 5,
       "'areas' must be a list"},
      {"institutions is a map",
       "---\ntype: group\nname: N\ntitle: T\ninstitutions: {ZIB: yes}\n---\n", 5,
       "'institutions' must be a list"},
      {"areas holds a list", "---\ntype: area\nname: N\nareas: [A, [B, C]]\n---\n", 4,
       "'areas' must be a list"},
      {"areas holds a map on its own line",
       "---\ntype: area\nname: N\nareas:\n  - A\n  - {b: c}\n---\n", 6, "'areas' must be a list"},
  });
}

TEST_CASE("front_matter: bytes that are not UTF-8 text") {
  check_errors({
      {"empty file", "", 1, "empty file"},
      {"invalid UTF-8 in the body",
       "---\ntype: area\nname: N\n---\nline five\nline six\nbad \xFF byte\n", 7, "invalid UTF-8"},
      {"invalid UTF-8 in the front matter", "---\ntype: area\nname: M\xC3\x28ller\n---\n", 3,
       "invalid UTF-8"},
      {"truncated sequence at the end", "---\ntype: area\nname: N\n---\nend \xE2\x82", 5,
       "invalid UTF-8"},
      {"NUL byte", "---\ntype: area\nname: N\n---\nbin\0ary\n"s, 5, "binary file"},
      {"NUL on line 1", "\0---\n"s, 1, "binary file"},
  });
}

TEST_CASE("front_matter: invalid UTF-8 reports the byte offset") {
  Parsed p = parse("---\ntype: area\nname: N\n---\nab\xFF\n");
  REQUIRE_FALSE(p.ok);
  CHECK(p.err.line == 5);
  CHECK(contains(p.err.reason, "offset 29"));
}

TEST_CASE("front_matter: a byte order mark and CRLF line endings are accepted") {
  struct Case {
    std::string what;
    std::string contents;
  };
  const std::string crlf =
      "---\r\ntype: group\r\nname: Frank Noé\r\ntitle: AI for the Sciences\r\n"
      "institutions: [fu berlin]\r\nareas: [AI for Dynamical Systems]\r\n---\r\n"
      "First line\r\nsame paragraph.\r\n\r\nSecond paragraph.\r\n";
  const std::vector<Case> cases = {
      {"CRLF", crlf},
      {"BOM and CRLF", "\xEF\xBB\xBF" + crlf},
      {"BOM and LF",
       "\xEF\xBB\xBF---\ntype: group\nname: Frank Noé\ntitle: AI for the Sciences\n"
       "institutions: [fu berlin]\nareas: [AI for Dynamical Systems]\n---\n"
       "First line\nsame paragraph.\n\nSecond paragraph.\n"},
      {"fences with trailing blanks",
       "--- \ntype: group\nname: Frank Noé\ntitle: AI for the Sciences\n"
       "institutions: [fu berlin]\nareas: [AI for Dynamical Systems]\n---\t\n"
       "First line\nsame paragraph.\n\nSecond paragraph.\n"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    Parsed p = parse(c.contents);
    INFO("reason: ", p.err.reason);
    REQUIRE(p.ok);
    CHECK(p.doc.type == "group");
    CHECK(p.doc.name == "Frank Noé");
    CHECK(p.doc.title == "AI for the Sciences");
    CHECK(p.doc.institutions == std::vector<std::string>{"FU Berlin"});
    CHECK(p.doc.areas == std::vector<std::string>{"AI for Dynamical Systems"});
    CHECK(p.doc.text == "First line same paragraph.\n\nSecond paragraph.");
  }
}

TEST_CASE("front_matter: errors after CRLF lines report the right line") {
  Parsed p = parse("---\r\ntype: group\r\nname: X\r\ntitle: a: b\r\n---\r\n");
  REQUIRE_FALSE(p.ok);
  CHECK(p.err.line == 4);
  Parsed q = parse("---\r\ntype: area\r\nname: N\r\n---\r\nok\r\nbad \xFF\r\n");
  REQUIRE_FALSE(q.ok);
  CHECK(q.err.line == 6);
}

TEST_CASE("front_matter: '...' closes the front matter, an empty body is fine") {
  Parsed p = parse("---\ntype: course\nname: Core Courses\n...\nBody text.\n");
  REQUIRE(p.ok);
  CHECK(p.doc.text == "Body text.");
  Parsed q = parse("---\ntype: course\nname: Core Courses\n---");
  REQUIRE(q.ok);
  CHECK(q.doc.text.empty());
}

TEST_CASE("front_matter: the output document is untouched on failure") {
  Document doc;
  doc.name = "keep";
  ReadError err;
  CHECK_FALSE(parse_markdown_document("---\ntype: area\n---\n", normalizer(), &doc, &err));
  CHECK(doc.name == "keep");
}

TEST_CASE("front_matter: markdown_to_text removes markup") {
  struct Case {
    std::string what;
    std::string markdown;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"emphasis", "Some **bold**, *italic*, _under_ and ~~struck~~ text.",
       "Some bold, italic, under and struck text."},
      {"inline code", "Call `make all` now.", "Call make all now."},
      {"link keeps its text", "See [the BMS page](https://www.math-berlin.de/) for more.",
       "See the BMS page for more."},
      {"autolink", "Visit <https://example.org> today.", "Visit https://example.org today."},
      {"image keeps its alt text", "A ![diagram of a net](net.png) here.",
       "A diagram of a net here."},
      {"paragraphs", "First paragraph.\n\nSecond paragraph.", "First paragraph.\n\nSecond paragraph."},
      {"soft break is a space", "one line\nnext line", "one line next line"},
      {"heading", "# Title\nText under it.", "Title\n\nText under it."},
      {"list items", "Intro:\n\n- alpha\n- beta\n\nOutro.", "Intro:\n\nalpha\n\nbeta\n\nOutro."},
      {"raw HTML stays text", "Do not run <script>alert(1)</script> here.",
       "Do not run <script>alert(1)</script> here."},
      {"HTML block stays text", "<div>\nboxed\n</div>", "<div> boxed </div>"},
      {"entities", "R&amp;D &lt;tag&gt; &#233;t&#xE9;", "R&D <tag> été"},
      {"bad numeric entity", "x &#0; y", "x \xEF\xBF\xBD y"},
      {"backslash escape", "not \\*emphasis\\*", "not *emphasis*"},
      {"empty", "", ""},
      {"only blank lines", "\n\n\n", ""},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    CHECK(markdown_to_text(c.markdown) == c.expected);
  }
}

}  // namespace
}  // namespace resdex
