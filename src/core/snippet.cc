#include "core/snippet.h"

#include <algorithm>
#include <map>

#include "core/schema.h"
#include "core/text_normalizer.h"

namespace resdex {

namespace {

constexpr std::string_view kEllipsis = "\u2026";

// The term without its field prefix: Xapian prefixes are upper-case ASCII,
// and indexed words are folded to lower case.
std::string_view strip_prefix(std::string_view term) {
  size_t i = 0;
  while (i < term.size() && term[i] >= 'A' && term[i] <= 'Z') ++i;
  return term.substr(i);
}

bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Whether `s` starts with one of `prefixes`.
bool starts_with_any(std::string_view s, const std::vector<std::string>& prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(),
                     [&](const std::string& p) { return s.compare(0, p.size(), p) == 0; });
}

// True if text[at] is inside a UTF-8 sequence, where no cut may fall.
bool inside_char(std::string_view text, size_t at) {
  return at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80;
}

}  // namespace

Highlighter::Highlighter(const TextNormalizer& norm, const std::vector<std::string>& terms,
                         const std::vector<std::string>& wildcards, StemMemo* memo)
    : norm_(norm), stem_(memo ? memo : &own_memo_), wildcards_(wildcards) {
  for (const std::string& term : terms) {
    if (term.empty()) continue;
    const bool stemmed = term[0] == 'Z';
    std::string form(strip_prefix(std::string_view(term).substr(stemmed ? 1 : 0)));
    // Xapian's TermGenerator keeps up to three trailing '+' or '#' in a
    // word ("c++", "cd4+"), which tokenize() leaves out of the word: match
    // the word without them (stemmed again: "cells+" was its own stem).
    const size_t keep = form.find_last_not_of("+#");
    if (keep != std::string::npos && form.size() - keep - 1 <= 3 && keep + 1 < form.size()) {
      form.resize(keep + 1);
      if (stemmed) form = (*stem_)(form);
    }
    if (form.empty()) continue;
    if (stemmed) stem_heads_.push_back(form.substr(0, form.size() > 2 ? form.size() - 2 : 1));
    (stemmed ? stems_ : words_).emplace(std::move(form));
  }
  for (const std::string& w : words_) first_bytes_.set(static_cast<unsigned char>(w[0]));
  for (const std::string& h : stem_heads_) first_bytes_.set(static_cast<unsigned char>(h[0]));
  for (const std::string& w : wildcards_) {
    if (w.empty()) first_bytes_.set();
    else first_bytes_.set(static_cast<unsigned char>(w[0]));
  }
}

bool Highlighter::matches(std::string_view word, std::string_view folded) const {
  return match_id(word, folded) >= 0;
}

bool Highlighter::may_match(std::string_view word, std::string_view folded) const {
  // A word with an umlaut may match by its German spelling (match_uncached).
  if (folded.empty() || !first_bytes_[static_cast<unsigned char>(folded[0])]) return has_umlaut(word);
  return starts_with_any(folded, wildcards_) || words_.count(folded) || starts_with_any(folded, stem_heads_) ||
         has_umlaut(word);
}

int Highlighter::match_id(std::string_view word, std::string_view folded) const {
  // Most words of a text match nothing, and the few checks of may_match()
  // tell most of them. The others are stemmed and looked up once each: a
  // text repeats its words, and make() asks again for the passage it
  // renders.
  if (!may_match(word, folded)) return -1;
  auto known = seen_.find(word);
  if (known != seen_.end()) return known->second;
  int id = -1;
  std::string key;
  if (match_uncached(word, folded, &key)) id = keys_.emplace(std::move(key), static_cast<int>(keys_.size())).first->second;
  seen_.emplace(std::string(word), id);
  return id;
}

bool Highlighter::match_uncached(std::string_view word, std::string_view folded, std::string* key) const {
  const std::string f(folded);
  // What a matching word matches as: its stem if any term is a stem, else
  // its folded form.
  auto matched = [&] {
    *key = stems_.empty() ? f : (*stem_)(f);
    return true;
  };
  if (starts_with_any(folded, wildcards_)) return matched();
  if (words_.empty() && stems_.empty()) return false;
  auto stem_matches = [&](const std::string& w) { return starts_with_any(w, stem_heads_) && stems_.count((*stem_)(w)); };
  if (words_.count(f) || stem_matches(f)) return matched();
  std::string german = norm_.german_variant(word);
  if (!german.empty() && (words_.count(german) || stem_matches(german))) return matched();
  return false;
}

Snippet Highlighter::render(std::string_view text, const Word* words, const char* matched, size_t count,
                            size_t begin, size_t end, bool cut_before, bool cut_after) const {
  Snippet out;
  out.text.reserve(end - begin + 2 * kEllipsis.size());
  if (cut_before) out.text += kEllipsis;
  size_t pos = begin;
  bool pending_space = false;
  for (size_t w = 0; w < count; ++w) {
    const Word* tok = &words[w];
    // The gap before the word, whitespace collapsed.
    for (size_t i = pos; i < tok->begin; ++i) {
      if (is_space(static_cast<unsigned char>(text[i]))) {
        pending_space = true;
        continue;
      }
      if (pending_space && out.text.size() > (cut_before ? kEllipsis.size() : 0)) out.text += ' ';
      pending_space = false;
      out.text += text[i];
    }
    if (pending_space && out.text.size() > (cut_before ? kEllipsis.size() : 0)) out.text += ' ';
    pending_space = false;
    size_t word_begin = out.text.size();
    std::string_view word = text.substr(tok->begin, tok->end - tok->begin);
    out.text.append(word);
    if (matched[w]) out.highlights.emplace_back(word_begin, out.text.size());
    pos = tok->end;
  }
  for (size_t i = pos; i < end; ++i) {
    if (is_space(static_cast<unsigned char>(text[i]))) {
      pending_space = true;
      continue;
    }
    if (pending_space) out.text += ' ';
    pending_space = false;
    out.text += text[i];
  }
  if (cut_after) out.text += kEllipsis;
  return out;
}

