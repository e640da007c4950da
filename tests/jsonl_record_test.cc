#include "core/jsonl_record.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/document.h"
#include "test_support.h"

namespace resdex {
namespace {

using test::normalizer;
using Strings = std::vector<std::string>;

struct Parsed {
  bool ok = false;
  Document doc;
  ReadError err;
};

Parsed parse(std::string_view line) {
  Parsed p;
  p.ok = parse_jsonl_record(line, normalizer(), &p.doc, &p.err);
  return p;
}

// Parses a line that must be accepted.
Document good(std::string_view line) {
  Parsed p = parse(line);
  INFO("line: ", std::string(line));
  INFO("reason: ", p.err.reason);
  REQUIRE(p.ok);
  return p.doc;
}

// Parses a line that must be rejected; returns the reason.
std::string bad(std::string_view line) {
  Parsed p = parse(line);
  INFO("line: ", std::string(line));
  REQUIRE_FALSE(p.ok);
  CHECK_FALSE(p.err.reason.empty());
  return p.err.reason;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_CASE("jsonl_record: a BEIR line gives id, title and text, type abstract by default") {
  Document d = good(R"({"_id": "4983", "title": "Microstructural development", "text": "Alterations of the architecture.", "metadata": {}})");
  CHECK(d.id == "4983");
  CHECK(d.title == "Microstructural development");
  CHECK(d.text == "Alterations of the architecture.");
  CHECK(d.type == "abstract");
  CHECK(d.name.empty());
  CHECK(d.institutions.empty());
  CHECK(d.areas.empty());
  CHECK(d.department.empty());
  CHECK(d.year == 0);
}

TEST_CASE("jsonl_record: an integer _id becomes its decimal text") {
  CHECK(good(R"({"_id": 42, "text": "x"})").id == "42");
  CHECK(good(R"({"_id": 0, "text": "x"})").id == "0");
  CHECK(good(R"({"_id": 1234567890123, "text": "x"})").id == "1234567890123");
  // A string id keeps whatever it holds, escapes decoded.
  CHECK(good(R"({"_id": "a/b c\u00e9\"q", "text": "x"})").id == "a/b c\u00e9\"q");
}

TEST_CASE("jsonl_record: abstract stands in for text, text wins when both are given") {
  CHECK(good(R"({"_id": "a", "abstract": "From the abstract."})").text == "From the abstract.");
  CHECK(good(R"({"_id": "a", "text": "From text.", "abstract": "From the abstract."})").text ==
        "From text.");
  // An empty text is as good as none.
  CHECK(good(R"({"_id": "a", "text": "", "abstract": "Abstract."})").text == "Abstract.");
  CHECK(good(R"({"_id": "a"})").text.empty());
}

TEST_CASE("jsonl_record: authors are joined with a comma into name, a single string is kept") {
  CHECK(good(R"({"_id": "a", "authors": ["Ada Lovelace", "Alan Turing", "Grace Hopper"]})").name ==
        "Ada Lovelace, Alan Turing, Grace Hopper");
  CHECK(good(R"({"_id": "a", "authors": ["Ada Lovelace"]})").name == "Ada Lovelace");
  CHECK(good(R"({"_id": "a", "authors": "Ada Lovelace and Alan Turing"})").name ==
        "Ada Lovelace and Alan Turing");
  CHECK(good(R"({"_id": "a", "authors": []})").name.empty());
  // Empty and null entries are left out, not joined as ", , ".
  CHECK(good(R"({"_id": "a", "authors": ["Ada", "", null, "Alan"]})").name == "Ada, Alan");
}

TEST_CASE("jsonl_record: affiliations or institutions are canonicalised and deduplicated") {
  Document d = good(
      R"({"_id": "a", "affiliations": ["Zuse Institute Berlin", "Freie Universität Berlin", "Sorbonne"]})");
  CHECK(d.institutions == Strings{"ZIB", "FU Berlin", "Sorbonne"});
  CHECK(good(R"({"_id": "a", "institutions": ["zib", "Technische Universität Berlin"]})")
            .institutions == Strings{"ZIB", "TU Berlin"});
  // A single string is a list of one.
  CHECK(good(R"({"_id": "a", "institutions": "Zuse Institute Berlin"})").institutions ==
        Strings{"ZIB"});
  // Two spellings of one institution count once.
  CHECK(good(R"({"_id": "a", "affiliations": ["ZIB", "Zuse Institute Berlin", "zib"]})")
            .institutions == Strings{"ZIB"});
}

TEST_CASE("jsonl_record: areas or venues become areas") {
  CHECK(good(R"({"_id": "a", "areas": ["Optimization for AI", "Foundations of AI"]})").areas ==
        Strings{"Optimization for AI", "Foundations of AI"});
  CHECK(good(R"({"_id": "a", "venues": ["NeurIPS"]})").areas == Strings{"NeurIPS"});
  CHECK(good(R"({"_id": "a", "venues": "ICML"})").areas == Strings{"ICML"});
}

TEST_CASE("jsonl_record: year is an integer or a string of digits") {
  CHECK(good(R"({"_id": "a", "year": 2021})").year == 2021);
  CHECK(good(R"({"_id": "a", "year": "1999"})").year == 1999);
  CHECK(good(R"({"_id": "a", "year": null})").year == 0);
  CHECK(good(R"({"_id": "a", "year": 0})").year == 0);
  CHECK(good(R"({"_id": "a", "year": 9999})").year == 9999);
  CHECK(good(R"({"_id": "a", "year": "0042"})").year == 42);
  CHECK(good(R"({"_id": "a"})").year == 0);
}

TEST_CASE("jsonl_record: type and department are taken as given, unknown keys ignored") {
  Document d = good(
      R"({"_id": "a", "type": "group", "department": "Mathematics", "url": ["x"], "metadata": {"k": [1, 2]}})");
  CHECK(d.type == "group");
  CHECK(d.department == "Mathematics");
  CHECK(good(R"({"_id": "a", "type": null})").type == "abstract");
}

TEST_CASE("jsonl_record: path and hash of the output document are kept") {
  Document d;
  d.path = "abstracts.jsonl";
  d.hash = "0123456789abcdef";
  d.title = "stale";
  d.areas = {"stale"};
  ReadError err;
  REQUIRE(parse_jsonl_record(R"({"_id": "a", "text": "t"})", normalizer(), &d, &err));
  CHECK(d.path == "abstracts.jsonl");
  CHECK(d.hash == "0123456789abcdef");
  CHECK(d.id == "a");
  CHECK(d.title.empty());
  CHECK(d.areas.empty());
}

TEST_CASE("jsonl_record: a line that is not JSON is rejected") {
  CHECK(contains(bad(R"({"_id": "a", "title": )"), "not valid JSON"));
  CHECK(contains(bad("not json at all"), "not valid JSON"));
  CHECK(contains(bad(R"({"_id": "a"} trailing)"), "not valid JSON"));
  CHECK(contains(bad(""), "not valid JSON"));
  // The message gives a column, not "line 1" (the caller knows the line).
  CHECK_FALSE(contains(bad(R"({"_id": "a", "title": )"), "line 1"));
}

// The reason names what is wrong and the byte column (from 1) where it is.
TEST_CASE("jsonl_record: a JSON syntax error says what and at which byte column") {
  struct Case {
    const char* line;
    const char* reason;
  };
  const Case cases[] = {
      {R"({"_id": "a", "title": )", "not valid JSON: the line ends inside the JSON value at column 23"},
      {R"({"_id": "trunc", "title": "cut off)", "not valid JSON: the line ends inside the JSON value at column 35"},
      {"not json at all", "not valid JSON: invalid value at column 2"},
      {"", "not valid JSON: no JSON value on the line at column 1"},
      {R"({"_id": "a",})", "not valid JSON: expected a member name in double quotes at column 13"},
      {R"({"_id" "a"})", "not valid JSON: expected ':' after a member name at column 8"},
      {R"({"_id": "a" "b"})", "not valid JSON: expected ',' or '}' after an object member at column 13"},
      {R"({"_id": "a", "x": [1 2]})", "not valid JSON: expected ',' or ']' after an array element at column 22"},
      {R"({"_id": "a", "x": 1.})", "not valid JSON: no digit after the decimal point at column 21"},
      {R"({"_id": "a", "x": 1e})", "not valid JSON: no digit in the exponent at column 21"},
      {R"({"_id": "a", "x": NaN})", "not valid JSON: invalid value at column 19"},
      {R"({"_id": "\q"})", "not valid JSON: invalid escape in a string at column 10"},
      {R"({"_id": "\u12"})", "not valid JSON: \\u not followed by four hex digits at column 10"},
      {"{\"_id\": \"a\tb\"}", "not valid JSON: unescaped control character in a string at column 11"},
  };
  for (const Case& c : cases) CHECK(bad(c.line) == c.reason);
}

TEST_CASE("jsonl_record: anything but whitespace after the object is rejected, a NUL byte too") {
  CHECK(bad(R"({"_id": "a"} trailing)") == "not valid JSON: more text after the JSON value at column 14");
  CHECK(bad(R"({"_id": "a"}{"_id": "b"})") == "not valid JSON: more text after the JSON value at column 13");
  CHECK(bad(R"({"_id": "a"} // comment)") == "not valid JSON: more text after the JSON value at column 14");
  // RapidJSON stops at a NUL byte as at the end of its input; the line
  // does not end there.
  CHECK(bad(std::string("{\"_id\": \"a\"}\0garbage", 20)) ==
        "not valid JSON: more text after the JSON value at column 13");
  CHECK(bad(std::string("{\"_id\": \"a\0b\"}", 14)) == "not valid JSON: NUL byte in a string at column 11");
  CHECK(jsonl_record_id(std::string("{\"_id\": \"a\"}\0", 13)) == "");
  // JSON whitespace around the object is fine, a carriage return too.
  CHECK(good(" \t{\"_id\": \"a\"} \t\r").id == "a");
  CHECK(contains(bad("\f{\"_id\": \"a\"}"), "not valid JSON"));
}

TEST_CASE("jsonl_record: a UTF-8 byte order mark before the object is skipped") {
  CHECK(good("\xEF\xBB\xBF{\"_id\": \"bom\", \"text\": \"t\"}").id == "bom");
  CHECK(jsonl_record_id("\xEF\xBB\xBF{\"_id\": \"bom\"}") == "bom");
  // Columns still count the mark's three bytes.
  CHECK(bad("\xEF\xBB\xBF{\"_id\" 1}") == "not valid JSON: expected ':' after a member name at column 11");
  CHECK(bad("\xEF\xBB\xBF") == "not valid JSON: no JSON value on the line at column 4");
}

TEST_CASE("jsonl_record: string escapes and surrogate pairs are decoded") {
  Document d = good(R"({"_id": "a", "title": "\/\b\f\n\r\t\"\\", "text": "\u00e9\u20AC \ud83d\ude00"})");
  CHECK(d.title == "/\b\f\n\r\t\"\\");
  CHECK(d.text == "\u00e9\u20ac \U0001F600");
  // An escaped NUL is kept inside the string.
  CHECK(good(R"({"_id": "a\u0000b"})").id == std::string("a\0b", 3));
  // An escaped key is the key it spells.
  CHECK(good(R"({"\u005fid": "esc"})").id == "esc");
  CHECK(contains(bad(R"({"_id\u0000": "a"})"), "missing '_id'"));
  // "\\udc00" is a backslash and "udc00", not an escape.
  CHECK(good(R"({"_id": "a", "text": "\\udc00"})").text == "\\udc00");
}

TEST_CASE("jsonl_record: a \\u escape of half a surrogate pair is rejected, not stored as bad UTF-8") {
  for (const char* line : {R"({"_id": "\ud83d"})", R"({"_id": "\ud83dx"})", R"({"_id": "\ud83d\u0041"})",
                           R"({"_id": "\udc00"})", R"({"_id": "\ud800\udc00\udc00"})"}) {
    INFO(line);
    CHECK(contains(bad(line), "not valid JSON: \\u escape of a UTF-16 surrogate without its pair at column "));
    CHECK(jsonl_record_id(line) == "");
  }
  // A lone low surrogate in a field resdex ignores counts too, with its column.
  CHECK(bad(R"({"_id": "x", "t": "\\\udc00"})") ==
        "not valid JSON: \\u escape of a UTF-16 surrogate without its pair at column 22");
}

TEST_CASE("jsonl_record: a key given twice counts with its last value") {
  CHECK(good(R"({"_id": "a", "_id": "b"})").id == "b");
  CHECK(jsonl_record_id(R"({"_id": "a", "_id": "b"})") == "b");
  CHECK(good(R"({"_id": "a", "title": ["x"], "title": "ok"})").title == "ok");
  CHECK(bad(R"({"_id": "a", "title": "ok", "title": ["x"]})") == "'title' must be a string");
  CHECK(good(R"({"_id": "a", "year": "abc", "year": 2001})").year == 2001);
}

TEST_CASE("jsonl_record: nested objects and arrays of other keys are ignored, however deep") {
  Document d = good(R"({"_id": "a", "meta": {"title": "not this", "x": [1, {"y": [[[]]]}]}, "text": "t"})");
  CHECK(d.title.empty());
  CHECK(d.text == "t");
  // Deep nesting is parsed without recursion: no stack overflow.
  const std::string deep = R"({"_id": "deep", "x": )" + std::string(100'000, '[') + std::string(100'000, ']') + "}";
  CHECK(good(deep).id == "deep");
  CHECK(contains(bad(std::string(200'000, '[')), "not valid JSON: the line ends inside the JSON value"));
}

TEST_CASE("jsonl_record: integers beyond 64 bits and numbers beyond a double") {
  // Every 64-bit integer is an id as its decimal text.
  CHECK(good(R"({"_id": 18446744073709551615})").id == "18446744073709551615");
  CHECK(good(R"({"_id": 9223372036854775808})").id == "9223372036854775808");
  CHECK(good(R"({"_id": -9223372036854775808})").id == "-9223372036854775808");
  CHECK(jsonl_record_id(R"({"_id": 18446744073709551615})") == "18446744073709551615");
  // Longer integers are read as doubles, which are no id or text.
  CHECK(bad(R"({"_id": 99999999999999999999})") == "'_id' must be a string");
  CHECK(jsonl_record_id(R"({"_id": 99999999999999999999})") == "");
  CHECK(bad(R"({"_id": "a", "title": 1e2})") == "'title' must be a string");
  CHECK(good(R"({"_id": "a", "title": -7})").title == "-7");
  // A year that is a whole number out of range says so, however written.
  CHECK(bad(R"({"_id": "a", "year": 99999999999999999999})") == "'year' 1e+20 is out of range (0 to 9999)");
  CHECK(bad(R"({"_id": "a", "year": 1e5})") == "'year' 100000 is out of range (0 to 9999)");
  CHECK(bad(R"({"_id": "a", "year": -9223372036854775808})") ==
        "'year' -9223372036854775808 is out of range (0 to 9999)");
  CHECK(bad(R"({"_id": "a", "year": "0000000000000000000000000001"})") ==
        "'year' \"0000000000000000000000000001\" is out of range (0 to 9999)");
  CHECK(bad(R"({"_id": "a", "year": 2020.5})") == "'year' must be a number");
  CHECK(bad(R"({"_id": "a", "year": 2020.0})") == "'year' must be a number");
  CHECK(bad(R"({"_id": "a", "year": "-5"})") == "'year' must be a number");
  CHECK(good(R"({"_id": "a", "year": -0})").year == 0);
  // Beyond a double the line is not JSON to resdex.
  CHECK(bad(R"({"_id": "a", "year": 1e400})") == "not valid JSON: number 1e400 is too large for a double at column 22");
  CHECK(jsonl_record_id(R"({"_id": "a", "year": 1e400})") == "");
  // Tiny numbers are zero, not an error.
  CHECK(good(R"({"_id": "a", "v": 1e-400})").id == "a");
}

TEST_CASE("jsonl_record: affiliations and areas win over institutions and venues when present, even null") {
  CHECK(good(R"({"_id": "a", "affiliations": null, "institutions": ["ZIB"]})").institutions.empty());
  CHECK(good(R"({"_id": "a", "areas": [], "venues": ["V"]})").areas.empty());
  CHECK(good(R"({"_id": "a", "areas": null, "venues": ["V"]})").areas.empty());
  CHECK(good(R"({"_id": "a", "venues": ["V", null]})").areas == Strings{"V"});
}

// Found by fuzz_jsonl (docs/reliability.md): nlohmann::json throws
// out_of_range, not parse_error, for a number too large for a double, and
// the uncaught exception stopped `resdex index` as an internal error.
TEST_CASE("jsonl_record: a number too large for a double is rejected, not thrown") {
  CHECK(bad("1e400") == "not valid JSON: number 1e400 is too large for a double at column 1");
  CHECK(contains(bad(R"({"_id": "a", "text": "t", "score": -3139261e7581})"),
                 "number -3139261e7581 is too large for a double at column 36"));
  CHECK(contains(bad(R"({"_id": "a", "year": 1e999})"), "not valid JSON"));
  CHECK(jsonl_record_id("1e400") == "");
  CHECK(jsonl_record_id(R"({"_id": "a", "v": 1e400})") == "");
}

TEST_CASE("jsonl_record: JSON that is not an object is rejected") {
  for (const char* line : {R"(["_id", "a"])", "42", R"("a string")", "null", "true"}) {
    INFO(line);
    CHECK(bad(line) == "not a JSON object");
  }
}

TEST_CASE("jsonl_record: a missing or empty _id is rejected") {
  CHECK(contains(bad(R"({"title": "No id", "text": "x"})"), "missing '_id'"));
  CHECK(contains(bad(R"({"_id": "", "text": "x"})"), "missing '_id'"));
  CHECK(contains(bad(R"({"_id": null, "text": "x"})"), "missing '_id'"));
  CHECK(contains(bad(R"({"id": "a", "text": "x"})"), "missing '_id'"));
}

TEST_CASE("jsonl_record: fields of the wrong JSON type are rejected and named") {
  CHECK(contains(bad(R"({"_id": ["a"], "text": "x"})"), "'_id'"));
  CHECK(contains(bad(R"({"_id": 1.5, "text": "x"})"), "'_id'"));
  CHECK(contains(bad(R"({"_id": "a", "title": ["A", "list"]})"), "'title' must be a string"));
  CHECK(contains(bad(R"({"_id": "a", "title": {"en": "x"}})"), "'title'"));
  CHECK(contains(bad(R"({"_id": "a", "text": ["x"]})"), "'text'"));
  CHECK(contains(bad(R"({"_id": "a", "abstract": ["x"]})"), "'abstract'"));
  CHECK(contains(bad(R"({"_id": "a", "authors": [1, 2]})"), "'authors'"));
  CHECK(contains(bad(R"({"_id": "a", "authors": {"name": "x"}})"), "'authors'"));
  CHECK(contains(bad(R"({"_id": "a", "affiliations": 7})"), "'affiliations'"));
  CHECK(contains(bad(R"({"_id": "a", "institutions": [["ZIB"]]})"), "'institutions'"));
  CHECK(contains(bad(R"({"_id": "a", "venues": true})"), "'venues'"));
  CHECK(contains(bad(R"({"_id": "a", "type": ["group"]})"), "'type'"));
  CHECK(contains(bad(R"({"_id": "a", "year": "abc"})"), "'year'"));
  CHECK(contains(bad(R"({"_id": "a", "year": "20x1"})"), "'year'"));
  CHECK(contains(bad(R"({"_id": "a", "year": ""})"), "'year'"));
  CHECK(contains(bad(R"({"_id": "a", "year": 99999999999})"), "'year' 99999999999 is out of range"));
  CHECK(contains(bad(R"({"_id": "a", "year": 18446744073709551615})"), "out of range"));
  CHECK(contains(bad(R"({"_id": "a", "year": -3})"), "'year' -3 is out of range"));
  CHECK(contains(bad(R"({"_id": "a", "year": "123456"})"), "out of range"));
  CHECK(contains(bad(R"({"_id": "a", "year": 10000})"), "out of range"));
  CHECK(contains(bad(R"({"_id": "a", "year": [2020]})"), "'year'"));
}

TEST_CASE("jsonl_record: invalid UTF-8 is rejected with its byte offset") {
  // "\xC3" starts a two-byte sequence that '"' does not continue. Counting
  // from 0: `{"_id": "a", "title": "M` is 24 bytes, so the bad byte is 24.
  const std::string line = "{\"_id\": \"a\", \"title\": \"M\xC3\"}";
  std::string reason = bad(line);
  CHECK(contains(reason, "invalid UTF-8"));
  CHECK(contains(reason, "byte 24"));
  CHECK(contains(bad("{\"_id\": \"a\", \"text\": \"\xff\xfe\"}"), "invalid UTF-8"));
  // Overlong encoding and a lone surrogate are not UTF-8 either.
  CHECK(contains(bad("{\"_id\": \"a\", \"text\": \"\xc0\xaf\"}"), "invalid UTF-8"));
  CHECK(contains(bad("{\"_id\": \"a\", \"text\": \"\xed\xa0\x80\"}"), "invalid UTF-8"));
  // Proper multibyte text is fine.
  CHECK(good("{\"_id\": \"a\", \"title\": \"Z\xC3\xBCrich \xE2\x80\x94 \xF0\x9F\x98\x80\"}").title ==
        "Z\u00fcrich \u2014 \U0001F600");
}

TEST_CASE("jsonl_record: jsonl_record_id reads the id of lines parse_jsonl_record rejects") {
  // Valid JSON with a bad field: the id can still be read.
  CHECK(jsonl_record_id(R"({"_id": "a7", "title": ["wrong", "type"]})") == "a7");
  CHECK(jsonl_record_id(R"({"title": [], "_id": "later-key"})") == "later-key");
  CHECK(jsonl_record_id(R"({"_id": 99, "year": "abc"})") == "99");
  CHECK(jsonl_record_id(R"({"_id": "esc\"aped\\id"})") == "esc\"aped\\id");
  // Nothing to read.
  CHECK(jsonl_record_id(R"({"_id": "a7", "title": )") == "");
  CHECK(jsonl_record_id("garbage") == "");
  CHECK(jsonl_record_id("") == "");
  CHECK(jsonl_record_id(R"(["_id", "a"])") == "");
  CHECK(jsonl_record_id(R"({"title": "no id"})") == "");
  CHECK(jsonl_record_id(R"({"_id": ["a"]})") == "");
  CHECK(jsonl_record_id(R"({"_id": null})") == "");
  // The same id parse_jsonl_record gives for a good line.
  const char* line = R"({"_id": 12, "text": "t"})";
  CHECK(jsonl_record_id(line) == good(line).id);
}

}  // namespace
}  // namespace resdex
