#include "core/document_builder.h"

#include <doctest/doctest.h>

#include <xapian.h>

#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "test_support.h"

namespace resdex {
namespace {

using test::TempDir;

Document abstract(int i) {
  Document d;
  d.id = "2020.acl-main." + std::to_string(i);
  d.type = "abstract";
  d.name = "Ada Lovelace, Grace Hopper";
  d.title = "Neural machine translation, part " + std::to_string(i);
  d.areas = {"acl"};
  d.year = 2020;
  d.path = "/data/acl.jsonl";
  d.text = "We present a neural machine translation model with attention that improves BLEU "
           "on WMT benchmarks by " + std::to_string(i) + " points over a strong baseline.";
  return d;
}

void check_same(const Document& a, const Document& b) {
  CHECK(a.id == b.id);
  CHECK(a.type == b.type);
  CHECK(a.name == b.name);
  CHECK(a.title == b.title);
  CHECK(a.institutions == b.institutions);
  CHECK(a.department == b.department);
  CHECK(a.areas == b.areas);
  CHECK(a.year == b.year);
  CHECK(a.path == b.path);
  CHECK(a.text == b.text);
}

TEST_CASE("document_builder: stored data deflated with a dictionary reads back whole and is smaller") {
  std::vector<Document> sample;
  for (int i = 0; i < 20; ++i) sample.push_back(abstract(i));
  const std::string dictionary = DataCodec::make_dictionary(sample);
  CHECK(!dictionary.empty());
  CHECK(dictionary.size() <= 32768);
  DataCodec codec(dictionary);
  Document doc = abstract(1000);
  doc.institutions = {"ZIB", "TU Berlin"};
  doc.text += " Umlauts: Müller, Weiß.";
  const std::string data = codec.encode(doc);
  CHECK(data.size() < encode_data(doc).size() / 2);
  check_same(codec.decode(data), doc);

  // Empty fields are left out of the JSON and come back empty.
  Document bare;
  bare.id = "x";
  bare.type = "abstract";
  bare.path = "p.jsonl";
  CHECK(encode_data(bare).find("department") == std::string::npos);
  check_same(codec.decode(codec.encode(bare)), bare);
}

TEST_CASE("document_builder: plain JSON data reads with or without a dictionary") {
  Document doc = abstract(7);
  const std::string plain = encode_data(doc);
  CHECK(DataCodec().encode(doc) == plain);
  check_same(DataCodec().decode(plain), doc);
  std::vector<Document> sample = {abstract(1), abstract(2)};
  check_same(DataCodec(DataCodec::make_dictionary(sample)).decode(plain), doc);
}

TEST_CASE("document_builder: data deflated with another dictionary, or damaged, is refused with a message") {
  std::vector<Document> one = {abstract(1)}, other = {abstract(2), abstract(3)};
  DataCodec a(DataCodec::make_dictionary(one)), b(DataCodec::make_dictionary(other));
  const std::string data = a.encode(abstract(5));
  auto refused = [](const DataCodec& codec, const std::string& bytes) {
    try {
      codec.decode(bytes);
    } catch (const Error& e) {
      CHECK(e.kind() == Error::Kind::kCorrupt);
      return std::string(e.what()).find("resdex index --rebuild") != std::string::npos;
    }
    return false;
  };
  CHECK(refused(b, data));
  CHECK(refused(DataCodec(), data));
  CHECK(refused(a, data.substr(0, data.size() / 2)));
  CHECK(refused(a, data.substr(0, 3)));
}

std::map<std::string, Xapian::doccount> spellings(const Xapian::Database& db) {
  std::map<std::string, Xapian::doccount> words;
  for (auto w = db.spellings_begin(); w != db.spellings_end(); ++w) words[*w] = w.get_termfreq();
  return words;
}
using Words = std::map<std::string, Xapian::doccount>;

TEST_CASE("document_builder: spelling words found in one document of the whole build are pruned") {
  TempDir tmp;
  Xapian::WritableDatabase db(tmp.sub("db"), Xapian::DB_CREATE);
  auto doc = [](std::initializer_list<const char*> words) {
    Xapian::Document d;
    for (const char* w : words) d.add_term(w);
    d.add_term("Sprefixed");
    d.add_term("2020");
    return d;
  };
  // Two writers' shares of one build: "shared" is in one document of each.
  SpellingDelta first, second, all;
  first.add(doc({"common", "shared", "tpyo"}));
  first.add(doc({"common"}));
  second.add(doc({"common", "shared", "rare"}));
  all.merge(first);
  all.merge(second);
  first.prune(all, 2);
  first.apply(db);
  db.commit();
  CHECK(spellings(db) == Words{{"common", 2}, {"shared", 1}});

  // An update may take out a word the build left out.
  SpellingDelta update;
  update.remove(doc({"common", "tpyo"}));
  update.apply(db);
  db.commit();
  CHECK(spellings(db) == Words{{"common", 1}, {"shared", 1}});
}

TEST_CASE("document_builder: spelling parts split a build's words, each word once with its whole count") {
  auto doc = [](std::initializer_list<const char*> words) {
    Xapian::Document d;
    for (const char* w : words) d.add_term(w);
    return d;
  };
  SpellingDelta all;
  for (int i = 0; i < 50; ++i) all.add(doc({"common", ("word" + std::to_string(i)).c_str()}));
  all.add(doc({"word7", "once"}));
  for (size_t parts : {1, 2, 3}) {
    INFO(parts << " parts");
    Words seen;
    for (size_t i = 0; i < parts; ++i) {
      TempDir part_tmp;
      Xapian::WritableDatabase part_db(part_tmp.sub("db"), Xapian::DB_CREATE);
      all.part(i, parts, 2).apply(part_db);
      part_db.commit();
      for (const auto& [w, n] : spellings(part_db)) CHECK(seen.emplace(w, n).second);  // in one part only
    }
    CHECK(seen == Words{{"common", 50}, {"word7", 2}});
  }
  // With no minimum every word is in some part.
  size_t total = 0;
  for (size_t i = 0; i < 3; ++i) {
    TempDir tmp;
    Xapian::WritableDatabase db(tmp.sub("db"), Xapian::DB_CREATE);
    all.part(i, 3, 1).apply(db);
    db.commit();
    total += spellings(db).size();
  }
  CHECK(total == 52);
}

}  // namespace
}  // namespace resdex
