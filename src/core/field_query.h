// Fits a parsed query to how the indexer lays out the text fields of
// schema::kTextFields (name, title, department):
//
// - The unprefixed copy of most fields carries no positions, so a phrase
//   or NEAR of plain words (`"inverse problems"`, `state-of-the-art`)
//   would not see their text. widen_phrases() asks for it in each such
//   field as well: (a PHRASE b) becomes (a PHRASE b) SYNONYM (Aa PHRASE
//   Ab) SYNONYM ... (schema::TextField says which fields).
// - A field that is not stemmed (the name) has no "Z" stems, so a stemmed
//   term the parser made for it (`name:manning` -> "ZAman") matches
//   nothing; unstem_fields() puts back the word as typed ("Amanning").
//
// Both rebuild only the operators above a changed node; a node they cannot
// rebuild (one whose parameter Xapian 1.4 does not expose: OP_ELITE_SET,
// OP_SCALE_WEIGHT, value ranges, posting sources) is kept as it was, with
// whatever it holds.
#pragma once

#include <xapian.h>

namespace resdex {

// `query` with every OP_PHRASE / OP_NEAR whose subqueries are all
// unprefixed terms (or ORs of them, as a synonym's words are) joined by
// OP_SYNONYM to the same phrase in each text field whose unprefixed copy
// has no positions in an index of schema `version`
// (schema::plain_positions()). With `db`, a field's phrase that cannot
// match there (a word of it in no document) is left out, and a phrase
// left without any is kept as it is.
//
// A synonym, not an OR: an OR weights a phrase found in a name by the
// rarity of the name's own terms, so that a record whose author list
// reads "Machine Translation" outranked every abstract on machine
// translation, and that branch's large maximum weight kept Xapian from
// skipping documents that could no longer make the page (the quoted ACL
// query of tools/bench took 0.6 ms longer). As a synonym the phrase
// counts as one term wherever it occurs. The phrases that cannot match
// are left out because a bare phrase lets Xapian check positions only for
// documents that could make the page, where a synonym needs every
// document's count (docs/performance.md).
Xapian::Query widen_phrases(const Xapian::Query& query, int version, const Xapian::Database* db = nullptr);

// `query` with each stemmed term of an unstemmed text field ("Z" + its
// prefix + stem) replaced by the words `parser` stemmed to it (ORed when
// several), prefixed. `parser` must be the one that parsed `query`, and
// not have parsed another since (it keeps the words of its last query only).
Xapian::Query unstem_fields(const Xapian::Query& query, const Xapian::QueryParser& parser);

}  // namespace resdex
