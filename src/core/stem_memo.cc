#include "core/stem_memo.h"

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

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

// The stems of recent words in a table of `slots` (a power of two), each
// word in the slot its hash picks, a new word taking over the slot: common
// words stay, rare ones come and go. Not StemMemo's hash map: in a bulk
// build its nodes, spread over the heap, miss the caches that Xapian's
// write buffers fill, and the build took ~2% more CPU time than with no
// memo at all; this table took ~2% less (docs/performance.md).
class RememberingStemmer : public Xapian::StemImplementation {
 public:
  explicit RememberingStemmer(size_t slots) : stemmer_(schema::kStemmer) {
    size_t n = 1;
    while (n < slots) n <<= 1;
    slots_.resize(n);
  }

  std::string operator()(const std::string& word) override {
    Slot& slot = slots_[std::hash<std::string>()(word) & (slots_.size() - 1)];
    if (!slot.filled || slot.word != word) {
      slot.word = word;
      slot.stem = stemmer_(word);
      slot.filled = true;
    }
    return slot.stem;
  }

  // The name Snowball's stemmer gives itself ("english"): the two stem
  // alike, so Xapian::Stem describes both the same.
  std::string get_description() const override { return schema::kStemmer; }

 private:
  struct Slot {
    std::string word, stem;
    bool filled = false;  // "" is a word too
  };
  Xapian::Stem stemmer_;
  std::vector<Slot> slots_;
};

}  // namespace

Xapian::Stem remembering_stemmer(size_t slots) { return Xapian::Stem(new RememberingStemmer(slots)); }

}  // namespace resdex
