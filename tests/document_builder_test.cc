#include "core/document_builder.h"

#include <doctest/doctest.h>

#include <xapian.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/text_normalizer.h"
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

// Abstracts of varied words, as a corpus has them, for zstd's dictionary
// trainer (which learns nothing from records that differ in a number).
Document varied(int i) {
  static const char* const kWords[] = {
      "neural",    "machine",  "translation", "parsing",   "semantic", "corpus",     "annotation",
      "language",  "model",    "dialogue",    "speech",    "entity",   "relation",   "extraction",
      "summary",   "question", "answering",   "attention", "encoder",  "decoder",    "lexical",
      "syntactic", "treebank", "alignment",   "bilingual", "sentiment", "evaluation", "benchmark",
      "the",       "of",       "and",         "we",        "a",        "for",        "with",
      "in",        "on",       "this",        "paper",     "present",  "show",       "results"};
  constexpr size_t kCount = sizeof kWords / sizeof kWords[0];
  uint32_t state = 2166136261u ^ static_cast<uint32_t>(i);
  auto next = [&] {
    state = state * 1664525u + 1013904223u;
    return (state >> 8) % kCount;
  };
  Document d = abstract(i);
  d.title.clear();
  for (int w = 0; w < 6; ++w) d.title += std::string(w ? " " : "") + kWords[next()];
  d.text.clear();
  for (int w = 0; w < 80 + static_cast<int>(next()); ++w) d.text += std::string(w ? " " : "") + kWords[next()];
  d.year = 1990 + i % 30;
  return d;
}

bool starts_with(const std::string& s, std::string_view prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

TEST_CASE("document_builder: stored data compressed with a trained dictionary reads back whole and is smaller") {
  std::vector<Document> sample;
  for (int i = 0; i < 500; ++i) sample.push_back(varied(i));
  const std::string dictionary = DataCodec::make_dictionary(sample);
  // A zstd dictionary (its magic number), not the plain JSON of the sample.
  CHECK(starts_with(dictionary, "\x37\xA4\x30\xEC"));
  CHECK(dictionary.size() <= 112 * 1024);
  DataCodec codec(dictionary);
  Document doc = varied(1000);
  doc.institutions = {"ZIB", "TU Berlin"};
  doc.text += " Umlauts: Müller, Weiß.";
  const std::string data = codec.encode(doc);
  CHECK(data[0] == '\x02');
  CHECK(data.size() < encode_data(doc).size() / 2);
  check_same(codec.decode(data), doc);
  // Another codec of the same dictionary (a searcher's) reads it too.
  check_same(DataCodec(dictionary).decode(data), doc);

  // Empty fields are left out of the JSON and come back empty.
  Document bare;
  bare.id = "x";
  bare.type = "abstract";
  bare.path = "p.jsonl";
  CHECK(encode_data(bare).find("department") == std::string::npos);
  check_same(codec.decode(codec.encode(bare)), bare);
}

TEST_CASE("document_builder: a codec tells records of its own dictionary from those of another") {
  std::vector<Document> sample, other_sample;
  for (int i = 0; i < 300; ++i) {
    sample.push_back(varied(i));
    other_sample.push_back(varied(5000 + i));
  }
  const std::string dictionary = DataCodec::make_dictionary(sample);
  const std::string other = DataCodec::make_dictionary(other_sample);
  REQUIRE(dictionary != other);
  const Document doc = varied(1000);
  const std::string data = DataCodec(dictionary).encode(doc);
  CHECK(DataCodec(dictionary).reads(data));
  CHECK_FALSE(DataCodec(other).reads(data));
  CHECK_THROWS_AS(DataCodec(other).decode(data), Error);
  CHECK_FALSE(DataCodec().reads(data));
  // Plain JSON, and what no dictionary could help with, are every codec's
  // to read or refuse.
  CHECK(DataCodec(other).reads(encode_data(doc)));
  CHECK(DataCodec(other).reads(""));
  CHECK(DataCodec(other).reads(std::string("\x02") + "ab"));  // shorter than a header

  // A dictionary held by its owner, not copied: the codec keeps it alive.
  std::unique_ptr<DataCodec> held;
  {
    auto owner = std::make_shared<std::string>(dictionary);
    held = std::make_unique<DataCodec>(std::string_view(*owner), owner);
  }
  CHECK(held->reads(data));
  check_same(held->decode(data), doc);
  check_same(held->decode(held->encode(varied(7))), varied(7));
}

TEST_CASE("document_builder: a codec prepared on one thread decodes on others, the first taking its context") {
  std::vector<Document> sample;
  for (int i = 0; i < 300; ++i) sample.push_back(varied(i));
  const std::string dictionary = DataCodec::make_dictionary(sample);
  std::vector<std::string> data;
  for (int i = 0; i < 40; ++i) data.push_back(DataCodec(dictionary).encode(varied(2000 + i)));
  DataCodec codec(dictionary);
  std::thread([&] { codec.prepare_decode(); }).join();
  codec.prepare_decode();  // again: nothing more to make
  std::vector<int> wrong(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round)
        for (int i = 0; i < 40; ++i)
          if (encode_data(codec.decode(data[i])) != encode_data(varied(2000 + i))) ++wrong[t];
    });
  for (std::thread& t : threads) t.join();
  CHECK(wrong == std::vector<int>(4, 0));
}

