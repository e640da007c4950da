#include "core/indexer.h"

#include <doctest/doctest.h>

#include <xapian.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/file_system.h"
#include "core/index_location.h"
#include "core/schema.h"
#include "core/searcher.h"
#include "test_support.h"

namespace resdex {
namespace {

using test::Md;
using test::TempDir;

// Three groups and an area, in corpus/.
MemoryFileSystem sample_corpus() {
  MemoryFileSystem fs;
  fs.write("corpus/groups/conrad.md",
           Md{.name = "Tim Conrad",
              .title = "Mathematical Data Science and AI in Health",
              .institutions = "ZIB",
              .areas = "AI-based Data Analysis",
              .body = "We simulate epidemics and detect biomarkers."}
               .str());
  fs.write("corpus/groups/mueller.md",
           Md{.name = "Klaus-Robert Müller",
              .title = "Advanced Machine Learning and Applications",
              .institutions = "TU Berlin",
              .areas = "Foundations of AI",
              .body = "Explainable AI and digital pathology."}
               .str());
  fs.write("corpus/groups/pokutta.md",
           Md{.name = "Sebastian Pokutta",
              .title = "Mathematical Optimization",
              .institutions = "TU Berlin, ZIB",
              .areas = "Optimization for AI",
              .body = "Optimization integrated with machine learning."}
               .str());
  fs.write("corpus/areas/foundations.md",
           Md{.type = "area", .name = "Foundations of AI", .body = "Theory of learning."}.str());
  fs.write("corpus/README.md", "How to edit the corpus.\n");
  return fs;
}

struct Fixture {
  TempDir tmp;
  MemoryFileSystem fs = sample_corpus();
  IndexOptions options;

  Fixture() {
    options.corpus_paths = {"corpus"};
    options.index_dir = tmp.sub("index");
  }

  IndexReport run() { return update_index(options, fs); }

