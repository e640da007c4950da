#include "core/synonyms.h"

#include <algorithm>

#include "core/schema.h"
#include "core/text_normalizer.h"

namespace resdex {

namespace {

// Of the index words sharing a stem with a phrase word, at most this many
// are ORed in, found among at most kMaxScan terms of a common prefix.
constexpr size_t kMaxStemVariants = 32;
constexpr size_t kMaxScan = 10000;

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n\f\v";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

// The line without its comment: '#' at the start or after a space begins one.
std::string_view strip_comment(std::string_view line) {
  for (size_t i = 0; i < line.size(); ++i)
    if (line[i] == '#' && (i == 0 || is_space(line[i - 1]))) return line.substr(0, i);
  return line;
}

std::string join(const Synonyms::Form& form) {
  std::string out;
  for (const std::string& w : form) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

}  // namespace

Synonyms::Synonyms() : stem_(schema::kStemmer) {}

std::string Synonyms::key(const Form& form) const {
  std::string out;
  for (const std::string& w : form) {
    if (!out.empty()) out += ' ';
    out += stem_(w);
  }
  return out;
}

// Adds `forms` as a group, joined with every group that shares a form with
// it (by key); forms already in the group are dropped.
void Synonyms::add_group(std::vector<Form> forms) {
  std::vector<std::string> new_keys;
  std::set<size_t> hit;
  for (const Form& f : forms) {
    new_keys.push_back(key(f));
    auto it = by_key_.find(new_keys.back());
    if (it != by_key_.end()) hit.insert(it->second);
  }
  size_t target = hit.empty() ? groups_.size() : *hit.begin();
  if (hit.empty()) {
    groups_.emplace_back();
    keys_.emplace_back();
  }
  for (auto other = hit.rbegin(); other != hit.rend() && *other != target; ++other) {
    for (size_t i = 0; i < groups_[*other].size(); ++i) {
      groups_[target].push_back(std::move(groups_[*other][i]));
      keys_[target].push_back(std::move(keys_[*other][i]));
    }
  }
  for (size_t i = 0; i < forms.size(); ++i) {
    auto [it, fresh] = by_key_.emplace(new_keys[i], target);
    if (!fresh) continue;
    longest_ = std::max(longest_, forms[i].size());
    groups_[target].push_back(std::move(forms[i]));
    keys_[target].push_back(std::move(new_keys[i]));
  }
  if (hit.size() > 1) {
    // Drop the groups merged into `target` and renumber.
    for (auto other = hit.rbegin(); *other != target; ++other) {
      groups_.erase(groups_.begin() + static_cast<long>(*other));
      keys_.erase(keys_.begin() + static_cast<long>(*other));
    }
    by_key_.clear();
    for (size_t g = 0; g < keys_.size(); ++g)
      for (const std::string& k : keys_[g]) by_key_.emplace(k, g);
  }
}

Synonyms Synonyms::parse(std::string_view text, const std::string& path, const TextNormalizer& norm,
                         std::vector<ReadError>* errors) {
  Synonyms out;
  int number = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    std::string_view raw = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    start = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++number;
    auto fail = [&](const std::string& reason) { errors->push_back({path, number, reason}); };
    size_t bad = 0;
    if (!is_valid_utf8(raw, &bad)) {
      fail("invalid UTF-8 at byte " + std::to_string(bad + 1) + " of the line");
      continue;
    }
    std::string_view line = trim(strip_comment(raw));
    if (line.empty()) continue;
    std::vector<Form> forms;
    std::set<std::string> keys;
    bool ok = true;
    size_t from = 0;
    while (ok) {
      size_t eq = line.find('=', from);
      std::string_view part = trim(line.substr(from, eq == std::string_view::npos ? std::string_view::npos : eq - from));
      if (part.empty()) {
        fail(line.find('=') == std::string_view::npos
                 ? "expected forms separated by '=' (e.g. UQ = uncertainty quantification)"
                 : "empty form: '=' at the start or end of the line, or two in a row");
        ok = false;
        break;
      }
      Form form;
      for (const Token& t : norm.tokenize(part)) form.push_back(t.folded);
      if (form.empty()) {
        fail("the form '" + std::string(part) + "' has no words");
        ok = false;
      } else if (form.size() > kMaxSynonymFormWords) {
        fail("the form '" + std::string(part) + "' has " + std::to_string(form.size()) +
             " words; at most " + std::to_string(kMaxSynonymFormWords) + " are allowed");
        ok = false;
      } else if (keys.insert(out.key(form)).second) {
        forms.push_back(std::move(form));
      }
      if (eq == std::string_view::npos) break;
      from = eq + 1;
    }
    if (!ok) continue;
    if (forms.size() < 2) {
      fail(line.find('=') == std::string_view::npos
               ? "expected forms separated by '=' (e.g. UQ = uncertainty quantification)"
               : "the forms of the line are all the same word(s)");
      continue;
    }
    out.add_group(std::move(forms));
  }
  return out;
}

void Synonyms::merge(const Synonyms& other) {
  for (const auto& group : other.groups_) add_group(group);
}

// One group per line, forms separated by a tab, words by a space.
std::string Synonyms::serialize() const {
  std::string out;
  for (const auto& group : groups_) {
    for (size_t i = 0; i < group.size(); ++i) {
      if (i > 0) out += '\t';
      out += join(group[i]);
    }
    out += '\n';
  }
  return out;
}

Synonyms Synonyms::deserialize(std::string_view text) {
  Synonyms out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    start = nl == std::string_view::npos ? text.size() : nl + 1;
    std::vector<Form> forms;
    size_t from = 0;
    while (from <= line.size()) {
      size_t tab = line.find('\t', from);
      std::string_view part = line.substr(from, tab == std::string_view::npos ? std::string_view::npos : tab - from);
      from = tab == std::string_view::npos ? line.size() + 1 : tab + 1;
      Form form;
      size_t w = 0;
      while (w < part.size()) {
        size_t sp = part.find(' ', w);
        if (sp == std::string_view::npos) sp = part.size();
        if (sp > w) form.emplace_back(part.substr(w, sp - w));
        w = sp + 1;
      }
      if (!form.empty()) forms.push_back(std::move(form));
    }
    if (forms.size() >= 2) out.add_group(std::move(forms));
  }
  return out;
}

