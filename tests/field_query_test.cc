#include "core/field_query.h"

#include <doctest/doctest.h>

#include <xapian.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/document_builder.h"
#include "core/schema.h"
#include "core/text_normalizer.h"

namespace resdex {
namespace {

Xapian::QueryParser parser() {
  Xapian::QueryParser qp;
  qp.set_stemmer(Xapian::Stem(schema::kStemmer));
  qp.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
  for (const schema::TextField& f : schema::kTextFields) qp.add_prefix(f.name, f.prefix);
  qp.add_boolean_prefix("institution", "XI");
  return qp;
}

bool contains(const Xapian::Query& q, const std::string& part) {
  return q.get_description().find(part) != std::string::npos;
}

// An in-memory index of three documents, written as the indexer writes.
class Index {
 public:
  Index() : db_(std::string(), Xapian::DB_BACKEND_INMEMORY) {
    add("manning", "Christopher Manning", "Foundations of Statistical Natural Language Processing",
        "Parsing and tagging of text.");
    add("man", "Ann Man", "Inverse Problems in Imaging", "Tomography with sparse data.");
    add("body", "Eva Body", "Imaging", "We study inverse problems of tomography.");
  }

  const Xapian::Database& db() const { return db_; }

  // The ids of the documents matching `q`, sorted.
  std::vector<std::string> ids(const Xapian::Query& q) {
    Xapian::Enquire enquire(db_);
    enquire.set_query(q);
    std::vector<std::string> out;
    Xapian::MSet mset = enquire.get_mset(0, 10);
    for (auto it = mset.begin(); it != mset.end(); ++it)
      out.push_back(it.get_document().get_value(schema::kSlotId));
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  void add(const std::string& id, const std::string& name, const std::string& title,
           const std::string& text) {
    Document d;
    d.id = id;
    d.type = "abstract";
    d.name = name;
    d.title = title;
    d.text = text;
    db_.add_document(builder_.build(d));
  }

  TextNormalizer norm_;
  DocumentBuilder builder_{norm_};
  Xapian::WritableDatabase db_;
};

using Ids = std::vector<std::string>;

TEST_CASE("field_query: a phrase of plain words is also asked for in each field whose unprefixed copy has no positions") {
  Xapian::QueryParser qp = parser();
  const Xapian::Query phrase = qp.parse_query("\"inverse problems\"");
  const Xapian::Query wide = widen_phrases(phrase, schema::kVersion);
  CHECK(contains(wide, "inverse@1 PHRASE 2 problems@2"));
  for (const schema::TextField& f : schema::kTextFields) {
    const std::string p = f.prefix;
    CHECK(contains(wide, p + "inverse PHRASE 2 " + p + "problems") ==
          (f.weight > 0 && !schema::plain_positions(f, schema::kVersion)));
  }
  CHECK_FALSE(contains(wide, "Sinverse"));  // the title's plain copy has positions

  Index index;
  // Unwidened, the phrase finds the body and the title, not the name.
  CHECK(index.ids(phrase) == Ids{"body", "man"});
  CHECK(index.ids(wide) == Ids{"body", "man"});
  CHECK(index.ids(qp.parse_query("\"christopher manning\"")).empty());
  CHECK(index.ids(widen_phrases(qp.parse_query("\"christopher manning\""), schema::kVersion)) == Ids{"manning"});
  CHECK(index.ids(widen_phrases(qp.parse_query("\"problems inverse\""), schema::kVersion)).empty());
  // Hyphenated words are a phrase too.
  CHECK(index.ids(widen_phrases(qp.parse_query("natural-language"), schema::kVersion)) == Ids{"manning"});
  // A phrase does not run from one field into the next, nor from the body
  // into the title ("... of tomography." then "Imaging").
  CHECK(index.ids(widen_phrases(qp.parse_query("\"manning foundations\""), schema::kVersion)).empty());
  CHECK(index.ids(widen_phrases(qp.parse_query("\"tomography imaging\""), schema::kVersion)).empty());
  CHECK(index.ids(qp.parse_query("\"sparse data\"")) == Ids{"man"});
}

TEST_CASE("field_query: with the index given, a field's phrase that cannot match there is left out") {
  Xapian::QueryParser qp = parser();
  Index index;
  // "christopher" and "manning" are words of a name: kept, as one synonym
  // with the plain phrase.
  const Xapian::Query name = widen_phrases(qp.parse_query("\"christopher manning\""), schema::kVersion, &index.db());
  CHECK(contains(name, "Achristopher PHRASE 2 Amanning"));
  CHECK(contains(name, "SYNONYM"));
  CHECK_FALSE(contains(name, " OR "));
  CHECK(index.ids(name) == Ids{"manning"});
  // No name has "inverse": the phrase stays bare, and finds what it found.
  const Xapian::Query plain = qp.parse_query("\"inverse problems\"");
  const Xapian::Query kept = widen_phrases(plain, schema::kVersion, &index.db());
  CHECK(kept.get_description() == plain.get_description());
  CHECK(index.ids(kept) == Ids{"body", "man"});
  // One word in no name is enough to leave the name's phrase out.
  CHECK_FALSE(contains(widen_phrases(qp.parse_query("\"ann problems\""), schema::kVersion, &index.db()), "Aann"));
  // A word of several spellings can match if one of them can.
  Xapian::Query either[] = {Xapian::Query(Xapian::Query::OP_OR, Xapian::Query("eva"), Xapian::Query("evangeline")),
                            Xapian::Query("body")};
  const Xapian::Query spelled(Xapian::Query::OP_PHRASE, either, either + 2, 2);
  const Xapian::Query widened = widen_phrases(spelled, schema::kVersion, &index.db());
  CHECK(contains(widened, "(Aeva OR Aevangeline) PHRASE 2 Abody"));
  CHECK(index.ids(widened) == Ids{"body"});
}

TEST_CASE("field_query: a phrase in a name weighs as the same phrase in the text, not by the name's rarity") {
  // Four abstracts on a phrase, and one record whose name holds it: as an
  // OR, the name's rare terms gave that record the top rank; as one
  // synonym, the phrase found in the name counts as one more occurrence.
  Xapian::WritableDatabase db(std::string(), Xapian::DB_BACKEND_INMEMORY);
  TextNormalizer norm;
  DocumentBuilder builder(norm);
  auto add = [&](const std::string& id, const std::string& name, const std::string& text) {
    Document d;
    d.id = id;
    d.type = "abstract";
    d.name = name;
    d.title = "A study";
    d.text = text;
    db.add_document(builder.build(d));
  };
  for (int i = 0; i < 4; ++i)
    add("text" + std::to_string(i), "Ann Author", "Machine translation of machine translation, and machine translation.");
  add("name", "Machine Translation", "Other work entirely, with nothing of it in the text.");
  for (int i = 0; i < 20; ++i) add("other" + std::to_string(i), "Bo Other", "Unrelated words about parsing.");
  Xapian::QueryParser qp = parser();
  const Xapian::Query q = widen_phrases(qp.parse_query("\"machine translation\""), schema::kVersion, &db);
  Xapian::Enquire enquire(db);
  enquire.set_query(q);
  Xapian::MSet mset = enquire.get_mset(0, 10);
  REQUIRE(mset.size() == 5);
  CHECK(mset.begin().get_document().get_value(schema::kSlotId) != "name");
  CHECK((--mset.end()).get_document().get_value(schema::kSlotId) == "name");
}

TEST_CASE("field_query: an index of schema 9, whose titles have positions in the S terms only, is asked for those too") {
  Xapian::QueryParser qp = parser();
  const Xapian::Query wide = widen_phrases(qp.parse_query("\"inverse problems\""), 9);
  CHECK(contains(wide, "Sinverse PHRASE 2 Sproblems"));
  CHECK(contains(wide, "Ainverse PHRASE 2 Aproblems"));
  const schema::TextField& title = *std::find_if(std::begin(schema::kTextFields), std::end(schema::kTextFields),
                                                  [](const schema::TextField& f) { return f.name == std::string("title"); });
  CHECK_FALSE(schema::plain_positions(title, 9));
  CHECK(schema::plain_positions(title, schema::kVersion));
}

TEST_CASE("field_query: NEAR keeps its window, and field phrases, words and unknown nodes are left alone") {
  Xapian::QueryParser qp = parser();
  const Xapian::Query near = widen_phrases(qp.parse_query("inverse NEAR/3 imaging"), schema::kVersion);
  CHECK(contains(near, "Ainverse NEAR 4 Aimaging"));
  Index index;
  CHECK(index.ids(near) == Ids{"man"});

  for (const char* text : {"title:\"inverse problems\"", "inverse problems", "name:ann"}) {
    const Xapian::Query q = qp.parse_query(text);
    CHECK(widen_phrases(q, schema::kVersion).get_description() == q.get_description());
  }
  // Below operators that can be rebuilt, phrases are found.
  const Xapian::Query filtered =
      widen_phrases(qp.parse_query("\"inverse problems\" imaging institution:zib"), schema::kVersion);
  CHECK(contains(filtered, "Ainverse PHRASE 2 Aproblems"));
  CHECK(contains(filtered, "XIzib"));
  CHECK(contains(filtered, "Zimag"));
  // One whose parameter Xapian does not expose keeps what it holds.
  const Xapian::Query scaled(Xapian::Query::OP_SCALE_WEIGHT, qp.parse_query("\"inverse problems\""), 2.0);
  CHECK(widen_phrases(scaled, schema::kVersion).get_description() == scaled.get_description());
  // Synonym forms: each word an OR of the index's spellings.
  Xapian::Query either[] = {Xapian::Query(Xapian::Query::OP_OR, Xapian::Query("inverse"), Xapian::Query("inverted")),
                            Xapian::Query("problems")};
  const Xapian::Query synonym(Xapian::Query::OP_PHRASE, either, either + 2, 2);
  CHECK(contains(widen_phrases(synonym, schema::kVersion), "(Ainverse OR Ainverted) PHRASE 2 Aproblems"));
  CHECK(index.ids(widen_phrases(synonym, schema::kVersion)) == Ids{"body", "man"});
}

TEST_CASE("field_query: a name is matched as written, not on its stem") {
  Xapian::QueryParser qp = parser();
  const Xapian::Query stemmed = qp.parse_query("name:manning");
  CHECK(stemmed.get_description() == "Query(ZAman@1)");  // what the parser makes
  const Xapian::Query unstemmed = unstem_fields(stemmed, qp);
  CHECK(unstemmed.get_description() == "Query(Amanning)");
  // Title words and plain words keep their stems.
  const Xapian::Query others = qp.parse_query("title:problems manning");
  CHECK(unstem_fields(others, qp).get_description() == others.get_description());

  Index index;
  CHECK(index.ids(stemmed).empty());  // the index keeps no stems of names
  CHECK(index.ids(unstemmed) == Ids{"manning"});
  CHECK(index.ids(unstem_fields(qp.parse_query("name:man"), qp)) == Ids{"man"});
  CHECK(index.ids(unstem_fields(qp.parse_query("name:\"christopher manning\""), qp)) == Ids{"manning"});
  CHECK(index.ids(unstem_fields(qp.parse_query("name:manning AND title:imaging"), qp)).empty());
  CHECK(index.ids(unstem_fields(qp.parse_query("name:(manning OR man) -tomography"), qp)) == Ids{"manning"});
  // Plain words still reach names through their stemmed unprefixed copy.
  CHECK(index.ids(qp.parse_query("christopher")) == Ids{"manning"});
}

}  // namespace
}  // namespace resdex
