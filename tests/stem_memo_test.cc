#include "core/stem_memo.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <xapian.h>

#include "core/schema.h"

namespace resdex {
namespace {

const std::vector<std::string> kWords = {
    "models",  "modelling", "languages", "language", "embeddings", "generalisation", "running", "ran",
    "muller",  "mueller",   "il6",       "2020",     "a",          "",               "caf\u00e9", "\u00fcber",
    "models",  "embedded",  "relational", "happily", "sky",        "news",           "dying",    "running",
};

}  // namespace

TEST_CASE("stem_memo: a memo gives Xapian's stems, asked once or again") {
  const Xapian::Stem plain(schema::kStemmer);
  StemMemo memo;
  for (int round = 0; round < 2; ++round) {
    for (const std::string& w : kWords) {
      CAPTURE(w);
      CHECK(memo(w) == plain(w));
    }
  }
  // Each distinct word once.
  std::vector<std::string> distinct = kWords;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  CHECK(memo.size() == distinct.size());
}

TEST_CASE("stem_memo: a full memo starts afresh and still stems right") {
  const Xapian::Stem plain(schema::kStemmer);
  StemMemo memo(5);
  for (int round = 0; round < 3; ++round) {
    for (const std::string& w : kWords) {
      CAPTURE(w);
      CHECK(memo(w) == plain(w));
      CHECK(memo.size() <= 5);
      CHECK(memo.size() >= 1);
    }
  }
  StemMemo one(0);  // taken as one
  CHECK(one("models") == plain("models"));
  CHECK(one("languages") == plain("languages"));
  CHECK(one.size() == 1);
}

TEST_CASE("stem_memo: a remembering stemmer indexes as Xapian's own stemmer does") {
  const std::string text =
      "Models of languages: modelling language, embedded embeddings; M\u00fcller and Mueller model "
      "the running dogs, models and languages again, IL-6 in 2020.";
  auto terms_of = [&](const Xapian::Stem& stemmer) {
    Xapian::TermGenerator tg;
    tg.set_stemmer(stemmer);
    tg.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
    Xapian::Document doc;
    tg.set_document(doc);
    tg.index_text(text);
    tg.index_text(text, 1, "S");
    std::vector<std::string> terms;
    for (auto t = doc.termlist_begin(); t != doc.termlist_end(); ++t)
      terms.push_back(*t + ":" + std::to_string(t.get_wdf()));
    return terms;
  };
  const Xapian::Stem remembering = remembering_stemmer(4);  // slots taken over along the way
  const std::vector<std::string> expected = terms_of(Xapian::Stem(schema::kStemmer));
  CHECK(terms_of(remembering) == expected);
  CHECK(terms_of(remembering) == expected);
  CHECK(std::find(expected.begin(), expected.end(), "Zmodel:4") != expected.end());
  CHECK(remembering.get_description() == Xapian::Stem(schema::kStemmer).get_description());
}

}  // namespace resdex
