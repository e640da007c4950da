#include "core/stem_memo.h"

#include <algorithm>
#include <string>

#include "core/schema.h"

namespace resdex {

StemMemo::StemMemo(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)), stemmer_(schema::kStemmer) {}

const std::string& StemMemo::operator()(const std::string& word) {
  auto it = memo_.find(word);
  if (it != memo_.end()) return it->second;
  if (memo_.size() >= capacity_) memo_.clear();
  return memo_.emplace(word, stemmer_(word)).first->second;
}

namespace {

// Xapian::Stem calls operator() for each word; Xapian owns the object
// (reference counted) once it is wrapped in a Xapian::Stem.
class RememberingStemmer : public Xapian::StemImplementation {
 public:
  explicit RememberingStemmer(size_t capacity) : memo_(capacity) {}
  std::string operator()(const std::string& word) override { return memo_(word); }
  // The name Snowball's stemmer gives itself ("english"): the two stem
  // alike, so Xapian::Stem describes both the same.
  std::string get_description() const override { return schema::kStemmer; }

 private:
  StemMemo memo_;
};

}  // namespace

Xapian::Stem remembering_stemmer(size_t capacity) { return Xapian::Stem(new RememberingStemmer(capacity)); }

}  // namespace resdex
