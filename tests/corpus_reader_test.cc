#include "core/corpus_reader.h"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/file_system.h"
#include "test_support.h"

namespace resdex {
namespace {

using test::Md;
using test::normalizer;

struct Scan {
  std::vector<SourceEntry> entries;
  std::vector<std::pair<std::string, ReadError>> errors;

  std::vector<std::string> ids() const {
    std::vector<std::string> out;
    for (const SourceEntry& e : entries) out.push_back(e.id);
    return out;
  }
  std::vector<std::string> paths() const {
    std::vector<std::string> out;
    for (const SourceEntry& e : entries) out.push_back(e.path);
    return out;
  }
};

Scan scan(const FileSystem& fs, const std::vector<std::string>& roots) {
  Scan s;
  CorpusReader reader(fs, normalizer());
  reader.scan(
      roots, [&](SourceEntry&& e) { s.entries.push_back(std::move(e)); },
      [&](const std::string& id, ReadError&& err) { s.errors.emplace_back(id, std::move(err)); });
  return s;
}

std::string area(const std::string& name) { return Md{.type = "area", .name = name}.str(); }

// A tree with documents, READMEs, hidden files and other files.
MemoryFileSystem sample_tree() {
  MemoryFileSystem fs;
  fs.write("corpus/groups/zeta.md", area("Zeta"));
  fs.write("corpus/groups/alpha.md", area("Alpha"));
  fs.write("corpus/areas/sub/deep.md", area("Deep"));
  fs.write("corpus/top.md", area("Top"));
  fs.write("corpus/README.md", "# How to edit\n");
  fs.write("corpus/groups/README.md", "# Groups\n");
  fs.write("corpus/groups/readme.md", "# lower-case readme\n");
  fs.write("corpus/.hidden.md", area("Hidden"));
  fs.write("corpus/.git/objects.md", area("In a hidden dir"));
  fs.write("corpus/groups/.draft.md", area("Draft"));
  fs.write("corpus/notes.txt", "not markdown");
  fs.write("corpus/groups/image.md.bak", "not markdown either");
  fs.write("corpusother/x.md", area("Outside"));  // shares the root's name as a prefix
  fs.write("other/y.md", area("Other root"));
  return fs;
}

TEST_CASE("corpus_reader: entries are sorted, ids are paths below the root without .md") {
  MemoryFileSystem fs = sample_tree();
  Scan s = scan(fs, {"corpus"});
  CHECK(s.errors.empty());
  CHECK(s.ids() == std::vector<std::string>{"areas/sub/deep", "groups/alpha", "groups/zeta", "top"});
  CHECK(s.paths() == std::vector<std::string>{"corpus/areas/sub/deep.md", "corpus/groups/alpha.md",
                                              "corpus/groups/zeta.md", "corpus/top.md"});
  REQUIRE(s.entries.size() == 4);
  CHECK(s.entries[1].contents == area("Alpha"));
}

TEST_CASE("corpus_reader: a root with a trailing slash gives the same ids") {
  MemoryFileSystem fs = sample_tree();
  Scan s = scan(fs, {"corpus/"});
  CHECK(s.ids() == std::vector<std::string>{"areas/sub/deep", "groups/alpha", "groups/zeta", "top"});
}

TEST_CASE("corpus_reader: a subdirectory as root gives ids below it") {
  MemoryFileSystem fs = sample_tree();
  Scan s = scan(fs, {"corpus/groups"});
  CHECK(s.ids() == std::vector<std::string>{"alpha", "zeta"});
  CHECK(s.paths() == std::vector<std::string>{"corpus/groups/alpha.md", "corpus/groups/zeta.md"});
}

TEST_CASE("corpus_reader: README and hidden files are skipped") {
  MemoryFileSystem fs = sample_tree();
  Scan s = scan(fs, {"corpus"});
  for (const SourceEntry& e : s.entries) {
    INFO(e.path);
    CHECK(e.path.find("README") == std::string::npos);
    CHECK(e.path.find("readme") == std::string::npos);
    CHECK(e.path.find("/.") == std::string::npos);
  }
  CHECK(s.entries.size() == 4);
}

TEST_CASE("corpus_reader: several roots are scanned in order") {
  MemoryFileSystem fs = sample_tree();
  Scan s = scan(fs, {"other", "corpus/groups"});
  CHECK(s.ids() == std::vector<std::string>{"y", "alpha", "zeta"});
}

TEST_CASE("corpus_reader: a root that is a single file") {
  MemoryFileSystem fs = sample_tree();
  Scan s = scan(fs, {"corpus/groups/alpha.md"});
  REQUIRE(s.entries.size() == 1);
  CHECK(s.entries[0].id == "alpha");
  CHECK(s.entries[0].path == "corpus/groups/alpha.md");
  CHECK(s.entries[0].contents == area("Alpha"));
  CHECK(s.entries[0].hash == CorpusReader::hash(area("Alpha")));
}

TEST_CASE("corpus_reader: a missing root throws Error kNotFound") {
  MemoryFileSystem fs = sample_tree();
  for (const char* root : {"nowhere", "corpus/groups/missing.md", "corpu"}) {
    INFO("root: ", std::string(root));
    bool thrown = false;
    try {
      scan(fs, {root});
    } catch (const Error& e) {
      thrown = true;
      CHECK(e.kind() == Error::Kind::kNotFound);
      CHECK(std::string(e.what()).find(root) != std::string::npos);
    }
    CHECK(thrown);
  }
  // A missing root among good ones still throws.
  CHECK_THROWS_AS(scan(fs, {"corpus", "nowhere"}), Error);
}

TEST_CASE("corpus_reader: an empty directory tree yields nothing") {
  MemoryFileSystem fs;
  fs.write("empty/README.md", "docs only");
  Scan s = scan(fs, {"empty"});
  CHECK(s.entries.empty());
  CHECK(s.errors.empty());
}

// A file system whose reads of one file fail.
class FailingFileSystem : public MemoryFileSystem {
 public:
  std::string bad;
  std::string read_file(const std::string& path, std::string* contents) const override {
    if (path == bad) return "Permission denied";
    return MemoryFileSystem::read_file(path, contents);
  }
};

TEST_CASE("corpus_reader: an unreadable file goes to on_error with its id") {
  FailingFileSystem fs;
  fs.write("c/a.md", area("A"));
  fs.write("c/b.md", area("B"));
  fs.write("c/c.md", area("C"));
  fs.bad = "c/b.md";
  Scan s = scan(fs, {"c"});
  CHECK(s.ids() == std::vector<std::string>{"a", "c"});
  REQUIRE(s.errors.size() == 1);
  CHECK(s.errors[0].first == "b");
  CHECK(s.errors[0].second.path == "c/b.md");
  CHECK(s.errors[0].second.line == 0);
  CHECK(s.errors[0].second.reason.find("Permission denied") != std::string::npos);
}

TEST_CASE("corpus_reader: the hash is stable and follows the content") {
  const std::string a = area("Alpha");
  const std::string h = CorpusReader::hash(a);
  CHECK(h.size() == 16);
  CHECK(h.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(CorpusReader::hash(a) == h);
  CHECK(CorpusReader::hash(std::string(a)) == h);
  CHECK(CorpusReader::hash(a + " ") != h);
  CHECK(CorpusReader::hash(area("Alphb")) != h);
  CHECK(CorpusReader::hash("") != h);
  CHECK(CorpusReader::hash("").size() == 16);

  MemoryFileSystem fs;
  fs.write("c/a.md", a);
  const std::string first = scan(fs, {"c"}).entries.at(0).hash;
  CHECK(first == h);
  CHECK(scan(fs, {"c"}).entries.at(0).hash == first);
  fs.write("c/a.md", area("Changed"));
  CHECK(scan(fs, {"c"}).entries.at(0).hash != first);
}

TEST_CASE("corpus_reader: parse fills id, path and hash") {
  MemoryFileSystem fs;
  fs.write("corpus/groups/noe.md",
           Md{.name = "Frank Noé", .title = "AI for the Sciences", .institutions = "fu berlin",
              .body = "Deep learning."}
               .str());
  Scan s = scan(fs, {"corpus"});
  REQUIRE(s.entries.size() == 1);
  CorpusReader reader(fs, normalizer());
  Document doc;
  ReadError err;
  REQUIRE(reader.parse(s.entries[0], &doc, &err));
  CHECK(doc.id == "groups/noe");
  CHECK(doc.path == "corpus/groups/noe.md");
  CHECK(doc.hash == s.entries[0].hash);
  CHECK(doc.name == "Frank Noé");
  CHECK(doc.institutions == std::vector<std::string>{"FU Berlin"});
  CHECK(doc.text == "Deep learning.");
}

TEST_CASE("corpus_reader: parse failure sets the path") {
  MemoryFileSystem fs;
  fs.write("corpus/bad.md", "---\ntype: group\nname: X\n---\n");
  Scan s = scan(fs, {"corpus"});
  REQUIRE(s.entries.size() == 1);
  CorpusReader reader(fs, normalizer());
  Document doc;
  ReadError err;
  CHECK_FALSE(reader.parse(s.entries[0], &doc, &err));
  CHECK(err.path == "corpus/bad.md");
  CHECK(err.line == 1);
  CHECK(err.reason.find("'title'") != std::string::npos);
  CHECK(doc.id.empty());
}


// ---------------------------------------------------------------------------
// JSONL corpora

TEST_CASE("corpus_reader: is_jsonl_path accepts .jsonl, .jsonl.gz and - only") {
  for (const char* path : {"-", "abstracts.jsonl", "data/corpus.jsonl", "corpus.jsonl.gz",
                           "/abs/part-001.jsonl.gz", ".jsonl"}) {
    INFO(path);
    CHECK(is_jsonl_path(path));
  }
  for (const char* path : {"", "corpus", "corpus/", "a.json", "a.md", "a.gz", "a.jsonl.bak",
                           "a.jsonl/", "jsonl", "a.jsonlgz", "--", "-/x"}) {
    INFO(path);
    CHECK_FALSE(is_jsonl_path(path));
  }
}

// A JSONL file with blank lines, good lines and bad ones. Line numbers:
const std::vector<std::string> kJsonlLines = {
    R"({"_id": "a1", "title": "One", "text": "First abstract."})",    // 1
    "",                                                                 // 2 blank
    "   \t ",                                                           // 3 blank
    R"({"_id": "a2", "title": "Two", "authors": ["X Y"]})",             // 4
    R"({not json)",                                                     // 5 no id
    R"({"title": ["wrong", "type"], "_id": "a3"})",                     // 6 id after title
    R"({"_id": "esc\"q", "text": "escaped id"})",                       // 7
    R"(  { "_id" :  "spaced" , "text": "blanks around"})",              // 8
    R"({"_id": 77, "text": "integer id"})",                             // 9
    R"({"text": "no id at all"})",                                      // 10 no id
    R"({"_id": "caf\u00e9", "text": "unicode escape"})",                // 11
    R"({"_id": "trunc", "title": "cut off)",                            // 12 id, bad JSON
    "{\"_id\": \"crlf\", \"text\": \"windows\"}\r",                     // 13
    "",                                                                 // 14 blank
    R"({"_id": "last"})",                                               // 15, no newline
};

