#include "core/field_query.h"

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "core/schema.h"

namespace resdex {

namespace {

using Rewrite = std::optional<Xapian::Query> (*)(const Xapian::Query&, const void* context);

bool is_prefixed(const std::string& term) { return !term.empty() && term[0] >= 'A' && term[0] <= 'Z'; }

// The term of a leaf term query, or nullopt for any other query.
std::optional<std::string> leaf_term(const Xapian::Query& q) {
  if (q.get_type() != Xapian::Query::LEAF_TERM) return std::nullopt;
  Xapian::TermIterator t = q.get_terms_begin();
  if (t == q.get_terms_end()) return std::nullopt;
  return *t;
}

// The window of an OP_PHRASE or OP_NEAR query. Xapian 1.4 does not expose
// it but writes it into the description, "Query((a@1 PHRASE 2 b@2))";
// only called on queries whose subqueries are terms, so the first number
// after the operator is this query's own.
std::optional<Xapian::termcount> window_of(const Xapian::Query& q) {
  const std::string op = q.get_type() == Xapian::Query::OP_PHRASE ? " PHRASE " : " NEAR ";
  const std::string desc = q.get_description();
  const size_t at = desc.find(op);
  if (at == std::string::npos) return std::nullopt;
  const char* digits = desc.c_str() + at + op.size();
  char* end = nullptr;
  const unsigned long window = std::strtoul(digits, &end, 10);
  if (end == digits || *end != ' ') return std::nullopt;
  return static_cast<Xapian::termcount>(window);
}

// `q` with `rewrite` applied to each node, top down: a node it replaces is
// not looked into; the operators above a replaced node are rebuilt, where
// their kind allows (see field_query.h). nullopt: nothing changed.
std::optional<Xapian::Query> apply(const Xapian::Query& q, Rewrite rewrite, const void* context) {
  if (auto replaced = rewrite(q, context)) return replaced;
  switch (q.get_type()) {
    case Xapian::Query::OP_AND:
    case Xapian::Query::OP_OR:
    case Xapian::Query::OP_AND_NOT:
    case Xapian::Query::OP_XOR:
    case Xapian::Query::OP_AND_MAYBE:
    case Xapian::Query::OP_FILTER:
    case Xapian::Query::OP_SYNONYM:
    case Xapian::Query::OP_MAX:
      break;
    default:
      return std::nullopt;
  }
  std::vector<Xapian::Query> subqueries;
  bool changed = false;
  for (size_t i = 0; i < q.get_num_subqueries(); ++i) {
    const Xapian::Query sub = q.get_subquery(i);
    std::optional<Xapian::Query> done = apply(sub, rewrite, context);
    changed = changed || done.has_value();
    subqueries.push_back(done ? *done : sub);
  }
  if (!changed) return std::nullopt;
  return Xapian::Query(q.get_type(), subqueries.begin(), subqueries.end());
}

// `q`, an unprefixed term or an OR or OP_SYNONYM of them (a synonym's
// word, wildcard-free), with `prefix` on each term; nullopt for anything
// else.
std::optional<Xapian::Query> in_field(const Xapian::Query& q, const std::string& prefix) {
  if (std::optional<std::string> term = leaf_term(q)) {
    if (is_prefixed(*term)) return std::nullopt;
    return Xapian::Query(prefix + *term);
  }
  const auto op = q.get_type();
  if (op != Xapian::Query::OP_OR && op != Xapian::Query::OP_SYNONYM) return std::nullopt;
  std::vector<Xapian::Query> subqueries;
  for (size_t i = 0; i < q.get_num_subqueries(); ++i) {
    std::optional<std::string> term = leaf_term(q.get_subquery(i));
    if (!term || is_prefixed(*term)) return std::nullopt;
    subqueries.emplace_back(prefix + *term);
  }
  return Xapian::Query(op, subqueries.begin(), subqueries.end());
}

struct WidenContext {
  int version;
  const Xapian::Database* db;
};

// Whether `word` (a term, or an OR or OP_SYNONYM of terms, as in_field()
// makes) has a term in some document of `db`.
bool can_match(const Xapian::Query& word, const Xapian::Database& db) {
  for (auto t = word.get_unique_terms_begin(); t != word.get_unique_terms_end(); ++t)
    if (db.term_exists(*t)) return true;
  return false;
}

std::optional<Xapian::Query> widen_phrase(const Xapian::Query& q, const void* context) {
  const auto& [version, db] = *static_cast<const WidenContext*>(context);
  const auto op = q.get_type();
  if (op != Xapian::Query::OP_PHRASE && op != Xapian::Query::OP_NEAR) return std::nullopt;
  const std::optional<Xapian::termcount> window = window_of(q);
  if (!window || q.get_num_subqueries() == 0) return std::nullopt;
  std::vector<Xapian::Query> alternatives{q};
  for (const schema::TextField& field : schema::kTextFields) {
    if (field.weight == 0 || schema::plain_positions(field, version)) continue;
    std::vector<Xapian::Query> words;
    bool possible = true;
    for (size_t i = 0; i < q.get_num_subqueries(); ++i) {
      std::optional<Xapian::Query> word = in_field(q.get_subquery(i), field.prefix);
      if (!word) return std::nullopt;
      possible = possible && (!db || can_match(*word, *db));
      words.push_back(std::move(*word));
    }
    if (possible) alternatives.emplace_back(op, words.begin(), words.end(), *window);
  }
  if (alternatives.size() == 1) return std::nullopt;
  return Xapian::Query(Xapian::Query::OP_SYNONYM, alternatives.begin(), alternatives.end());
}

std::optional<Xapian::Query> unstem_term(const Xapian::Query& q, const void* context) {
  std::optional<std::string> term = leaf_term(q);
  const std::string stem = schema::kPrefixStem;
  if (!term || term->compare(0, stem.size(), stem) != 0) return std::nullopt;
  const auto& parser = *static_cast<const Xapian::QueryParser*>(context);
  for (const schema::TextField& field : schema::kTextFields) {
    const std::string prefix = field.prefix;
    const size_t word_at = stem.size() + prefix.size();
    if (field.stemmed || term->compare(stem.size(), prefix.size(), prefix) != 0 ||
        term->size() <= word_at || is_prefixed(term->substr(word_at, 1)))
      continue;
    std::vector<Xapian::Query> words;
    for (auto w = parser.unstem_begin(*term); w != parser.unstem_end(*term); ++w)
      words.emplace_back(prefix + *w);
    if (words.empty()) return std::nullopt;
    return Xapian::Query(Xapian::Query::OP_OR, words.begin(), words.end());
  }
  return std::nullopt;
}

}  // namespace

Xapian::Query widen_phrases(const Xapian::Query& query, int version, const Xapian::Database* db) {
  const WidenContext context{version, db};
  std::optional<Xapian::Query> done = apply(query, widen_phrase, &context);
  return done ? *done : query;
}

Xapian::Query unstem_fields(const Xapian::Query& query, const Xapian::QueryParser& parser) {
  std::optional<Xapian::Query> done = apply(query, unstem_term, &parser);
  return done ? *done : query;
}

}  // namespace resdex