TEST_CASE("document_builder: a corpus too small to train on gets a dictionary of its JSON") {
  for (int n : {1, 3, 14}) {
    CAPTURE(n);
    std::vector<Document> sample;
    std::string json;
    for (int i = 0; i < n; ++i) {
      sample.push_back(varied(i));
      json += encode_data(sample.back());
    }
    const std::string dictionary = DataCodec::make_dictionary(sample);
    // zstd's trainer needs more than a few records; from 14 it learns.
    if (n < 14) CHECK(dictionary == json);
    else CHECK(starts_with(dictionary, "\x37\xA4\x30\xEC"));
    DataCodec codec(dictionary);
    const Document doc = varied(0);
    const std::string data = codec.encode(doc);
    CHECK(data[0] == '\x02');
    CHECK(data.size() < encode_data(doc).size() / 2);
    check_same(codec.decode(data), doc);
    check_same(codec.decode(codec.encode(varied(99))), varied(99));
  }
  // No documents at all: no dictionary, plain JSON.
  CHECK(DataCodec::make_dictionary({}).empty());
  CHECK(DataCodec(DataCodec::make_dictionary({})).encode(varied(3)) == encode_data(varied(3)));
}

TEST_CASE("document_builder: long text and bytes that are not UTF-8 survive the stored data") {
  std::vector<Document> sample;
  for (int i = 0; i < 200; ++i) sample.push_back(varied(i));
  DataCodec trained(DataCodec::make_dictionary(sample));
  DataCodec raw(DataCodec::make_dictionary({varied(1)}));
  Document long_doc = varied(7);
  // ~3 MB: more than the first buffer decode allocates.
  while (long_doc.text.size() < 3'000'000) long_doc.text += " " + varied(static_cast<int>(long_doc.text.size() % 977)).text;
  Document bad = varied(8);
  bad.title = "caf\xE9 \xFF\xFE na\xC3";  // Latin-1 bytes and a cut-off sequence
  const Document bad_read = decode_data(encode_data(bad));
  CHECK(bad_read.title != bad.title);  // replaced by U+FFFD, as plain JSON has them
  for (const DataCodec* codec : {&trained, &raw}) {
    check_same(codec->decode(codec->encode(long_doc)), long_doc);
    check_same(codec->decode(codec->encode(bad)), bad_read);
  }
}

// The bytes an older resdex (nlohmann::json, members in name order) wrote
// for the same document: data deflated against a dictionary of such
// records needs them exactly (see the deflate test below).
TEST_CASE("document_builder: stored records keep their bytes: members in name order, empty ones left out") {
  Document d;
  d.id = "x/1";
  d.type = "abstract";
  d.name = "Ada \"A\" Lovelace";
  d.title = "T\u00fcbingen";
  d.institutions = {"ZIB", "FU Berlin"};
  d.department = "CS";
  d.areas = {"acl", "NLP"};
  d.year = 2020;
  d.path = "/c.jsonl";
  d.text = "line\nnext\ttab \\ / \u20ac\r\b\f";
  CHECK(encode_data(d) ==
        R"({"areas":["acl","NLP"],"department":"CS","id":"x/1","institutions":["ZIB","FU Berlin"],)"
        R"("name":"Ada \"A\" Lovelace","path":"/c.jsonl","text":"line\nnext\ttab \\ / €\r\b\f",)"
        R"("title":"Tübingen","type":"abstract","year":2020})");
  Document minimal;
  minimal.id = "m";
  minimal.type = "group";
  CHECK(encode_data(minimal) == R"({"id":"m","path":"","type":"group"})");
  // Other control characters as \u escapes, a NUL byte too; bytes that are
  // not UTF-8 as U+FFFD, one for each ill-formed part.
  minimal.text = std::string("a\x01\x1f\0b", 5);
  minimal.title = "caf\xE9 \xFF\xFE na\xC3";
  CHECK(encode_data(minimal) == "{\"id\":\"m\",\"path\":\"\",\"text\":\"a\\u0001\\u001F\\u0000b\","
                                "\"title\":\"caf\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD na\xEF\xBF\xBD\",\"type\":\"group\"}");
  check_same(decode_data(encode_data(minimal)), [&] {
    Document r = minimal;
    r.title = "caf\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD na\xEF\xBF\xBD";
    return r;
  }());
}