std::string jsonl_text() {
  std::string s;
  for (size_t i = 0; i < kJsonlLines.size(); ++i)
    s += kJsonlLines[i] + (i + 1 < kJsonlLines.size() ? "\n" : "");
  return s;
}

TEST_CASE("corpus_reader: a JSONL file yields one entry per non-blank line with its line number") {
  MemoryFileSystem fs;
  fs.write("data/abs.jsonl", jsonl_text());
  Scan s = scan(fs, {"data/abs.jsonl"});
  CHECK(s.ids() == std::vector<std::string>{"a1", "a2", "a3", "esc\"q", "spaced", "77",
                                            "caf\u00e9", "trunc", "crlf", "last"});
  std::vector<int> lines;
  for (const SourceEntry& e : s.entries) {
    INFO("id ", e.id);
    lines.push_back(e.line);
    CHECK(e.format == SourceEntry::Format::kJsonl);
    CHECK(e.path == "data/abs.jsonl");
    REQUIRE(e.line >= 1);
    REQUIRE(static_cast<size_t>(e.line) <= kJsonlLines.size());
    CHECK(e.contents == kJsonlLines[static_cast<size_t>(e.line) - 1]);
    CHECK(e.hash == CorpusReader::hash(e.contents));
  }
  CHECK(lines == std::vector<int>{1, 4, 6, 7, 8, 9, 11, 12, 13, 15});

  // Lines whose id cannot be read go to on_error with an empty id.
  REQUIRE(s.errors.size() == 2);
  CHECK(s.errors[0].first == "");
  CHECK(s.errors[0].second.path == "data/abs.jsonl");
  CHECK(s.errors[0].second.line == 5);
  CHECK(s.errors[0].second.reason.find("not valid JSON") != std::string::npos);
  CHECK(s.errors[1].first == "");
  CHECK(s.errors[1].second.path == "data/abs.jsonl");
  CHECK(s.errors[1].second.line == 10);
  CHECK(s.errors[1].second.reason.find("missing '_id'") != std::string::npos);
}

