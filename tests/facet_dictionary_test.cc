#include "core/facet_dictionary.h"

#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

#include "test_support.h"

namespace resdex {
namespace {

using test::TempDir;

FacetValues values(std::vector<std::string> institutions, std::vector<std::string> areas,
                   std::vector<std::string> years) {
  FacetValues v;
  for (size_t f = 0; f < kFacetCount; ++f) {
    switch (schema::kFacets[f].id) {
      case schema::FacetId::kInstitution: v[f] = institutions; break;
      case schema::FacetId::kArea: v[f] = areas; break;
      case schema::FacetId::kYear: v[f] = years; break;
    }
  }
  return v;
}

TEST_CASE("facet_dictionary: ids are given in the order values are first met, per facet") {
  FacetDictionary d;
  CHECK(d.id(0, "ZIB") == 0);
  CHECK(d.id(0, "TU Berlin") == 1);
  CHECK(d.id(0, "ZIB") == 0);
  CHECK(d.id(1, "ZIB") == 0);  // facets number their values apart
  CHECK(d.size(0) == 2);
  CHECK(d.size(1) == 1);
  CHECK(d.value(0, 1) == "TU Berlin");
  CHECK(d.value(0, 2) == "");  // unknown id
}

TEST_CASE("facet_dictionary: a slot value gives back the values, each once, in their order") {
  FacetDictionary d;
  const FacetValues v = values({"TU Berlin", "ZIB", "TU Berlin"}, {"Optimization for AI"}, {"2021"});
  const std::string slot = d.encode(v);
  CHECK(slot.size() == 7);  // count and ids, a byte each
  CHECK(d.values(slot) == values({"TU Berlin", "ZIB"}, {"Optimization for AI"}, {"2021"}));
  // No facet values at all: no slot value. Control characters are dropped
  // as schema::encode_list drops them, and a value of nothing else with them.
  CHECK(d.encode(values({}, {}, {})).empty());
  CHECK(d.values(d.encode(values({"Z\x1fIB", "\x01"}, {}, {}))) == values({"ZIB"}, {}, {}));
}

TEST_CASE("facet_dictionary: ids past one byte, and damaged slot values") {
  FacetDictionary d;
  for (int i = 0; i < 20000; ++i) d.id(0, "value " + std::to_string(i));
  const std::string slot = d.encode(values({"value 19999", "value 5"}, {}, {"1999"}));
  const FacetIds ids = decode_facet_ids(slot);
  CHECK(ids[0] == std::vector<uint32_t>{19999, 5});
  CHECK(d.values(slot) == values({"value 19999", "value 5"}, {}, {"1999"}));
  // Cut anywhere, or a count past what follows: what could be read, no more.
  for (size_t cut = 0; cut < slot.size(); ++cut) {
    INFO("cut at ", cut);
    const FacetIds part = decode_facet_ids(slot.substr(0, cut));
    CHECK(part[0].size() <= 2);
  }
  CHECK(decode_facet_ids(std::string("\x7f\x01", 2))[0] == std::vector<uint32_t>{1});
  CHECK(decode_facet_ids(std::string(8, '\xff'))[0].empty());
}

TEST_CASE("facet_dictionary: stored in the metadata and loaded back, new ids follow on") {
  TempDir tmp;
  FacetDictionary d;
  const std::string slot = d.encode(values({"ZIB", "HU Berlin"}, {"Foundations of AI"}, {"2020", "2019"}));
  {
    Xapian::WritableDatabase db(tmp.sub("db"), Xapian::DB_CREATE);
    d.store(db);
    db.commit();
    CHECK_FALSE(FacetDictionary::holds_ids(db));  // no version key: an old index
    db.set_metadata(schema::kVersionKey, std::to_string(schema::kVersion));
    db.commit();
    CHECK(FacetDictionary::holds_ids(db));
  }
  FacetDictionary loaded = FacetDictionary::load(Xapian::Database(tmp.sub("db")));
  for (size_t f = 0; f < kFacetCount; ++f) CHECK(loaded.size(f) == d.size(f));
  CHECK(loaded.values(slot) == d.values(slot));
  CHECK(loaded.id(0, "HU Berlin") == d.id(0, "HU Berlin"));
  CHECK(loaded.id(0, "WIAS") == 2);
}

TEST_CASE("facet_dictionary: FacetLookup reads ranks in value order and values across entries") {
  TempDir tmp;
  FacetDictionary d;
  std::vector<std::string> names;
  for (int i = 0; i < 200; ++i) names.push_back("v" + std::to_string((i * 37) % 200));  // not in order
  for (const std::string& n : names) d.id(0, n);
  d.id(2, "2020");
  {
    Xapian::WritableDatabase db(tmp.sub("db"), Xapian::DB_CREATE);
    d.store(db);
    db.commit();
  }
  FacetLookup lookup{Xapian::Database(tmp.sub("db"))};
  REQUIRE(lookup.size(0) == 200);
  CHECK(lookup.size(1) == 0);
  CHECK(lookup.size(2) == 1);
  for (uint32_t a = 0; a < 200; ++a) {
    INFO("id ", a);
    CHECK(lookup.value(0, a) == names[a]);  // ids 0-63, 64-127, ... are separate entries
    if (a > 0) CHECK((lookup.rank(0, a - 1) < lookup.rank(0, a)) == (names[a - 1] < names[a]));
  }
  CHECK(lookup.value(0, 200) == "");
  CHECK(lookup.value(2, 0) == "2020");
}

TEST_CASE("facet_dictionary: an update stores only the entries that hold new ids") {
  TempDir tmp;
  FacetDictionary d;
  for (int i = 0; i < 70; ++i) d.id(0, "v" + std::to_string(i));
  {
    Xapian::WritableDatabase db(tmp.sub("a"), Xapian::DB_CREATE);
    d.store(db);
    db.commit();
  }
  FacetDictionary loaded = FacetDictionary::load(Xapian::Database(tmp.sub("a")));
  const std::string values0 = std::string(FacetDictionary::kValuesPrefix) + schema::kFacets[0].name + ".0";
  const std::string values1 = std::string(FacetDictionary::kValuesPrefix) + schema::kFacets[0].name + ".1";
  const std::string order = std::string(FacetDictionary::kOrderPrefix) + schema::kFacets[0].name;
  // Nothing new: nothing written (here into an empty database, to see it).
  Xapian::WritableDatabase fresh(tmp.sub("b"), Xapian::DB_CREATE);
  loaded.store(fresh, /*only_new=*/true);
  CHECK(fresh.metadata_keys_begin() == fresh.metadata_keys_end());
  // A new value (id 70): its entry (ids 64-127) and the ranks.
  CHECK(loaded.id(0, "new") == 70);
  loaded.store(fresh, /*only_new=*/true);
  CHECK(fresh.get_metadata(values0).empty());
  CHECK(fresh.get_metadata(values1) == "v64\x1fv65\x1fv66\x1fv67\x1fv68\x1fv69\x1fnew");
  CHECK(!fresh.get_metadata(order).empty());
  CHECK(fresh.get_metadata(std::string(FacetDictionary::kOrderPrefix) + schema::kFacets[1].name).empty());
}

TEST_CASE("facet_dictionary: writers on several threads get one id per value") {
  FacetDictionary d;
  std::vector<std::thread> threads;
  std::vector<std::vector<uint32_t>> seen(4);
  for (size_t t = 0; t < seen.size(); ++t)
    threads.emplace_back([&d, &seen, t] {
      for (int i = 0; i < 2000; ++i) seen[t].push_back(d.id(0, "v" + std::to_string((i * 7 + t) % 500)));
    });
  for (auto& t : threads) t.join();
  CHECK(d.size(0) == 500);
  for (size_t t = 0; t < seen.size(); ++t)
    for (int i = 0; i < 2000; ++i) CHECK(d.value(0, seen[t][i]) == "v" + std::to_string((i * 7 + t) % 500));
}

}  // namespace
}  // namespace resdex