TEST_CASE("document_builder: decode_data reads records written by nlohmann::json, in any member order") {
  // Lower-case hex in escapes and members out of order, as other writers have them.
  Document d = decode_data(R"({"year":1999,"type":"abstract","text":"x\u001fy \u00e9","path":"","id":"a","name":null})");
  CHECK(d.id == "a");
  CHECK(d.text == "x\x1fy \u00e9");
  CHECK(d.year == 1999);
  CHECK(d.name.empty());
}

TEST_CASE("document_builder: plain JSON data reads with or without a dictionary") {
  Document doc = abstract(7);
  const std::string plain = encode_data(doc);
  CHECK(DataCodec().encode(doc) == plain);
  check_same(DataCodec().decode(plain), doc);
  std::vector<Document> sample = {abstract(1), abstract(2)};
  check_same(DataCodec(DataCodec::make_dictionary(sample)).decode(plain), doc);
}

// abstract(5) with " Umlauts: Müller." added, as resdex before zstd stored
// it: raw deflate (zlib level 3) with the preset dictionary
// encode_data(abstract(1)) + encode_data(abstract(2)), behind '\x01' and
// the dictionary's id.
const std::string kDeflated(
    "\x01\xaa\x37\xe3\xf5\x23\x2a\xf8\x4c\x87\x52\xf0\x99\x12\x08\x3e\x85\xd0\xdc\x9c\xc4\xd2\x92\x62"
    "\x2b\x05\xdf\xc3\x7b\x72\x72\x52\x8b\x48\x0a\x50\x50\x50\xe0\x0d\x50\x00",
    42);

TEST_CASE("document_builder: data deflated by an older resdex still reads with its dictionary") {
  const std::string old_dictionary = encode_data(abstract(1)) + encode_data(abstract(2));
  Document expected = abstract(5);
  expected.text += " Umlauts: Müller.";
  DataCodec codec(old_dictionary);
  check_same(codec.decode(kDeflated), expected);
  // An update of such an index writes zstd data with the same dictionary;
  // the index then holds both formats.
  const std::string data = codec.encode(expected);
  CHECK(data[0] == '\x02');
  check_same(codec.decode(data), expected);
}

bool refused(const DataCodec& codec, const std::string& bytes) {
  try {
    codec.decode(bytes);
  } catch (const Error& e) {
    CHECK(e.kind() == Error::Kind::kCorrupt);
    return std::string(e.what()).find("resdex index --rebuild") != std::string::npos;
  }
  return false;
}

TEST_CASE("document_builder: data compressed with another dictionary, or damaged, is refused with a message") {
  std::vector<Document> one, other;
  for (int i = 0; i < 300; ++i) (i % 2 ? one : other).push_back(varied(i));
  DataCodec a(DataCodec::make_dictionary(one)), b(DataCodec::make_dictionary(other));
  DataCodec small(DataCodec::make_dictionary({abstract(1)}));
  const std::string data = a.encode(varied(1001));
  REQUIRE(data[0] == '\x02');
  CHECK(refused(b, data));
  CHECK(refused(small, data));
  CHECK(refused(DataCodec(), data));
  CHECK(refused(a, data.substr(0, data.size() / 2)));
  CHECK(refused(a, data.substr(0, data.size() - 1)));
  CHECK(refused(a, data.substr(0, 3)));
  CHECK(refused(a, data.substr(0, 5)));
  CHECK(refused(a, data + "x"));
  CHECK(refused(a, "\x03" + data.substr(1)));  // a format this resdex does not know
  CHECK(refused(a, "\x00" + data.substr(1)));
  // Every byte of the frame changed in turn: refused or, where zstd cannot
  // tell, read as some document; never a crash.
  for (size_t i = 5; i < data.size(); ++i) {
    std::string damaged = data;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x5A);
    try {
      a.decode(damaged);
    } catch (const Error& e) {
      CHECK(e.kind() == Error::Kind::kCorrupt);
    }
  }
  // Old deflate data with another dictionary, or damaged.
  CHECK(refused(a, kDeflated));
  DataCodec old(encode_data(abstract(1)) + encode_data(abstract(2)));
  CHECK(refused(old, kDeflated.substr(0, 20)));
}