TEST_CASE("corpus_reader: parse of a JSONL entry fills the document or reports path and line") {
  MemoryFileSystem fs;
  fs.write("data/abs.jsonl", jsonl_text());
  Scan s = scan(fs, {"data/abs.jsonl"});
  CorpusReader reader(fs, normalizer());
  auto entry = [&](const std::string& id) -> const SourceEntry& {
    for (const SourceEntry& e : s.entries)
      if (e.id == id) return e;
    FAIL("no entry " << id);
    throw std::logic_error("unreachable");
  };

  Document doc;
  ReadError err;
  REQUIRE(reader.parse(entry("a1"), &doc, &err));
  CHECK(doc.id == "a1");
  CHECK(doc.title == "One");
  CHECK(doc.text == "First abstract.");
  CHECK(doc.type == "abstract");
  CHECK(doc.path == "data/abs.jsonl");
  CHECK(doc.hash == entry("a1").hash);

  Document crlf;
  REQUIRE(reader.parse(entry("crlf"), &crlf, &err));
  CHECK(crlf.text == "windows");
  Document integer;
  REQUIRE(reader.parse(entry("77"), &integer, &err));
  CHECK(integer.id == "77");
  Document unicode;
  REQUIRE(reader.parse(entry("caf\u00e9"), &unicode, &err));
  CHECK(unicode.id == "caf\u00e9");

  // Valid JSON with a field of the wrong type: the id was recovered by the
  // scan, the parse fails with the line.
  Document d3;
  ReadError e3;
  CHECK_FALSE(reader.parse(entry("a3"), &d3, &e3));
  CHECK(e3.path == "data/abs.jsonl");
  CHECK(e3.line == 6);
  CHECK(e3.reason.find("'title'") != std::string::npos);

  // Broken JSON that still starts with {"_id": "...": the id is known.
  Document dt;
  ReadError et;
  CHECK_FALSE(reader.parse(entry("trunc"), &dt, &et));
  CHECK(et.path == "data/abs.jsonl");
  CHECK(et.line == 12);
  CHECK(et.reason.find("not valid JSON") != std::string::npos);
}

