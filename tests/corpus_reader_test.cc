#include "core/corpus_reader.h"

#include <doctest/doctest.h>

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

}  // namespace
}  // namespace resdex
