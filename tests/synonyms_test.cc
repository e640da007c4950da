#include "core/synonyms.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <xapian.h>

#include "core/error.h"
#include "core/file_system.h"
#include "core/index_location.h"
#include "core/indexer.h"
#include "core/schema.h"
#include "core/searcher.h"
#include "test_support.h"

namespace resdex {
namespace {

using test::Md;
using test::normalizer;
using test::TempDir;
using Ids = std::vector<std::string>;
using Forms = std::vector<std::string>;  // forms joined by spaces

Synonyms parse(const std::string& text, std::vector<ReadError>* errors = nullptr) {
  std::vector<ReadError> ignored;
  return Synonyms::parse(text, "synonyms.txt", normalizer(), errors ? errors : &ignored);
}

Forms forms(const Synonyms& s, size_t group) {
  Forms out;
  for (const Synonyms::Form& f : s.groups().at(group)) {
    std::string joined;
    for (const std::string& w : f) joined += (joined.empty() ? "" : " ") + w;
    out.push_back(joined);
  }
  return out;
}

TEST_CASE("synonyms: a line is a group of forms separated by '=', folded, comments left out") {
  Synonyms s = parse(
      "# abbreviations\n"
      "\n"
      "UQ = Uncertainty Quantification   # the usual one\n"
      "XAI = explainable AI = Explainable Artificial Intelligence\n"
      "  Noé = Noe\t\n");
  REQUIRE(s.groups().size() == 2);  // "Noé" and "Noe" fold to one form: not a group
  CHECK(forms(s, 0) == Forms{"uq", "uncertainty quantification"});
  CHECK(forms(s, 1) == Forms{"xai", "explainable ai", "explainable artificial intelligence"});
}

TEST_CASE("synonyms: bad lines are reported with their line numbers and the others still apply") {
  std::vector<ReadError> errors;
  Synonyms s = parse(
      "UQ = uncertainty quantification\n"
      "just one form\n"
      "= leading\n"
      "a = = b\n"
      "x = ---\n"
      "a b c d e f g h i = nine words\n"
      "ML = machine learning\n"
      "same = SAME\n"
      "bad \xff byte = b\n",
      &errors);
  CHECK(s.groups().size() == 2);
  std::vector<int> lines;
  for (const ReadError& e : errors) {
    CHECK(e.path == "synonyms.txt");
    CHECK(!e.reason.empty());
    lines.push_back(e.line);
  }
  CHECK(lines == std::vector<int>{2, 3, 4, 5, 6, 8, 9});
  CHECK(errors[0].reason.find("'='") != std::string::npos);
  CHECK(errors[3].reason.find("no words") != std::string::npos);
  CHECK(errors[4].reason.find("9 words") != std::string::npos);
  CHECK(errors[6].reason.find("UTF-8") != std::string::npos);
}

TEST_CASE("synonyms: lines sharing a form join one group, and merge joins files the same way") {
  Synonyms s = parse("PDE = partial differential equation\nPDEs = partial differential equations\n");
  REQUIRE(s.groups().size() == 1);  // the long forms share their stems
  CHECK(forms(s, 0) == Forms{"pde", "partial differential equation", "pdes"});

  // A line that bridges two earlier groups joins all three.
  Synonyms bridged = parse("alpha = beta\ngamma = delta\nepsilon = zeta\nbeta = gamma = eta\n");
  REQUIRE(bridged.groups().size() == 2);
  CHECK(forms(bridged, 0) == Forms{"alpha", "beta", "gamma", "delta", "eta"});
  CHECK(forms(bridged, 1) == Forms{"epsilon", "zeta"});
  REQUIRE(bridged.find({"delta", "zeta"}).size() == 2);
  CHECK(bridged.find({"delta", "zeta"})[0].group == 0);
  CHECK(bridged.find({"delta", "zeta"})[1].group == 1);

  Synonyms other = parse("UQ = uncertainty quantification\nPDE = PDGL\n");
  s.merge(other);
  REQUIRE(s.groups().size() == 2);
  CHECK(forms(s, 0) == Forms{"pde", "partial differential equation", "pdes", "pdgl"});
  CHECK(forms(s, 1) == Forms{"uq", "uncertainty quantification"});
}

TEST_CASE("synonyms: serialize and deserialize give the same groups") {
  Synonyms s = parse("UQ = uncertainty quantification\nXAI = explainable AI = explainable artificial intelligence\n");
  std::string text = s.serialize();
  CHECK(text == "uq\tuncertainty quantification\nxai\texplainable ai\texplainable artificial intelligence\n");
  Synonyms back = Synonyms::deserialize(text);
  CHECK(back.serialize() == text);
  CHECK(Synonyms::deserialize("").empty());
  CHECK(Synonyms().serialize().empty());
  CHECK(Synonyms::deserialize("only-one-form\n\n\t\n").empty());
}

TEST_CASE("synonyms: find takes the longest form, matches stems and never overlaps") {
  Synonyms s = parse("AI = artificial intelligence\nXAI = explainable AI\nPDE = partial differential equation\n");
  auto found = [&](const std::vector<std::string>& words) {
    std::vector<std::string> out;
    for (const Synonyms::Match& m : s.find(words))
      out.push_back(std::to_string(m.begin) + "-" + std::to_string(m.end) + ":" + std::to_string(m.group));
    return out;
  };
  CHECK(found({"ai"}) == Ids{"0-1:0"});
  CHECK(found({"explainable", "ai", "for", "ai"}) == Ids{"0-2:1", "3-4:0"});
  CHECK(found({"partial", "differential", "equations"}) == Ids{"0-3:2"});
  CHECK(found({"partial", "differential"}).empty());
  CHECK(found({"artificial", "intelligence", "ai"}) == Ids{"0-2:0", "2-3:0"});
}

TEST_CASE("synonyms: rewrite_synonyms replaces plain word runs only") {
  Synonyms s = parse("UQ = uncertainty quantification\nML = machine learning\n");
  struct Case {
    std::string query, expected;
  };
  const std::vector<Case> cases = {
      {"uq", "syn:0"},
      {"bayesian uq methods", "bayesian syn:0 methods"},
      {"uncertainty quantification", "syn:0"},
      {"uncertainty  quantifications for ml", "syn:0 for syn:1"},
      {"+uq -ml", "+syn:0 -syn:1"},
      {"(uq OR ml) AND NOT physics", "(syn:0 OR syn:1) AND NOT physics"},
      {"\"uq\" \"machine learning\"", "\"uq\" \"machine learning\""},
      {"title:uq name:ml", "title:uq name:ml"},
      {"uq NEAR bayesian", "uq NEAR bayesian"},
      {"ml ADJ/2 methods uq", "ml ADJ/2 methods syn:0"},
      {"uncertainty-quantification ml*", "uncertainty-quantification ml*"},
      {"+uncertainty quantification", "+uncertainty quantification"},
      {"machine (learning)", "machine (learning)"},
      {"", ""},
  };
  for (const Case& c : cases) {
    INFO("query: ", c.query);
    CHECK(rewrite_synonyms(c.query, s, normalizer(), "syn") == c.expected);
  }
  CHECK(rewrite_synonyms("uq", Synonyms(), normalizer(), "syn") == "uq");
}

// A small corpus whose groups write out what the synonyms abbreviate.
MemoryFileSystem corpus() {
  MemoryFileSystem fs;
  fs.write("corpus/groups/eigel.md",
           Md{.name = "Martin Eigel", .title = "Uncertainty Quantification", .institutions = "WIAS",
              .body = "Random PDEs and Bayesian inverse problems."}
               .str());
  fs.write("corpus/groups/schillings.md",
           Md{.name = "Claudia Schillings", .title = "Inverse Problems", .institutions = "FU Berlin",
              .body = "Optimization and uncertainty quantification for partial differential equations."}
               .str());
  fs.write("corpus/groups/apart.md",
           Md{.name = "Ann Apart", .title = "Scattered Words", .institutions = "ZIB",
              .body = "Uncertainty is everywhere; quantification of risk comes later. A partial view."}
               .str());
  fs.write("corpus/groups/uq.md",
           Md{.name = "Uwe Quast", .title = "UQ Lab", .institutions = "TU Berlin",
              .body = "We do UQ for Partial Differential Equation models."}
               .str());
  fs.write("corpus/synonyms.txt",
           "UQ = uncertainty quantification\nPDE = PDEs = partial differential equation\n");
  return fs;
}

Ids find(const std::string& dir, const std::string& query,
         SearchOptions::Syntax syntax = SearchOptions::Syntax::kQueryLanguage) {
  Searcher searcher(dir);
  SearchOptions o;
  o.query = query;
  o.limit = 100;
  o.syntax = syntax;
  Ids out;
  for (const Hit& h : searcher.search(o).hits) out.push_back(h.doc.id);
  std::sort(out.begin(), out.end());
  return out;
}

TEST_CASE("synonyms: the index stores them and queries find every form, long forms as phrases") {
  TempDir tmp;
  MemoryFileSystem fs = corpus();
  IndexOptions o;
  o.index_dir = tmp.sub("index");
  IndexReport r = update_index(o, fs);
  CHECK(r.failed.empty());
  CHECK(r.synonym_groups == 2);
  CHECK(r.synonyms_changed);

  const Ids uq = {"groups/eigel", "groups/schillings", "groups/uq"};
  CHECK(find(o.index_dir, "UQ") == uq);
  CHECK(find(o.index_dir, "uncertainty quantification") == uq);  // not groups/apart
  CHECK(find(o.index_dir, "Uncertainty Quantifications") == uq);
  CHECK(find(o.index_dir, "uq", SearchOptions::Syntax::kPlainWords) == uq);
  const Ids pde = {"groups/eigel", "groups/schillings", "groups/uq"};
  CHECK(find(o.index_dir, "PDEs") == pde);
  CHECK(find(o.index_dir, "PDE") == pde);
  CHECK(find(o.index_dir, "partial differential equations") == pde);
  // Quoted, a form means itself only.
  CHECK(find(o.index_dir, "\"uq\"") == Ids{"groups/uq"});
  CHECK(find(o.index_dir, "UQ -PDE").empty());
  CHECK(find(o.index_dir, "UQ AND NOT bayesian") == Ids{"groups/schillings", "groups/uq"});
}

TEST_CASE("synonyms: snippets highlight the long form a short one matched") {
  TempDir tmp;
  MemoryFileSystem fs = corpus();
  IndexOptions o;
  o.index_dir = tmp.sub("index");
  update_index(o, fs);
  Searcher searcher(o.index_dir);
  SearchOptions so;
  so.query = "UQ";
  so.types = {"group"};
  so.institutions = {"FU Berlin"};
  SearchResult r = searcher.search(so);
  REQUIRE(r.hits.size() == 1);
  std::vector<std::string> marked;
  for (auto [b, e] : r.hits[0].highlights) marked.push_back(r.hits[0].snippet.substr(b, e - b));
  CHECK(marked == Ids{"uncertainty", "quantification"});
}

TEST_CASE("synonyms: an edit of the file alone updates the index, and a bad line fails while the rest apply") {
  TempDir tmp;
  MemoryFileSystem fs = corpus();
  IndexOptions o;
  o.index_dir = tmp.sub("index");
  update_index(o, fs);

  IndexReport same = update_index(o, fs);
  CHECK_FALSE(same.synonyms_changed);
  CHECK(same.unchanged == 4);

  fs.write("corpus/synonyms.txt", "PDE = PDEs = partial differential equation\nno equals sign here\n");
  IndexReport r = update_index(o, fs);
  CHECK(r.synonyms_changed);
  CHECK(r.synonym_groups == 1);
  CHECK(r.added + r.updated + r.removed == 0);
  REQUIRE(r.failed.size() == 1);
  CHECK(r.failed[0].path == "corpus/synonyms.txt");
  CHECK(r.failed[0].line == 2);
  CHECK(find(o.index_dir, "UQ") == Ids{"groups/uq"});
  CHECK(find(o.index_dir, "PDE").size() == 3);

  fs.remove("corpus/synonyms.txt");
  IndexReport gone = update_index(o, fs);
  CHECK(gone.synonyms_changed);
  CHECK(gone.synonym_groups == 0);
  CHECK(find(o.index_dir, "PDE") == Ids{});
}

TEST_CASE("synonyms: every shard of a sharded index holds them, rebuilt or updated") {
  TempDir tmp;
  MemoryFileSystem fs = corpus();
  IndexOptions o;
  o.index_dir = tmp.sub("index");
  o.shards = 3;
  update_index(o, fs);
  IndexLocation location(o.index_dir);
  auto check_shards = [&](const std::string& expected) {
    std::vector<std::string> shards = location.shards(location.current());
    REQUIRE(shards.size() == 3);
    for (const std::string& shard : shards)
      CHECK(Xapian::Database(shard).get_metadata(schema::kSynonymsKey) == expected);
  };
  check_shards("uq\tuncertainty quantification\npde\tpdes\tpartial differential equation\n");
  CHECK(find(o.index_dir, "UQ") == Ids{"groups/eigel", "groups/schillings", "groups/uq"});

  o.shards = 0;
  fs.write("corpus/synonyms.txt", "UQ = uncertainty quantification\n");
  update_index(o, fs);
  check_shards("uq\tuncertainty quantification\n");
}

TEST_CASE("synonyms: explicit files replace the corpus one, and a missing one is kNotFound") {
  TempDir tmp;
  MemoryFileSystem fs = corpus();
  fs.write("extra.txt", "Noé = Quast\n");
  IndexOptions o;
  o.index_dir = tmp.sub("index");
  o.synonyms_paths = {"extra.txt"};
  CHECK(synonyms_paths(o) == Ids{"extra.txt"});
  IndexReport r = update_index(o, fs);
  CHECK(r.synonym_groups == 1);
  CHECK(find(o.index_dir, "noe") == Ids{"groups/uq"});
  CHECK(find(o.index_dir, "UQ") == Ids{"groups/uq"});

  o.synonyms_paths = {"missing.txt"};
  try {
    update_index(o, fs);
    FAIL("expected kNotFound");
  } catch (const Error& e) {
    CHECK(e.kind() == Error::Kind::kNotFound);
  }
  CHECK(find(o.index_dir, "noe") == Ids{"groups/uq"});  // left as it was

  IndexOptions defaults;
  defaults.corpus_paths = {"corpus/", "one.md", "data.jsonl"};
  CHECK(synonyms_paths(defaults) == Ids{"corpus/synonyms.txt"});
}

}  // namespace
}  // namespace resdex
