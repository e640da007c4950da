// An even sample of a database's documents, for estimating how many
// documents match a query, and how they spread over the facets, without
// looking at every match.
//
// A search reports its total and facet counts over all matches; on a large
// index a broad query has tens of thousands, and looking at each costs many
// times what ranking the page costs (docs/performance.md). Past
// Searcher's limit the counts are made on the matches that fall in a
// sample of 1 in k documents and multiplied by k.
//
// The sample is the documents whose docid, multiplied by 2^32 / golden
// ratio (Fibonacci hashing), falls below 2^32 / k. Consecutive docids
// spread evenly over the hash range, so the sample takes about every k-th
// document of every stretch of the index (corpus order: years, venues)
// rather than a clump, and the same documents every time: the same query
// gives the same estimate.
#pragma once

#include <cstdint>

#include <xapian.h>

namespace resdex {

// The position of `did` in the order of the samples: the sample that keeps
// `threshold` in 2^32 documents holds the documents whose hash is below it
// (in_sample). A bijection of the 32-bit docids, so the docid can be had
// back (sample_unhash).
inline uint32_t sample_hash(Xapian::docid did) { return static_cast<uint32_t>(did * 0x9E3779B1u); }
inline Xapian::docid sample_unhash(uint32_t hash) {
  // 0x0E8B2F51 is the inverse of 0x9E3779B1 modulo 2^32.
  return static_cast<Xapian::docid>(hash * 0x0E8B2F51u);
}

// True if `did` is in the sample that keeps `threshold` in 2^32 documents.
inline bool in_sample(Xapian::docid did, uint32_t threshold) { return sample_hash(did) < threshold; }

// The threshold of a sample of about 1 in `k` documents (k >= 1).
uint32_t sample_threshold(double k);

// The documents of the sample, as a query to filter with
// (Xapian::Query::OP_FILTER). Matches no weight. Needs local databases:
// xapian-tcpsrv knows only Xapian's own posting sources.
Xapian::Query sample_query(uint32_t threshold);

// The matches of `query` in the sample with `threshold`: what
// Query(OP_FILTER, query, sample_query(threshold)) matches, with the filter
// moved down to the phrases (and NEARs) where `query` has them under an
// OR. Xapian 1.4 checks the positions of a phrase under an AND only for
// the documents the AND's other parts leave, but advances one under an OR
// document by document: the filter on top of OR(phrase, word) checks the
// positions of every document with all the phrase's words, one on each
// branch only the sample's (2.3 ms -> 0.7 ms counting "low-resource
// languages" on the ACL abstracts, where the parser makes a phrase of
// each field's "low resource"). Weights are not kept: for counting.
Xapian::Query sample_matches(const Xapian::Query& query, uint32_t threshold);

}  // namespace resdex
