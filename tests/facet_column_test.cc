#include "core/facet_column.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <xapian.h>

#include "core/facet_dictionary.h"
#include "core/match_sample.h"
#include "core/schema.h"
#include "test_support.h"

namespace resdex {
namespace {

using test::TempDir;

// A database whose documents 1..n hold "v<docid>" in the facet slot, but
// every third, which holds none; document 4 is deleted, and the last docid
// has a value of 300 bytes (longer than any one-byte length).
std::string make_db(const std::string& dir, Xapian::docid n) {
  Xapian::WritableDatabase db(dir, Xapian::DB_CREATE_OR_OVERWRITE);
  for (Xapian::docid d = 1; d <= n; ++d) {
    Xapian::Document doc;
    if (d % 3 != 0) doc.add_value(schema::kSlotFacets, d == n ? std::string(300, 'x') : "v" + std::to_string(d));
    doc.add_value(schema::kSlotId, "id" + std::to_string(d));
    db.replace_document(d, doc);
  }
  db.delete_document(4);
  db.commit();
  return dir;
}

// A database of this schema version whose facet slot holds ids of a
// dictionary of 150 institutions (given out of value order, so ids and
// ranks differ; three metadata entries) and one year.
std::string make_db_with_dictionary(const std::string& dir) {
  Xapian::WritableDatabase db(dir, Xapian::DB_CREATE_OR_OVERWRITE);
  FacetDictionary d;
  for (int i = 0; i < 150; ++i) d.id(0, "inst " + std::to_string((i * 37) % 150));
  FacetValues values;
  values[0] = {"inst 1", "inst 2"};
  values[2] = {"2020"};
  Xapian::Document doc;
  doc.add_value(schema::kSlotFacets, d.encode(values));
  db.add_document(doc);
  d.store(db);
  db.set_metadata(schema::kVersionKey, std::to_string(schema::kVersion));
  db.commit();
  return dir;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

TEST_CASE("facet_column: the column gives the slot's value of every docid") {
  TempDir tmp;
  Xapian::Database db(make_db(tmp.sub("db"), 700));
  const std::string path = tmp.sub("column");
  FacetColumn::write(db, path);
  auto column = FacetColumn::open(path, db);
  REQUIRE(column);
  for (Xapian::docid d = 1; d <= 700; ++d) {
    CAPTURE(d);
    const std::string expected = d == 4 ? "" : db.get_document(d).get_value(schema::kSlotFacets);
    CHECK(column->value(d) == expected);
  }
  CHECK(column->value(700).size() == 300);
  CHECK(column->value(0).empty());
  CHECK(column->value(701).empty());
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST_CASE("facet_column: for_each_value visits the values value() gives, once each, however they are read") {
  TempDir tmp;
  Xapian::Database db(make_db(tmp.sub("db"), 700));
  FacetColumn::write(db, tmp.sub("column"));
  auto column = FacetColumn::open(tmp.sub("column"), db);
  REQUIRE(column);
  auto check = [&](const std::vector<Xapian::docid>& dids) {
    std::vector<std::string> seen, expected;
    column->for_each_value(dids.data(), dids.size(), [&](std::string_view v) { seen.emplace_back(v); });
    for (Xapian::docid d : dids) expected.emplace_back(column->value(d));
    std::sort(seen.begin(), seen.end());
    std::sort(expected.begin(), expected.end());
    CHECK(seen == expected);
  };
  // Many docids, as a count of every match asks for them (read in the
  // file's order), a few past either end among them.
  std::vector<Xapian::docid> dense;
  for (Xapian::docid d = 1; d <= 700; d += (d % 5) + 1) dense.push_back(d);
  REQUIRE(dense.size() > 256);
  check(dense);
  dense.insert(dense.begin(), 0);
  dense.push_back(701);
  dense.push_back(1000000);
  check(dense);
  // The documents of samples of 1 in 10 and 1 in 3 (from the file's
  // start), and a few spread over it (one by one).
  for (double k : {10.0, 3.0}) {
    std::vector<Xapian::docid> sample;
    for (Xapian::docid d = 1; d <= 700; ++d)
      if (in_sample(d, sample_threshold(k))) sample.push_back(d);
    CAPTURE(k);
    check(sample);
  }
  check({4, 699, 700, 12, 0});
  check({700});
  std::vector<std::string> seen;
  column->for_each_value(dense.data(), 0, [&](std::string_view v) { seen.emplace_back(v); });
  CHECK(seen.empty());
}

TEST_CASE("facet_column: an empty database has an empty column") {
  TempDir tmp;
  Xapian::WritableDatabase(tmp.sub("db"), Xapian::DB_CREATE_OR_OVERWRITE).commit();
  Xapian::Database db(tmp.sub("db"));
  FacetColumn::write(db, tmp.sub("column"));
  auto column = FacetColumn::open(tmp.sub("column"), db);
  REQUIRE(column);
  CHECK(column->value(1).empty());
}

TEST_CASE("facet_column: a column is refused for another state of its database, or another database") {
  TempDir tmp;
  make_db(tmp.sub("db"), 50);
  const std::string path = tmp.sub("column");
  FacetColumn::write(Xapian::Database(tmp.sub("db")), path);
  auto kept = FacetColumn::open(path, Xapian::Database(tmp.sub("db")));
  REQUIRE(kept);
  CHECK(kept->current_for(Xapian::Database(tmp.sub("db"))));

  SUBCASE("a commit after it") {
    {
      Xapian::WritableDatabase w(tmp.sub("db"), Xapian::DB_OPEN);
      Xapian::Document doc;
      doc.add_value(schema::kSlotFacets, "changed");
      w.replace_document(2, doc);
      w.commit();
    }
    Xapian::Database db(tmp.sub("db"));
    CHECK_FALSE(FacetColumn::open(path, db));
    // One opened before the commit (kept by a searcher) is no longer current.
    CHECK_FALSE(kept->current_for(db));
    // Written again, it is current.
    FacetColumn::write(db, path);
    auto column = FacetColumn::open(path, db);
    REQUIRE(column);
    CHECK(column->value(2) == "changed");
  }
  SUBCASE("a database built the same way elsewhere (another uuid)") {
    Xapian::Database other(make_db(tmp.sub("other"), 50));
    REQUIRE(other.get_revision() == Xapian::Database(tmp.sub("db")).get_revision());
    CHECK_FALSE(FacetColumn::open(path, other));
    CHECK_FALSE(kept->current_for(other));
  }
}

TEST_CASE("facet_column: a missing, truncated, padded or foreign file is no column") {
  TempDir tmp;
  Xapian::Database db(make_db(tmp.sub("db"), 50));
  const std::string path = tmp.sub("column");
  CHECK_FALSE(FacetColumn::open(path, db));
  FacetColumn::write(db, path);
  const std::string bytes = read_file(path);
  write_file(path, bytes.substr(0, bytes.size() - 1));
  CHECK_FALSE(FacetColumn::open(path, db));
  write_file(path, bytes + "x");
  CHECK_FALSE(FacetColumn::open(path, db));
  write_file(path, "not a column at all, but long enough to hold a header of sixty-four bytes");
  CHECK_FALSE(FacetColumn::open(path, db));
  write_file(path, "");
  CHECK_FALSE(FacetColumn::open(path, db));
  write_file(path, bytes);
  CHECK(FacetColumn::open(path, db));
}

TEST_CASE("facet_column: offsets or lengths past the entries in a damaged file give no value, not a read past them") {
  TempDir tmp;
  Xapian::Database db(make_db(tmp.sub("db"), 10));
  const std::string path = tmp.sub("column");
  FacetColumn::write(db, path);
  const std::string written = read_file(path);
  const size_t entries_at = 72 + 8 * 10;
  std::string bytes = written;
  // Docid 2's offset set far past the entries.
  const size_t at = 72 + 4 * 1;
  bytes[at] = bytes[at + 1] = bytes[at + 2] = bytes[at + 3] = '\xff';
  write_file(path, bytes);
  auto column = FacetColumn::open(path, db);
  REQUIRE(column);
  CHECK(column->value(1) == "v1");
  CHECK(column->value(2).empty());
  CHECK(column->value(5) == "v5");
  // The first entry's length (a varint that never ends) runs past them:
  // that value and, read in the file's order, those after it are "".
  bytes = written;
  for (size_t i = entries_at; i < entries_at + 6; ++i) bytes[i] = '\xff';
  write_file(path, bytes);
  column = FacetColumn::open(path, db);
  REQUIRE(column);
  std::vector<Xapian::docid> all;
  for (Xapian::docid d = 1; d <= 10; ++d) all.push_back(d);
  size_t visits = 0;
  column->for_each_value(all.data(), all.size(), [&](std::string_view v) {
    ++visits;
    CHECK(v.size() <= 3);
  });
  CHECK(visits == 10);
}

TEST_CASE("facet_column: the column holds the facet dictionary the database's metadata holds") {
  TempDir tmp;
  Xapian::Database db(make_db_with_dictionary(tmp.sub("db")));
  FacetColumn::write(db, tmp.sub("column"));
  auto column = FacetColumn::open(tmp.sub("column"), db);
  REQUIRE(column);
  REQUIRE(column->has_dictionary());
  FacetLookup stored(db);
  FacetLookup through(db, column);
  for (size_t f = 0; f < kFacetCount; ++f) {
    CAPTURE(f);
    REQUIRE(column->dictionary_size(f) == stored.size(f));
    CHECK(through.size(f) == stored.size(f));
    for (uint32_t id = 0; id < stored.size(f); ++id) {
      CAPTURE(id);
      CHECK(column->rank(f, id) == stored.rank(f, id));
      CHECK(column->dictionary_value(f, id) == stored.value(f, id));
      CHECK(through.value(f, id) == stored.value(f, id));
    }
  }
  CHECK(column->dictionary_size(0) == 150);
  CHECK(column->dictionary_size(1) == 0);
  CHECK(column->dictionary_value(2, 0) == "2020");
  CHECK(column->dictionary_value(0, 150).empty());
  CHECK(column->dictionary_value(1, 0).empty());

  // A slot of values rather than ids (an index before schema version 8):
  // no dictionary, and a FacetLookup reads the metadata.
  Xapian::Database plain(make_db(tmp.sub("plain"), 10));
  FacetColumn::write(plain, tmp.sub("plain-column"));
  auto without = FacetColumn::open(tmp.sub("plain-column"), plain);
  REQUIRE(without);
  CHECK_FALSE(without->has_dictionary());
}

TEST_CASE("facet_column: a damaged dictionary is no column, or gives no value rather than a read past it") {
  TempDir tmp;
  Xapian::Database db(make_db_with_dictionary(tmp.sub("db")));
  const std::string path = tmp.sub("column");
  FacetColumn::write(db, path);
  const std::string bytes = read_file(path);
  // The dictionary starts after the header, two offsets (docid 1 is the
  // last) and the data.
  const auto data_size = static_cast<unsigned char>(bytes[20]) | static_cast<unsigned char>(bytes[21]) << 8;
  const size_t dictionary = 72 + 4 * 2 + data_size;
  REQUIRE(static_cast<unsigned char>(bytes[dictionary]) == 150);

  SUBCASE("more ids than the section holds") {
    std::string damaged = bytes;
    damaged[dictionary + 1] = '\x7f';
    write_file(path, damaged);
    CHECK_FALSE(FacetColumn::open(path, db));
  }
  SUBCASE("a value's end offset past the values") {
    std::string damaged = bytes;
    const size_t end_of_id_3 = dictionary + 4 + 4 * 150 + 4 * 4;
    damaged[end_of_id_3 + 2] = '\x7f';
    write_file(path, damaged);
    auto column = FacetColumn::open(path, db);
    REQUIRE(column);
    CHECK(column->dictionary_value(0, 3).empty());
    CHECK(column->dictionary_value(0, 4).empty());
    CHECK(column->dictionary_value(0, 5) == FacetLookup(db).value(0, 5));
  }
}

}  // namespace
}  // namespace resdex
