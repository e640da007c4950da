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

// Found by fuzz_jsonl (docs/reliability.md): nlohmann::json throws
// out_of_range, not parse_error, for a number too large for a double, and
// the uncaught exception stopped `resdex index` as an internal error.
TEST_CASE("jsonl_record: a number too large for a double is rejected, not thrown") {
  CHECK(bad("1e400") == "not valid JSON: number overflow parsing '1e400'");
  CHECK(contains(bad(R"({"_id": "a", "text": "t", "score": -3139261e7581})"), "number overflow"));
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
