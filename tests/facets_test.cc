#include "core/facets.h"

#include <doctest/doctest.h>

#include <string>
#include <iterator>
#include <utility>
#include <vector>

#include "core/facet_dictionary.h"
#include "core/file_system.h"
#include "core/indexer.h"
#include "core/schema.h"
#include "core/searcher.h"
#include "test_support.h"

namespace resdex {
namespace {

using test::Md;
using test::TempDir;

using ListCounts = std::vector<std::pair<std::string, size_t>>;
using Counts = std::vector<std::pair<std::string, size_t>>;

Counts as_pairs(const std::vector<FacetCount>& counts) {
  Counts out;
  for (const FacetCount& c : counts) out.emplace_back(c.value, c.count);
  return out;
}

std::string list(const std::vector<std::string>& values) { return schema::encode_list(values); }

TEST_CASE("facets: decode_facets gives back the lists encode_facets joined") {
  const std::vector<std::string> lists = {list({"ZIB", "TU Berlin"}), "", "2019"};
  const std::string encoded = schema::encode_facets(lists);
  const auto parts = schema::decode_facets(encoded);
  REQUIRE(parts.size() == lists.size());
  for (size_t i = 0; i < lists.size(); ++i) CHECK(parts[i] == lists[i]);
  // No value (every facet empty) and a value cut short: "" for the rest.
  for (std::string_view p : schema::decode_facets("")) CHECK(p.empty());
  const auto short_value = schema::decode_facets("ZIB");
  CHECK(short_value[0] == "ZIB");
  CHECK(short_value[1].empty());
  CHECK(short_value[2].empty());
}

TEST_CASE("facets: split_list_counts") {
  struct Case {
    std::string what;
    ListCounts lists;
    Counts expected;
  };
  const std::vector<Case> cases = {
      {"nothing", {}, {}},
      {"single values", {{"ZIB", 2}, {"FU Berlin", 1}}, {{"ZIB", 2}, {"FU Berlin", 1}}},
      {"a document with two institutions counts under both",
       {{list({"TU Berlin", "ZIB"}), 1}, {"ZIB", 1}},
       {{"ZIB", 2}, {"TU Berlin", 1}}},
      {"lists are summed by their counts",
       {{list({"TU Berlin", "ZIB"}), 3}, {list({"ZIB", "FU Berlin"}), 2}, {"HU Berlin", 4}},
       {{"ZIB", 5}, {"HU Berlin", 4}, {"TU Berlin", 3}, {"FU Berlin", 2}}},
      {"a duplicate value in one list counts once",
       {{list({"ZIB", "ZIB"}), 1}, {list({"ZIB", "TU Berlin", "ZIB"}), 2}},
       {{"ZIB", 3}, {"TU Berlin", 2}}},
      {"ties are sorted by value", {{"b", 1}, {"c", 2}, {"a", 1}, {"d", 2}},
       {{"c", 2}, {"d", 2}, {"a", 1}, {"b", 1}}},
      {"ties sorted bytewise, not by input order",
       {{list({"Zeta", "alpha"}), 1}, {list({"Beta"}), 1}},
       {{"Beta", 1}, {"Zeta", 1}, {"alpha", 1}}},
      {"empty lists and empty values are ignored",
       {{"", 7}, {list({"", "ZIB"}), 1}},
       {{"ZIB", 1}}},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    CHECK(as_pairs(split_list_counts(c.lists)) == c.expected);
  }
}

// How an index holds facet values: one slot per facet (schema versions 1
// and 2), that and the slot of all facets (3 to 5), only the latter (6 and
// 7), or the latter as ids of a dictionary in the metadata (8 on).
enum class Layout { kPerFacet, kBoth, kCombined, kIds };

// Documents with lists of facet values, written straight to Xapian:
// repeats within a list, empty values, neighbours with the same list, and
// documents without some facet.
void write_facet_db(const std::string& path, unsigned seed, Layout layout, FacetDictionary* ids) {
  Xapian::WritableDatabase db(path, Xapian::DB_CREATE_OR_OVERWRITE);
  const std::vector<std::string> names = {"ZIB", "TU Berlin", "FU Berlin", "HU Berlin", "WIAS", ""};
  unsigned x = seed;
  auto next = [&] { return x = x * 1103515245u + 12345u, (x >> 16) % 1000; };
  for (int i = 0; i < 300; ++i) {
    Xapian::Document doc;
    doc.add_term(i % 3 ? "Zlearn" : "Zother");
    std::vector<std::string> inst;
    for (unsigned k = 0, n = next() % 4; k < n; ++k) inst.push_back(names[next() % names.size()]);
    std::vector<std::string> facets(std::size(schema::kFacets));
    for (size_t f = 0; f < std::size(schema::kFacets); ++f) {
      switch (schema::kFacets[f].id) {
        case schema::FacetId::kInstitution:
          facets[f] = schema::encode_list(inst);
          break;
        case schema::FacetId::kArea:
          if (next() % 5) facets[f] = schema::encode_list({names[(i / 7) % 5]});
          break;
        case schema::FacetId::kYear:
          facets[f] = std::to_string(2000 + (i / 10) % 7);
          break;
      }
      if (layout == Layout::kPerFacet || layout == Layout::kBoth)
        doc.add_value(schema::kFacets[f].legacy_slot, facets[f]);
    }
    if (layout == Layout::kBoth || layout == Layout::kCombined)
      doc.add_value(schema::kSlotFacets, schema::encode_facets(facets));
    if (layout == Layout::kIds) {
      FacetValues values;
      for (size_t f = 0; f < kFacetCount; ++f) values[f] = schema::decode_list(facets[f]);
      doc.add_value(schema::kSlotFacets, ids->encode(values));
    }
    db.add_document(doc);
  }
  db.commit();
}

std::vector<FacetCounts> count_with(const Xapian::Database& db, FacetCounter::Mode mode,
                                    const Xapian::Query& query, size_t limit) {
  Xapian::Enquire enquire(db);
  enquire.set_query(query);
  FacetCounter counter(db, mode);
  counter.attach(enquire);
  enquire.get_mset(0, 0, db.get_doccount());
  return counter.counts(limit);
}

TEST_CASE("facets: resdex's own spy counts as Xapian's built-in spies do") {
  for (Layout layout : {Layout::kPerFacet, Layout::kBoth, Layout::kCombined, Layout::kIds}) {
    INFO("layout: " << static_cast<int>(layout));
    TempDir tmp;
    // Written as resdex writes shards: one dictionary for both, stored
    // whole in each once every document is in.
    FacetDictionary ids;
    write_facet_db(tmp.sub("a"), 1, layout, &ids);
    write_facet_db(tmp.sub("b"), 2, layout, &ids);
    if (layout == Layout::kIds)
      for (const char* name : {"a", "b"}) {
        Xapian::WritableDatabase db(tmp.sub(name), Xapian::DB_OPEN);
        ids.store(db);
        db.set_metadata(schema::kVersionKey, "8");
        db.commit();
      }
    Xapian::Database one(tmp.sub("a"));
    Xapian::Database two;  // two databases searched as one: docids interleave
    two.add_database(Xapian::Database(tmp.sub("a")));
    two.add_database(Xapian::Database(tmp.sub("b")));
    for (const Xapian::Database* db : {&one, &two}) {
      for (const Xapian::Query& q : {Xapian::Query("Zlearn"), Xapian::Query::MatchAll}) {
        for (size_t limit : {0, 2}) {
          INFO("databases: " << db->size() << ", query: " << q.get_description() << ", limit " << limit);
          auto local = count_with(*db, FacetCounter::Mode::kLocal, q, limit);
          auto builtin = count_with(*db, FacetCounter::Mode::kBuiltIn, q, limit);
          REQUIRE(local.size() == std::size(schema::kFacets));
          REQUIRE(builtin.size() == local.size());
          for (size_t i = 0; i < local.size(); ++i) {
            CHECK(local[i].name == builtin[i].name);
            CHECK(!local[i].counts.empty());
            CHECK(as_pairs(local[i].counts) == as_pairs(builtin[i].counts));
            if (limit) CHECK(local[i].counts.size() <= limit);
          }
        }
      }
    }
  }
}

// Five groups: institutions and areas overlap, one has two of each.
struct SmallIndex {
  TempDir tmp;
  std::string dir = tmp.sub("index");