std::vector<Synonyms::Match> Synonyms::find(const std::vector<std::string>& words) const {
  std::vector<Match> out;
  if (groups_.empty()) return out;
  std::vector<std::string> stems;
  for (const std::string& w : words) stems.push_back(stem_(w));
  size_t i = 0;
  while (i < stems.size()) {
    bool found = false;
    for (size_t n = std::min(longest_, stems.size() - i); n > 0 && !found; --n) {
      std::string k;
      for (size_t j = i; j < i + n; ++j) {
        if (j > i) k += ' ';
        k += stems[j];
      }
      auto it = by_key_.find(k);
      if (it == by_key_.end()) continue;
      out.push_back({i, i + n, it->second});
      i += n;
      found = true;
    }
    if (!found) ++i;
  }
  return out;
}

Xapian::Query Synonyms::query(const Xapian::Database& db, size_t group, std::set<std::string>* terms) const {
  Xapian::Stem stem(schema::kStemmer);
  std::vector<Xapian::Query> forms;
  if (group >= groups_.size()) return Xapian::Query::MatchNothing;
  for (const Form& form : groups_[group]) {
    if (form.size() == 1) {
      std::string term = schema::kPrefixStem + stem(form[0]);
      forms.emplace_back(term);
      if (terms) terms->insert(term);
      continue;
    }
    std::vector<Xapian::Query> words;
    for (const std::string& w : form) {
      // The unstemmed words of the index with w's stem: positions are kept
      // for unstemmed words only. Stemming changes a word's end, so they
      // are found below the prefix the word and its stem share.
      const std::string s = stem(w);
      std::set<std::string> variants;
      if (db.term_exists(w)) variants.insert(w);
      size_t common = 0;
      while (common < w.size() && common < s.size() && w[common] == s[common]) ++common;
      if (common >= 3) {
        const std::string prefix = w.substr(0, common);
        size_t scanned = 0;
        for (auto t = db.allterms_begin(prefix);
             t != db.allterms_end(prefix) && scanned < kMaxScan && variants.size() < kMaxStemVariants;
             ++t, ++scanned)
          if (stem(*t) == s) variants.insert(*t);
      }
      if (variants.empty()) break;
      std::vector<Xapian::Query> alternatives(variants.begin(), variants.end());
      words.emplace_back(Xapian::Query::OP_OR, alternatives.begin(), alternatives.end());
      if (terms) terms->insert(variants.begin(), variants.end());
    }
    if (words.size() == form.size())
      forms.emplace_back(Xapian::Query::OP_PHRASE, words.begin(), words.end(),
                         static_cast<Xapian::termcount>(words.size()));
  }
  return Xapian::Query(Xapian::Query::OP_SYNONYM, forms.begin(), forms.end());
}