TEST_CASE("document_builder: every control character survives the stored record") {
  Document doc = abstract(3);
  doc.text.clear();
  // Each byte below 0x20 and DEL, alone and inside runs of 16 and more
  // plain bytes (where a vectorised writer takes its fast path).
  for (int c = 0; c < 0x20; ++c) doc.text += std::string(1, static_cast<char>(c)) + "0123456789abcdefghij";
  doc.text += std::string(1, '\x7f') + "\"\\/";
  doc.title = doc.text;
  const Document back = decode_data(encode_data(doc));
  CHECK(back.text == doc.text);
  CHECK(back.title == doc.title);
  std::vector<Document> sample = {abstract(1), abstract(2)};
  const DataCodec codec(DataCodec::make_dictionary(sample));
  CHECK(codec.decode(codec.encode(doc)).text == doc.text);
}

TEST_CASE("document_builder: plain data that is not a record of resdex's is refused with a message") {
  const DataCodec plain;
  CHECK(refused(plain, "{\"id\": \"a\", \"year\": \"2020\"}"));   // a year that is no number
  CHECK(refused(plain, "{\"id\": 7}"));                             // an id that is no string
  CHECK(refused(plain, "{\"id\": \"a\", \"areas\": \"acl\"}"));    // a list that is no list
  CHECK(refused(plain, "{\"id\": \"a\", \"areas\": [\"acl\", 3]}"));
  CHECK(refused(plain, "{\"id\": \"a\", \"text\": \"caf\xE9\"}"));  // not UTF-8
  CHECK(refused(plain, "{\"id\": \"a\", \"text\": \"cut"));
  CHECK(refused(plain, "{\"id\": \"a\"} trailing"));
  CHECK(refused(plain, "{}x"));
  CHECK(refused(plain, "[\"id\"]"));
  // A NUL byte (which JSON escapes) does not hide what follows it.
  CHECK(refused(plain, std::string("{\"id\": \"a\"}\0 trailing", 21)));
  CHECK(refused(plain, std::string("{\"id\": \"a\0b\"}", 13)));
  CHECK(plain.decode("{\"id\": \"a\\u0000b\"}").id == std::string("a\0b", 3));
  // Members left out or null take their defaults; unknown ones are ignored.
  const Document d = plain.decode("{\"id\": \"a\", \"title\": null, \"extra\": {\"x\": [1]}, \"year\": 1999}");
  CHECK(d.id == "a");
  CHECK(d.title.empty());
  CHECK(d.institutions.empty());
  CHECK(d.year == 1999);
  // Escapes, and characters outside the BMP written as surrogate pairs.
  CHECK(plain.decode("{\"text\": \"a\\\"b\\\\c\\u00e9\\ud83d\\ude00\\n\"}").text == "a\"b\\c\u00e9\U0001F600\n");
  CHECK(refused(plain, "{\"text\": \"\\ud83d\"}"));  // a lone surrogate
  // Damage that nests brackets a million deep is refused, not a crash.
  CHECK(refused(plain, "{\"areas\": " + std::string(1'000'000, '[')));
  CHECK(plain.decode("{\"id\": \"deep\", \"x\": " + std::string(1'000'000, '[') + std::string(1'000'000, ']') + "}").id ==
        "deep");
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

TEST_CASE("document_builder: spelling words read from a database count as adding each of its documents") {
  TempDir tmp;
  TextNormalizer norm;
  DocumentBuilder builder(norm);
  Xapian::WritableDatabase db(tmp.sub("db"), Xapian::DB_CREATE);
  SpellingDelta one_by_one;
  for (int i = 0; i < 30; ++i) {
    Document d = abstract(i);
    d.institutions = {i % 2 ? "ZIB" : "TU Berlin"};
    d.text += " Ärger mit Umlauten, [brackets], _underscores_, 3.5 and IL-6.";
    Xapian::Document xdoc = builder.build(d);
    one_by_one.add(xdoc);
    db.add_document(xdoc);
    if (i == 10) db.commit();  // some committed, some still buffered
  }
  SpellingDelta from_terms;
  from_terms.add_words(db);
  auto written = [&](const SpellingDelta& delta) {
    TempDir out;
    Xapian::WritableDatabase w(out.sub("db"), Xapian::DB_CREATE);
    delta.apply(w);
    w.commit();
    return spellings(w);
  };
  const Words expected = written(one_by_one);
  CHECK(expected.size() > 30);
  CHECK(expected.count("translation") == 1);
  CHECK(expected.count("1") == 0);  // numbers are not offered as spellings
  CHECK(written(from_terms) == expected);
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