  // Ids of the documents matching `query`, in rank order.
  std::vector<std::string> find(const std::string& query) {
    Searcher searcher(options.index_dir);
    SearchOptions so;
    so.query = query;
    so.limit = 100;
    std::vector<std::string> ids;
    for (const Hit& h : searcher.search(so).hits) ids.push_back(h.doc.id);
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  std::vector<std::string> all_ids() { return find(""); }
};

using Ids = std::vector<std::string>;
const Ids kAllIds = {"areas/foundations", "groups/conrad", "groups/mueller", "groups/pokutta"};

TEST_CASE("indexer: the first run adds every document") {
  Fixture f;
  IndexReport r = f.run();
  CHECK(r.added == 4);
  CHECK(r.updated == 0);
  CHECK(r.removed == 0);
  CHECK(r.unchanged == 0);
  CHECK(r.failed.empty());
  CHECK(r.documents == 4);
  CHECK_FALSE(r.rebuilt);
  CHECK(r.rebuild_reason.empty());
  CHECK(IndexLocation(f.options.index_dir).exists());
  CHECK(f.all_ids() == kAllIds);
}

TEST_CASE("indexer: a second run leaves everything unchanged") {
  Fixture f;
  f.run();
  IndexReport r = f.run();
  CHECK(r.added == 0);
  CHECK(r.updated == 0);
  CHECK(r.removed == 0);
  CHECK(r.unchanged == 4);
  CHECK(r.failed.empty());
  CHECK(r.documents == 4);
  CHECK_FALSE(r.rebuilt);
}

TEST_CASE("indexer: an edited file replaces its document") {
  Fixture f;
  f.run();
  CHECK(f.find("pathology") == Ids{"groups/mueller"});
  f.fs.write("corpus/groups/mueller.md",
             Md{.name = "Klaus-Robert Müller",
                .title = "Advanced Machine Learning and Applications",
                .institutions = "TU Berlin",
                .body = "Wearable neurotechnology."}
                 .str());
  IndexReport r = f.run();
  CHECK(r.updated == 1);
  CHECK(r.added == 0);
  CHECK(r.removed == 0);
  CHECK(r.unchanged == 3);
  CHECK(r.documents == 4);
  CHECK(f.find("pathology").empty());
  CHECK(f.find("neurotechnology") == Ids{"groups/mueller"});
  Searcher s(f.options.index_dir);
  CHECK(s.get("groups/mueller").text == "Wearable neurotechnology.");
  CHECK(s.get("groups/mueller").areas.empty());
}

TEST_CASE("indexer: a new file is added") {
  Fixture f;
  f.run();
  f.fs.write("corpus/groups/noe.md", Md{.name = "Frank Noé",
                                        .title = "Artificial Intelligence for the Sciences",
                                        .institutions = "FU Berlin",
                                        .body = "Molecular physics."}
                                         .str());
  IndexReport r = f.run();
  CHECK(r.added == 1);
  CHECK(r.updated == 0);
  CHECK(r.removed == 0);
  CHECK(r.unchanged == 4);
  CHECK(r.documents == 5);
  CHECK(f.find("molecular") == Ids{"groups/noe"});
}

TEST_CASE("indexer: a deleted file is removed") {
  Fixture f;
  f.run();
  f.fs.remove("corpus/groups/conrad.md");
  IndexReport r = f.run();
  CHECK(r.removed == 1);
  CHECK(r.added == 0);
  CHECK(r.updated == 0);
  CHECK(r.unchanged == 3);
  CHECK(r.documents == 3);
  CHECK(f.find("epidemics").empty());
  Searcher s(f.options.index_dir);
  CHECK_THROWS_AS(s.get("groups/conrad"), Error);
}

TEST_CASE("indexer: a broken edit keeps the old version until it is fixed") {
  Fixture f;
  f.run();
  const std::string path = "corpus/groups/conrad.md";
  // Line 4 of the file is malformed YAML.
  f.fs.write(path,
             "---\ntype: group\nname: Tim Conrad\ntitle: broken: yes\ninstitutions: [ZIB]\n---\n"
             "New text about vaccines.\n");
  IndexReport r = f.run();
  REQUIRE(r.failed.size() == 1);
  CHECK(r.failed[0].path == path);
  CHECK(r.failed[0].line == 4);
  CHECK_FALSE(r.failed[0].reason.empty());
  CHECK(r.updated == 0);
  CHECK(r.removed == 0);
  CHECK(r.unchanged == 3);
  CHECK(r.documents == 4);
  // The last good version is still there and searchable.
  CHECK(f.find("epidemics") == Ids{"groups/conrad"});
  CHECK(f.find("vaccines").empty());
  {
    Searcher s(f.options.index_dir);
    CHECK(s.get("groups/conrad").title == "Mathematical Data Science and AI in Health");
  }

  // A later run reports it again and still keeps it.
  IndexReport again = f.run();
  REQUIRE(again.failed.size() == 1);
  CHECK(again.failed[0].path == path);
  CHECK(again.removed == 0);
  CHECK(f.find("epidemics") == Ids{"groups/conrad"});

  // Fixing it updates it.
  f.fs.write(path, Md{.name = "Tim Conrad",
                      .title = "Fixed Title",
                      .institutions = "ZIB",
                      .body = "New text about vaccines."}
                       .str());
  IndexReport fixed = f.run();
  CHECK(fixed.failed.empty());
  CHECK(fixed.updated == 1);
  CHECK(fixed.unchanged == 3);
  CHECK(f.find("vaccines") == Ids{"groups/conrad"});
  CHECK(f.find("epidemics").empty());
  Searcher s(f.options.index_dir);
  CHECK(s.get("groups/conrad").title == "Fixed Title");
}

TEST_CASE("indexer: a broken new file is reported and not added") {
  Fixture f;
  f.fs.write("corpus/groups/bad.md", "---\ntype: group\nname: Bad\n---\nno title\n");
  IndexReport r = f.run();
  CHECK(r.added == 4);
  REQUIRE(r.failed.size() == 1);
  CHECK(r.failed[0].path == "corpus/groups/bad.md");
  CHECK(r.failed[0].line == 1);
  CHECK(r.documents == 4);
  CHECK(f.all_ids() == kAllIds);
}

TEST_CASE("indexer: invalid UTF-8 in an edit reports the line of the bad byte") {
  Fixture f;
  f.run();
  const std::string path = "corpus/areas/foundations.md";
  f.fs.write(path, "---\ntype: area\nname: Foundations of AI\n---\nTheory\nof le\xC3rning.\n");
  IndexReport r = f.run();
  REQUIRE(r.failed.size() == 1);
  CHECK(r.failed[0].path == path);
  CHECK(r.failed[0].line == 6);
  CHECK(f.find("theory") == Ids{"areas/foundations"});
}

TEST_CASE("indexer: a duplicate id under two roots is reported") {
  Fixture f;
  f.fs.write("extra/groups/conrad.md", Md{.name = "Another Conrad",
                                          .title = "Duplicate",
                                          .institutions = "FU Berlin",
                                          .body = "Shadowed text."}
                                           .str());
  f.options.corpus_paths = {"corpus", "extra"};
  IndexReport r = f.run();
  CHECK(r.added == 4);
  REQUIRE(r.failed.size() == 1);
  CHECK(r.failed[0].path == "extra/groups/conrad.md");
  CHECK(r.failed[0].reason.find("duplicate id 'groups/conrad'") != std::string::npos);
  CHECK(r.failed[0].reason.find("corpus/groups/conrad.md") != std::string::npos);
  CHECK(r.documents == 4);
  // The first root wins.
  CHECK(f.find("shadowed").empty());
  CHECK(f.find("epidemics") == Ids{"groups/conrad"});

  // Also on a later run, when the first one is unchanged.
  IndexReport again = f.run();
  CHECK(again.unchanged == 4);
  REQUIRE(again.failed.size() == 1);
  CHECK(again.failed[0].path == "extra/groups/conrad.md");
}

TEST_CASE("indexer: a corpus path that does not exist throws kNotFound and changes nothing") {
  Fixture f;
  f.run();
  f.options.corpus_paths = {"corpus", "missing"};
  try {
    f.run();
    FAIL("update_index did not throw");
  } catch (const Error& e) {
    CHECK(e.kind() == Error::Kind::kNotFound);
  }
  CHECK(f.all_ids() == kAllIds);
}

TEST_CASE("indexer: rebuild gives the same documents in one fresh generation") {
  Fixture f;
  f.run();
  f.run();
  const Ids before = f.all_ids();
  const std::string old_generation = IndexLocation(f.options.index_dir).current();

  f.options.rebuild = true;
  IndexReport r = f.run();
  CHECK(r.rebuilt);
  CHECK(r.rebuild_reason.empty());
  CHECK(r.added == 4);
  CHECK(r.documents == 4);
  CHECK(r.failed.empty());
  CHECK(f.all_ids() == before);

  const std::string current = IndexLocation(f.options.index_dir).current();
  CHECK(current != old_generation);
  const std::vector<std::string> names = test::list_dir(f.options.index_dir);
  REQUIRE(names.size() == 2);
  CHECK(names[0] == "XAPIANDB");
  CHECK(names[1].rfind("db-", 0) == 0);
  CHECK(f.options.index_dir + "/" + names[1] == current);

  // Searches still work the same way.
  CHECK(f.find("muller") == Ids{"groups/mueller"});
  CHECK(f.find("institution:zib") == Ids{"groups/conrad", "groups/pokutta"});

  // A second rebuild again leaves one generation.
  IndexReport r2 = f.run();
  CHECK(r2.rebuilt);
  CHECK(test::list_dir(f.options.index_dir).size() == 2);
}

TEST_CASE("indexer: rebuild with one or several writer threads gives the same index") {
  for (unsigned threads : {1u, 3u}) {
    INFO("threads ", threads);
    Fixture f;
    f.options.threads = threads;
    IndexReport first = f.run();  // a first build also writes a whole generation
    CHECK(first.added == 4);
    CHECK(first.documents == 4);
    f.options.rebuild = true;
    IndexReport r = f.run();
    CHECK(r.rebuilt);
    CHECK(r.added == 4);
    CHECK(r.documents == 4);
    CHECK(f.all_ids() == kAllIds);
    CHECK(test::list_dir(f.options.index_dir).size() == 2);
    CHECK(f.find("mueller") == Ids{"groups/mueller"});
    CHECK(f.find("\"machine learning\"") == Ids{"groups/mueller", "groups/pokutta"});
    CHECK(f.find("area:\"foundations of ai\"") == Ids{"groups/mueller"});
    {
      Xapian::Database db(f.options.index_dir);
      CHECK(db.get_metadata(schema::kVersionKey) == std::to_string(schema::kVersion));
    }
    // Spelling data survives the merge of the shards.
    Searcher s(f.options.index_dir);
    SearchOptions so;
    so.query = "pathalogy";
    CHECK(s.search(so).corrected_query == std::optional<std::string>("pathology"));
    // And the rebuilt index is updated incrementally afterwards.
    f.options.rebuild = false;
    f.fs.remove("corpus/groups/pokutta.md");
    IndexReport next = f.run();
    CHECK(next.removed == 1);
    CHECK(next.unchanged == 3);
  }
}

TEST_CASE("indexer: spelling suggestions follow edits and removals") {
  Fixture f;
  f.run();
  auto suggestion = [&](const std::string& query) {
    Searcher s(f.options.index_dir);
    SearchOptions so;
    so.query = query;
    return s.search(so).corrected_query;
  };
  CHECK(suggestion("pathalogy") == std::optional<std::string>("pathology"));
  CHECK(suggestion("vacines") == std::nullopt);

  // An edit takes the old words out of the spelling data and puts the new ones in.
  f.fs.write("corpus/groups/mueller.md",
             Md{.name = "Klaus-Robert Müller",
                .title = "Advanced Machine Learning and Applications",
                .institutions = "TU Berlin",
                .body = "Research on vaccines."}
                 .str());
  REQUIRE(f.run().updated == 1);
  CHECK(suggestion("pathalogy") == std::nullopt);
  CHECK(suggestion("vacines") == std::optional<std::string>("vaccines"));

  // A removal takes its words out; words other documents still hold stay.
  f.fs.remove("corpus/groups/mueller.md");
  REQUIRE(f.run().removed == 1);
  CHECK(suggestion("vacines") == std::nullopt);
  CHECK(suggestion("epidemis") == std::optional<std::string>("epidemics"));
}

TEST_CASE("indexer: a first run with rebuild set is not reported as a rebuild") {
  Fixture f;
  f.options.rebuild = true;
  IndexReport r = f.run();
  CHECK_FALSE(r.rebuilt);
  CHECK(r.added == 4);
  CHECK(f.all_ids() == kAllIds);
}

TEST_CASE("indexer: another schema version makes the index rebuild itself") {
  Fixture f;
  f.run();
  const std::string generation = IndexLocation(f.options.index_dir).current();
  REQUIRE_FALSE(generation.empty());
  {
    Xapian::WritableDatabase db(generation, Xapian::DB_OPEN);
    CHECK(db.get_metadata(schema::kVersionKey) == std::to_string(schema::kVersion));
    db.set_metadata(schema::kVersionKey, "0");
    db.commit();
  }
  IndexReport r = f.run();
  CHECK(r.rebuilt);
  CHECK_FALSE(r.rebuild_reason.empty());
  CHECK(r.rebuild_reason.find("0") != std::string::npos);
  CHECK(r.added == 4);
  CHECK(r.documents == 4);
  CHECK(f.all_ids() == kAllIds);

  const std::string now = IndexLocation(f.options.index_dir).current();
  CHECK(now != generation);
  CHECK(test::list_dir(f.options.index_dir).size() == 2);
  {
    Xapian::Database db(f.options.index_dir);
    CHECK(db.get_metadata(schema::kVersionKey) == std::to_string(schema::kVersion));
  }
  // And the next run is incremental again.
  IndexReport next = f.run();
  CHECK_FALSE(next.rebuilt);
  CHECK(next.rebuild_reason.empty());
  CHECK(next.unchanged == 4);
}

TEST_CASE("indexer: an index without a schema version is rebuilt") {
  Fixture f;
  f.run();
  {
    Xapian::WritableDatabase db(IndexLocation(f.options.index_dir).current(), Xapian::DB_OPEN);
    db.set_metadata(schema::kVersionKey, "");
    db.commit();
  }
  IndexReport r = f.run();
  CHECK(r.rebuilt);
  CHECK(r.rebuild_reason.find("unknown") != std::string::npos);
  CHECK(f.all_ids() == kAllIds);
}

void check_locked(Fixture& f) {
  try {
    f.run();
    FAIL("update_index did not throw");
  } catch (const Error& e) {
    CHECK(e.kind() == Error::Kind::kLocked);
  }
}

TEST_CASE("indexer: a second writer makes update_index throw kLocked") {
  Fixture f;
  f.run();
  const std::string generation = IndexLocation(f.options.index_dir).current();
  f.fs.remove("corpus/groups/conrad.md");
  {
    Xapian::WritableDatabase holder(generation, Xapian::DB_OPEN);
    check_locked(f);
    f.options.rebuild = true;
    check_locked(f);
    f.options.rebuild = false;
  }
  // Nothing changed while locked; once released, the run goes through.
  CHECK(f.all_ids() == kAllIds);
  CHECK(IndexLocation(f.options.index_dir).current() == generation);
  IndexReport r = f.run();
  CHECK(r.removed == 1);
}

TEST_CASE("indexer: documents get the fields of their source") {
  Fixture f;
  f.run();
  Searcher s(f.options.index_dir);
  Document d = s.get("groups/pokutta");
  CHECK(d.id == "groups/pokutta");
  CHECK(d.type == "group");
  CHECK(d.name == "Sebastian Pokutta");
  CHECK(d.title == "Mathematical Optimization");
  CHECK(d.institutions == std::vector<std::string>{"TU Berlin", "ZIB"});
  CHECK(d.areas == std::vector<std::string>{"Optimization for AI"});
  CHECK(d.path == "corpus/groups/pokutta.md");
  CHECK(d.text == "Optimization integrated with machine learning.");
  CHECK(s.document_count() == 4);
}

}  // namespace
}  // namespace resdex