TEST_CASE("corpus_reader: a broken line whose id has escapes is not given a raw id") {
  MemoryFileSystem fs;
  // Cut off after an escaped id: the quick id reader must not guess `a\"b`.
  fs.write("c.jsonl", "{\"_id\": \"a\\\"b\", \"title\": \"cut\n{\"_id\": \"ok\"}\n");
  Scan s = scan(fs, {"c.jsonl"});
  CHECK(s.ids() == std::vector<std::string>{"ok"});
  REQUIRE(s.errors.size() == 1);
  CHECK(s.errors[0].first == "");
  CHECK(s.errors[0].second.line == 1);
}

TEST_CASE("corpus_reader: quick and full id reading agree") {
  // Each pair: the same record written so that the quick reader takes it
  // (plain {"_id": "..." first) or not (key order, escapes), same id.
  struct Pair {
    std::string quick, full, id;
  };
  const std::vector<Pair> pairs = {
      {R"({"_id": "p/q-1", "text": "x"})", R"({"text": "x", "_id": "p/q-1"})", "p/q-1"},
      {R"({"_id":"tight","text":"x"})", R"({"text":"x","_id":"tight"})", "tight"},
      {R"({"_id": "a\\b"})", R"({"text": "", "_id": "a\\b"})", "a\\b"},
      {R"({"_id": "\u0041BC"})", R"({"_id": "ABC"})", "ABC"},
      {R"({"_id": 5})", R"({"_id": "5"})", "5"},
      // A key given twice counts with its last value, in both readers.
      {R"({"_id": "first", "text": "x", "_id": "last"})", R"({"_id": "last"})", "last"},
  };
  for (const Pair& p : pairs) {
    INFO(p.quick, " / ", p.full);
    MemoryFileSystem fs;
    fs.write("q.jsonl", p.quick + "\n" + p.full + "\n");
    Scan s = scan(fs, {"q.jsonl"});
    CHECK(s.errors.empty());
    REQUIRE(s.entries.size() == 2);
    CHECK(s.entries[0].id == p.id);
    CHECK(s.entries[1].id == p.id);
    Document doc;
    ReadError err;
    REQUIRE(CorpusReader(fs, normalizer()).parse(s.entries[0], &doc, &err));
    CHECK(doc.id == p.id);
  }
}