int Highlighter::match_id(std::string_view text, const Words& words, const Words::Span& w) const {
  const std::string_view folded = words.folded_of(w);
  // The test may_match() starts with, without a call, for most words: an
  // ASCII word has no umlaut.
  if (w.ascii && !first_bytes_[static_cast<unsigned char>(folded[0])]) return -1;
  return match_id(text.substr(w.begin, w.end - w.begin), folded);
}

Snippet Highlighter::mark_all(std::string_view text) const {
  norm_.words(text, &words_of_text_);
  std::vector<Word> words;
  std::vector<char> matched;
  for (const Words::Span& w : words_of_text_.spans) {
    words.push_back({w.begin, w.end});
    matched.push_back(match_id(text, words_of_text_, w) >= 0);
  }
  return render(text, words.data(), matched.data(), words.size(), 0, text.size(), false, false);
}

Snippet Highlighter::make(std::string_view text, size_t length) const {
  // The words, which match, and an id per distinct matching form.
  norm_.words(text, &words_of_text_);
  std::vector<Word> tokens;
  std::vector<char> matched;
  std::vector<size_t> hits;   // indexes into tokens
  std::vector<int> hit_term;  // distinct-term id of each hit
  tokens.reserve(words_of_text_.spans.size());
  matched.reserve(words_of_text_.spans.size());
  for (const Words::Span& w : words_of_text_.spans) {
    const int id = match_id(text, words_of_text_, w);
    if (id >= 0) {
      hits.push_back(tokens.size());
      hit_term.push_back(id);
    }
    tokens.push_back({w.begin, w.end});
    matched.push_back(id >= 0);
  }
  if (tokens.empty()) {
    size_t end = std::min(text.size(), length);
    while (end > 0 && inside_char(text, end)) --end;
    return render(text, nullptr, nullptr, 0, 0, end, false, end < text.size());
  }

  size_t first = 0;  // index of the token the passage starts at
  if (!hits.empty()) {
    // The window of hits spanning at most `length` bytes with the most
    // distinct terms, then the most hits; the earliest on ties. The
    // window [a, b) slides: a hit that fits after a fits after a + 1.
    size_t best = 0, best_distinct = 0, best_count = 0, best_span = 0;
    std::vector<size_t> in_window(keys_.size());  // hits of each distinct term
    size_t distinct = 0;
    for (size_t a = 0, b = 0; a < hits.size(); ++a) {
      if (b < a) b = a;  // the window was empty
      for (; b < hits.size() && tokens[hits[b]].end - tokens[hits[a]].begin <= length; ++b)
        if (in_window[hit_term[b]]++ == 0) ++distinct;
      const size_t count = b - a;
      if (distinct > best_distinct || (distinct == best_distinct && count > best_count)) {
        best = a;
        best_distinct = distinct;
        best_count = count;
        best_span = tokens[hits[b - 1]].end - tokens[hits[a]].begin;
      }
      if (b > a && --in_window[hit_term[a]] == 0) --distinct;
    }
    // Centre the cluster: spend a third of the slack before it.
    size_t slack = length > best_span ? length - best_span : 0;
    size_t anchor = tokens[hits[best]].begin;
    size_t want = anchor > slack / 3 ? anchor - slack / 3 : 0;
    first = hits[best];
    while (first > 0 && tokens[first - 1].begin >= want) --first;
    // Prefer starting at a sentence start if one lies in the lead-in.
    for (size_t i = first; i < hits[best]; ++i) {
      size_t gap_begin = i == 0 ? 0 : tokens[i - 1].end;
      std::string_view gap = text.substr(gap_begin, tokens[i].begin - gap_begin);
      if (gap.find_first_of(".!?\n") != std::string_view::npos) {
        first = i;
        break;
      }
    }
  }

  size_t begin = first == 0 ? 0 : tokens[first].begin;
  size_t last = first;
  while (last + 1 < tokens.size() && tokens[last + 1].end - begin <= length) ++last;
  size_t end = tokens[last].end;
  // Keep closing punctuation that follows the last word ("tools.").
  while (end < text.size() && !is_space(static_cast<unsigned char>(text[end])) &&
         (last + 1 >= tokens.size() || end < tokens[last + 1].begin) && end - begin < length + 8)
    ++end;
  while (end > tokens[last].end && inside_char(text, end)) --end;
  bool at_end = last + 1 >= tokens.size();
  if (at_end) end = text.size();
  return render(text, tokens.data() + first, matched.data() + first, last + 1 - first, begin, end, begin > 0,
                !at_end);
}

}  // namespace resdex