Xapian::Query SynonymProcessor::operator()(const std::string& group) {
  size_t g = 0;
  for (char c : group) {
    if (c < '0' || c > '9') return Xapian::Query::MatchNothing;
    g = g * 10 + static_cast<size_t>(c - '0');
    if (g > synonyms_.groups().size()) return Xapian::Query::MatchNothing;
  }
  return synonyms_.query(db_, g, terms_);
}

namespace {

bool is_word_byte(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return std::isalnum(u) || u >= 0x80 || c == '_';
}

bool is_operator(std::string_view w) {
  return w == "AND" || w == "OR" || w == "NOT" || w == "XOR" || w == "NEAR" || w == "ADJ";
}

}  // namespace

std::string rewrite_synonyms(const std::string& q, const Synonyms& synonyms, const TextNormalizer& norm,
                             const std::string& field) {
  if (synonyms.empty()) return q;
  struct Word {
    size_t begin, end;
    std::string folded;
    bool plain;
    bool signed_;
  };
  std::vector<Word> words;
  bool quoted = false;
  for (size_t i = 0; i < q.size();) {
    if (q[i] == '"') {
      quoted = !quoted;
      ++i;
      continue;
    }
    if (!is_word_byte(q[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < q.size() && is_word_byte(q[j])) ++j;
    Word w{i, j, "", !quoted, false};
    if (i > 0 && !is_space(q[i - 1]) && q[i - 1] != '(') {
      bool sign = q[i - 1] == '+' || q[i - 1] == '-';
      if (sign && (i == 1 || is_space(q[i - 2]) || q[i - 2] == '('))
        w.signed_ = true;
      else
        w.plain = false;
    }
    if (j < q.size() && !is_space(q[j]) && q[j] != ')') w.plain = false;
    std::string_view text(q.data() + i, j - i);
    if (is_operator(text)) w.plain = false;
    if (w.plain) {
      std::vector<Token> tokens = norm.tokenize(text);
      if (tokens.size() == 1 && tokens[0].begin == 0 && tokens[0].end == text.size())
        w.folded = tokens[0].folded;
      else
        w.plain = false;
    }
    words.push_back(std::move(w));
    i = j;
  }
  // NEAR and ADJ take single terms: leave their operands alone.
  for (size_t k = 0; k < words.size(); ++k) {
    std::string_view text(q.data() + words[k].begin, words[k].end - words[k].begin);
    if (text != "NEAR" && text != "ADJ") continue;
    if (k > 0) words[k - 1].plain = false;
    // "NEAR/3": the 3 is a word of its own here.
    size_t next = k + 1;
    if (next < words.size() && words[k].end < q.size() && q[words[k].end] == '/') words[next++].plain = false;
    if (next < words.size()) words[next].plain = false;
  }

  std::string out;
  size_t copied = 0;
  size_t k = 0;
  while (k < words.size()) {
    if (!words[k].plain) {
      ++k;
      continue;
    }
    // A run: plain words apart by spaces only; a signed word stands alone.
    size_t end = k + 1;
    if (!words[k].signed_) {
      while (end < words.size() && words[end].plain && !words[end].signed_ &&
             std::all_of(q.begin() + static_cast<long>(words[end - 1].end),
                         q.begin() + static_cast<long>(words[end].begin), is_space))
        ++end;
    }
    std::vector<std::string> run;
    for (size_t m = k; m < end; ++m) run.push_back(words[m].folded);
    for (const Synonyms::Match& match : synonyms.find(run)) {
      const Word& first = words[k + match.begin];
      const Word& last = words[k + match.end - 1];
      out.append(q, copied, first.begin - copied);
      out += field + ":" + std::to_string(match.group);
      copied = last.end;
    }
    k = end;
  }
  out.append(q, copied, std::string::npos);
  return out;
}

}  // namespace resdex
