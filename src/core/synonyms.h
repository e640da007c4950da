// Synonyms and abbreviations, applied at query time.
//
// A synonyms file (corpus/synonyms.txt) lists groups of forms that mean the
// same, one group per line, forms separated by '=':
//
//   UQ = uncertainty quantification
//   XAI = explainable AI = explainable artificial intelligence
//
// `resdex index` parses it and stores the groups in the index metadata
// (schema::kSynonymsKey), so that a search needs no corpus. A query word
// sequence that is a form of a group matches every form of the group: a
// one-word form on its stem, a multi-word form as a phrase whose words match
// on their stems too ("partial differential equation" also finds "Partial
// Differential Equations").
//
// Xapian's own synonym table cannot do this: its synonyms are single terms,
// so an abbreviation could not stand for a phrase.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <xapian.h>

#include "core/document.h"

namespace resdex {

class TextNormalizer;

// A form longer than this is refused (a phrase, not a sentence).
inline constexpr size_t kMaxSynonymFormWords = 8;

class Synonyms {
 public:
  // A form: its folded words, in order.
  using Form = std::vector<std::string>;

  Synonyms();

  // Parses a synonyms file. A bad line is reported in *errors as
  // path:line: reason and left out; the other lines still apply. A form
  // found on two lines joins their groups.
  static Synonyms parse(std::string_view text, const std::string& path, const TextNormalizer& norm,
                        std::vector<ReadError>* errors);

  // The groups of both, groups sharing a form joined.
  void merge(const Synonyms& other);

  // A stable text form for the index metadata ("" when there are none),
  // and back. deserialize() skips what it cannot read.
  std::string serialize() const;
  static Synonyms deserialize(std::string_view text);

  bool empty() const { return groups_.empty(); }
  const std::vector<std::vector<Form>>& groups() const { return groups_; }

  // A form found in a sequence of words: words [begin, end) are a form of
  // group `group`.
  struct Match {
    size_t begin;
    size_t end;
    size_t group;
  };
  // The forms in `words` (folded), left to right, longest first; matches
  // do not overlap. Words compare on their stems.
  std::vector<Match> find(const std::vector<std::string>& words) const;

  // The query for every form of `group` (OP_SYNONYM, so that the group
  // weighs as one term): a one-word form as its "Z" stem term, a longer
  // one as OP_PHRASE over the unstemmed words, each word ORed with the
  // words of the index that share its stem. A form with a word the index
  // lacks is left out. The terms used are added to *terms when given.
  Xapian::Query query(const Xapian::Database& db, size_t group,
                      std::set<std::string>* terms = nullptr) const;

 private:
  void add_group(std::vector<Form> forms);
  std::string key(const Form& form) const;  // stems joined by ' '

  Xapian::Stem stem_;
  std::vector<std::vector<Form>> groups_;
  std::vector<std::vector<std::string>> keys_;  // key() of each form of groups_
  std::map<std::string, size_t> by_key_;        // key() of a form -> group
  size_t longest_ = 0;                    // words in the longest form
};

// Expands the `<field>:<group>` that rewrite_synonyms() writes into
// Synonyms::query(); the terms used are added to *terms when given.
// `synonyms` must outlive it.
class SynonymProcessor : public Xapian::FieldProcessor {
 public:
  SynonymProcessor(const Xapian::Database& db, const Synonyms& synonyms, std::set<std::string>* terms)
      : db_(db), synonyms_(synonyms), terms_(terms) {}
  Xapian::Query operator()(const std::string& group) override;

 private:
  Xapian::Database db_;
  const Synonyms& synonyms_;
  std::set<std::string>* terms_;
};

// Rewrites a folded query string (TextNormalizer::fold_query) so that each
// run of plain words that is a form becomes `<field>:<group>`, for a
// Xapian::FieldProcessor registered on `field` to expand. Plain words stand
// outside quotes, fields and wildcards, between spaces or brackets; a '+'
// or '-' sign is kept on a one-word form (and ends a run otherwise). Words
// next to NEAR or ADJ, and the operators themselves, are left as they are.
std::string rewrite_synonyms(const std::string& folded_query, const Synonyms& synonyms,
                             const TextNormalizer& norm, const std::string& field);

}  // namespace resdex
