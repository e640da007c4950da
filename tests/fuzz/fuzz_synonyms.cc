// libFuzzer target: the input is a synonyms file, and then a query. Parsing
// never throws, reports every bad line with its number, and gives groups of
// at least two forms of 1..kMaxSynonymFormWords words; serialize and
// deserialize round-trip; rewriting the input as a query only replaces
// whole words and finds forms that do not overlap.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/document.h"
#include "core/synonyms.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const resdex::TextNormalizer& norm = resdex::fuzz::normalizer();

  std::vector<resdex::ReadError> errors;
  resdex::Synonyms s = resdex::Synonyms::parse(text, "synonyms.txt", norm, &errors);
  size_t lines = 1;
  for (char c : text) lines += c == '\n';
  std::set<std::string> forms;
  for (const auto& group : s.groups()) {
    FUZZ_CHECK(group.size() >= 2);
    for (const auto& form : group) {
      FUZZ_CHECK(!form.empty() && form.size() <= resdex::kMaxSynonymFormWords);
      for (const std::string& w : form) FUZZ_CHECK(!w.empty() && w.find_first_of(" \t\n") == std::string::npos);
    }
  }
  for (const resdex::ReadError& e : errors) {
    FUZZ_CHECK(e.path == "synonyms.txt");
    FUZZ_CHECK(e.line >= 1 && static_cast<size_t>(e.line) <= lines);
    FUZZ_CHECK(!e.reason.empty());
  }

  const std::string serialized = s.serialize();
  FUZZ_CHECK(resdex::Synonyms::deserialize(serialized).serialize() == serialized);
  resdex::Synonyms::deserialize(text);  // anything stored must not crash a reader

  std::vector<std::string> words;
  for (const resdex::Token& t : norm.tokenize(text)) words.push_back(t.folded);
  size_t end = 0;
  for (const resdex::Synonyms::Match& m : s.find(words)) {
    FUZZ_CHECK(m.begin >= end && m.begin < m.end && m.end <= words.size());
    FUZZ_CHECK(m.group < s.groups().size());
    end = m.end;
  }
  const std::string rewritten = resdex::rewrite_synonyms(text, s, norm, "syn");
  if (s.empty()) FUZZ_CHECK(rewritten == text);
  return 0;
}