TEST_CASE("corpus_reader: JSONL and Markdown roots scan together, - reads standard input") {
  MemoryFileSystem fs;
  fs.write("corpus/groups/alpha.md", area("Alpha"));
  fs.write("abs.jsonl.gz", R"({"_id": "z1"})" "\n");  // the memory file system does not compress
  fs.write("-", R"({"_id": "s1"})" "\n\n" R"({"_id": "s2"})" "\n");
  Scan s = scan(fs, {"abs.jsonl.gz", "corpus", "-"});
  CHECK(s.ids() == std::vector<std::string>{"z1", "groups/alpha", "s1", "s2"});
  CHECK(s.paths() == std::vector<std::string>{"abs.jsonl.gz", "corpus/groups/alpha.md", "-", "-"});
  REQUIRE(s.entries.size() == 4);
  CHECK(s.entries[1].format == SourceEntry::Format::kMarkdown);
  CHECK(s.entries[1].line == 0);
  CHECK(s.entries[3].line == 3);
}

TEST_CASE("corpus_reader: a missing JSONL file throws kNotFound naming it") {
  MemoryFileSystem fs;
  fs.write("abs.jsonl", R"({"_id": "a"})");
  try {
    scan(fs, {"abs.jsonl", "missing.jsonl"});
    FAIL("scan did not throw");
  } catch (const Error& e) {
    CHECK(e.kind() == Error::Kind::kNotFound);
    CHECK(std::string(e.what()).find("missing.jsonl") != std::string::npos);
  }
  // An empty JSONL file yields nothing and no error.
  fs.write("empty.jsonl", "");
  Scan empty = scan(fs, {"empty.jsonl"});
  CHECK(empty.entries.empty());
  CHECK(empty.errors.empty());
}

}  // namespace
}  // namespace resdex