  SmallIndex() {
    MemoryFileSystem fs;
    fs.write("c/a.md", Md{.name = "Anna A", .title = "Learning one", .institutions = "TU Berlin, ZIB",
                          .areas = "Optimization for AI, Foundations of AI", .body = "learning"}
                           .str());
    fs.write("c/b.md", Md{.name = "Bert B", .title = "Learning two", .institutions = "ZIB",
                          .areas = "Optimization for AI", .body = "learning"}
                           .str());
    fs.write("c/c.md", Md{.name = "Carl C", .title = "Learning three", .institutions = "FU Berlin",
                          .areas = "Foundations of AI", .body = "learning"}
                           .str());
    fs.write("c/d.md", Md{.name = "Dora D", .title = "Learning four",
                          .institutions = "Zuse Institute Berlin",  // the same as ZIB
                          .areas = "AI-based Data Analysis", .body = "learning"}
                           .str());
    fs.write("c/e.md", Md{.name = "Emil E", .title = "Something else", .institutions = "HU Berlin",
                          .areas = "AI for Dynamical Systems", .body = "dynamics"}
                           .str());
    IndexOptions o;
    o.corpus_paths = {"c"};
    o.index_dir = dir;
    REQUIRE(update_index(o, fs).documents == 5);
  }
};

const FacetCounts& facet_named(const SearchResult& r, const std::string& name) {
  for (const FacetCounts& f : r.facets)
    if (f.name == name) return f;
  FAIL("no facet " << name);
  throw 0;
}

TEST_CASE("facets: counts are over all matches, not just the page") {
  SmallIndex idx;
  Searcher s(idx.dir);
  SearchOptions o;
  o.query = "learning";
  o.limit = 1;
  SearchResult r = s.search(o);
  CHECK(r.total == 4);
  CHECK(r.hits.size() == 1);
  // One entry per facet of the schema, in schema order.
  REQUIRE(r.facets.size() == std::size(schema::kFacets));
  for (size_t i = 0; i < r.facets.size(); ++i) CHECK(r.facets[i].name == schema::kFacets[i].name);
  CHECK(as_pairs(facet_named(r, "institution").counts) ==
        Counts{{"ZIB", 3}, {"FU Berlin", 1}, {"TU Berlin", 1}});
  CHECK(as_pairs(facet_named(r, "area").counts) ==
        Counts{{"Foundations of AI", 2}, {"Optimization for AI", 2}, {"AI-based Data Analysis", 1}});

  // A later page has the same counts.
  o.offset = 3;
  SearchResult last = s.search(o);
  CHECK(last.hits.size() == 1);
  CHECK(as_pairs(facet_named(last, "institution").counts) ==
        as_pairs(facet_named(r, "institution").counts));
  // A page past the end still counts every match.
  o.offset = 10;
  SearchResult past = s.search(o);
  CHECK(past.hits.empty());
  CHECK(past.total == 4);
  CHECK(as_pairs(facet_named(past, "area").counts) == as_pairs(facet_named(r, "area").counts));
}

TEST_CASE("facets: counts over everything and under filters") {
  SmallIndex idx;
  Searcher s(idx.dir);
  SearchOptions o;
  o.limit = 0;
  SearchResult all = s.search(o);
  CHECK(all.total == 5);
  CHECK(as_pairs(facet_named(all, "institution").counts) ==
        Counts{{"ZIB", 3}, {"FU Berlin", 1}, {"HU Berlin", 1}, {"TU Berlin", 1}});

  o.institutions = {"zib"};
  SearchResult zib = s.search(o);
  CHECK(zib.total == 3);
  // Facets count the filtered matches: a's other institution shows up.
  CHECK(as_pairs(facet_named(zib, "institution").counts) == Counts{{"ZIB", 3}, {"TU Berlin", 1}});
  CHECK(as_pairs(facet_named(zib, "area").counts) ==
        Counts{{"Optimization for AI", 2}, {"AI-based Data Analysis", 1}, {"Foundations of AI", 1}});
}

TEST_CASE("facets: no matches give empty counts, facets off gives none") {
  SmallIndex idx;
  Searcher s(idx.dir);
  SearchOptions o;
  o.query = "nonexistentword";
  SearchResult r = s.search(o);
  CHECK(r.total == 0);
  REQUIRE(r.facets.size() == std::size(schema::kFacets));
  for (const FacetCounts& f : r.facets) CHECK(f.counts.empty());

  o.query = "learning";
  o.facets = false;
  CHECK(s.search(o).facets.empty());
}

}  // namespace
}  // namespace resdex
