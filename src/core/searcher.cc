#include "core/searcher.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include <xapian.h>

#include "core/aside_task.h"
#include "core/document_builder.h"
#include "core/error.h"
#include "core/facet_dictionary.h"
#include "core/facets.h"
#include "core/field_query.h"
#include "core/index_location.h"
#include "core/facet_column.h"
#include "core/mapped_file.h"
#include "core/match_sample.h"
#include "core/schema.h"
#include "core/snippet.h"
#include "core/stopwords.h"
#include "core/synonyms.h"
#include "core/text_normalizer.h"

namespace resdex {

namespace {

// Wildcards expand to at most this many terms (the most frequent ones), so
// that "a*" on a large index stays fast.
constexpr Xapian::termcount kMaxWildcardExpansion = 256;

// Readers retry this often when a writer commits under them, or switches
// the stub to a new generation and removes the one being read.
constexpr int kModifiedRetries = 5;

// Words of a query read with the query language; a longer one is read as
// plain words.
constexpr size_t kMaxParsedWords = 256;

// Wildcards of one query expanded as such; each costs a walk of the term
// list. Later ones are read as plain words.
constexpr size_t kMaxWildcards = 32;

// Counts (total, facets) are exact up to this many matches, as Xapian
// estimates them (before matching when counting aside, else from the
// ranked page); past it they are estimated from a sample of about
// kCountSample matches (match_sample.h), unless the caller asks for exact
// counts. Counting every match costs ~2-3 k instructions a match (matching
// with weights, reading the facet slot): at 2,000 about what the rest of
// a search costs, at 50,000 ten times that.
constexpr double kExactCountLimit = 2000;
constexpr double kCountSample = 1000;

// How long a counting thread done before the search's page waits for it
// (Searcher::Impl::wait_for_page). The page came up to ~1 ms after the
// counts for the benchmark's queries on the ACL abstracts; past this the
// search is slow for another reason, and the thread's help would be small.
constexpr std::chrono::microseconds kPageWait{2000};

// Highlighting asks each posting list of a query of at most this many
// terms whether a hit has it (Searcher::Impl::matching_terms).
constexpr size_t kMaxStepTerms = 64;

// Whether a hit of the query is taken to have `term` without asking the
// index (Searcher::Impl::matching_terms): an unprefixed word of ASCII
// letters, or its stem. The highlighter finds such a word only in text the
// indexer wrote it from, as an unprefixed term (the body and every text
// field have unprefixed copies), so a hit without the term has no such
// word to highlight. The exceptions are words Xapian's TermGenerator wrote
// joined to what follows ("AT&T" as "at&t", "C++" as "c++") or not at all
// (over 64 bytes): their letters are then highlighted as the query's word.
bool highlight_without_asking(std::string_view term) {
  if (!term.empty() && term[0] == schema::kPrefixStem[0]) term.remove_prefix(1);
  return !term.empty() &&
         std::all_of(term.begin(), term.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

// Whether the stub text lists a shard served over the network, where
// resdex's own posting source and match spy cannot run.
bool lists_remote_shard(const std::string& stub) {
  size_t at = 0;
  while (at < stub.size()) {
    size_t end = stub.find('\n', at);
    if (end == std::string::npos) end = stub.size();
    std::string line = stub.substr(at, end - at);
    const size_t word = line.find_first_not_of(" \t");
    if (word != std::string::npos) {
      const std::string first = line.substr(word, line.find_first_of(" \t", word) - word);
      if (first == "remote" || first == "tcp" || first == "prog") return true;
    }
    at = end + 1;
  }
  return false;
}

// A query longer than kMaxQueryBytes is refused: the cost of parsing and
// matching grows with it, quadratically for some shapes, and no real query
// comes near.
void check_query(const std::string& query) {
  if (query.size() > kMaxQueryBytes)
    throw Error(Error::Kind::kUsage, "the query is " + std::to_string(query.size()) +
                                         " bytes long; resdex reads queries of at most " +
                                         std::to_string(kMaxQueryBytes) + " bytes");
}

// `query` with the '*' of every wildcard after the first kMaxWildcards
// removed; nullopt if it has no more than that.
std::optional<std::string> drop_extra_wildcards(const std::string& query) {
  size_t wildcards = 0;
  std::string out;
  for (size_t i = 0; i < query.size(); ++i) {
    if (query[i] == '*' && i > 0 && !std::isspace(static_cast<unsigned char>(query[i - 1])) &&
        ++wildcards > kMaxWildcards)
      continue;
    out += query[i];
  }
  if (wildcards <= kMaxWildcards) return std::nullopt;
  return out;
}

// `field:value` for boolean fields: the value is matched on its canonical
// key, as the indexer wrote it, so case, accents and full institution names
// do not matter.
class BooleanFieldProcessor : public Xapian::FieldProcessor {
 public:
  BooleanFieldProcessor(std::string prefix, const TextNormalizer& norm)
      : prefix_(std::move(prefix)), norm_(norm) {}
  Xapian::Query operator()(const std::string& value) override {
    return Xapian::Query(schema::boolean_term(prefix_, value, norm_));
  }

 private:
  std::string prefix_;
  const TextNormalizer& norm_;
};

// Trailing wildcards, expanded by resdex rather than by Xapian's
// OP_WILDCARD: Xapian 1.4 expands and weights OP_WILDCARD per shard, so the
// same query scores differently on a sharded index. Here the expansion is
// made once over the whole database into an OP_SYNONYM of explicit terms
// (the most frequent kMaxWildcardExpansion), which scores the same however
// the index is split. The query text reaches it as `<kWildcardField>:stem`
// or `<kWildcardField><field>:stem`. Next to NEAR or ADJ, Xapian 1.4 takes
// terms and ORs of them only: in a query with NEAR or ADJ each expansion
// is an OP_OR (Searcher::Impl::parse).
constexpr const char* kWildcardField = "resdexwildcard";

class WildcardProcessor : public Xapian::FieldProcessor {
 public:
  // `combine`: OP_SYNONYM, or OP_OR where the expansion may stand in a
  // NEAR or phrase.
  WildcardProcessor(const Xapian::Database& db, std::string prefix, Xapian::Query::op combine)
      : db_(db), prefix_(std::move(prefix)), combine_(combine) {}

  Xapian::Query operator()(const std::string& stem) override {
    const std::string start = prefix_ + stem;
    std::vector<std::pair<Xapian::doccount, std::string>> terms;
    for (auto t = db_.allterms_begin(start); t != db_.allterms_end(start); ++t) {
      // An unprefixed wildcard must not reach into prefixed terms.
      if (prefix_.empty() && !(*t).empty() && (*t)[0] >= 'A' && (*t)[0] <= 'Z') continue;
      terms.emplace_back(t.get_termfreq(), *t);
    }
    if (terms.size() > kMaxWildcardExpansion) {
      std::partial_sort(terms.begin(), terms.begin() + kMaxWildcardExpansion, terms.end(),
                        [](const auto& a, const auto& b) {
                          return a.first != b.first ? a.first > b.first : a.second < b.second;
                        });
      terms.resize(kMaxWildcardExpansion);
    }
    std::vector<Xapian::Query> subs;
    for (auto& [freq, term] : terms) subs.emplace_back(term);
    return Xapian::Query(combine_, subs.begin(), subs.end());
  }

 private:
  Xapian::Database db_;
  std::string prefix_;
  Xapian::Query::op combine_;
};

// Whether `text` may have the operator NEAR or ADJ (or NEAR/n, ADJ/n):
// either word between bytes that are not ASCII letters, digits or '_'.
// Xapian's parser also takes "NEAR" after a character that is not a
// letter in a Unicode sense ("\ufffdNEAR"); so does this, and after any
// other non-ASCII character too, which costs nothing but a wildcard's
// weighting (Searcher::Impl::parse).
bool names_near_or_adj(std::string_view text) {
  auto ascii_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (std::string_view op : {"NEAR", "ADJ"}) {
    for (size_t at = text.find(op); at != std::string_view::npos; at = text.find(op, at + 1)) {
      const size_t end = at + op.size();
      if ((at == 0 || !ascii_word(text[at - 1])) && (end == text.size() || !ascii_word(text[end]))) return true;
    }
  }
  return false;
}

bool is_word_byte(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return std::isalnum(u) || u >= 0x80 || c == '_';
}

// Rewrites each trailing wildcard of a folded query ("optimi*",
// "title:optimi*") as a term of the wildcard field, left alone inside
// quoted phrases.
std::string rewrite_wildcards(const std::string& q) {
  std::string out;
  bool quoted = false;
  size_t i = 0;
  while (i < q.size()) {
    if (q[i] == '"') {
      quoted = !quoted;
      out += q[i++];
      continue;
    }
    bool at_start = i == 0 || !(is_word_byte(q[i - 1]) || q[i - 1] == ':' || q[i - 1] == '\'');
    if (quoted || !at_start || !is_word_byte(q[i])) {
      out += q[i++];
      continue;
    }
    size_t j = i;
    while (j < q.size() && is_word_byte(q[j])) ++j;
    std::string field, word = q.substr(i, j - i);
    size_t k = j;
    if (k < q.size() && q[k] == ':') {
      size_t m = k + 1;
      while (m < q.size() && is_word_byte(q[m])) ++m;
      if (m > k + 1 && m < q.size() && q[m] == '*') {
        field = word;
        word = q.substr(k + 1, m - k - 1);
        k = m;
      }
    }
    if (k < q.size() && q[k] == '*' && (k + 1 == q.size() || !is_word_byte(q[k + 1]))) {
      out += std::string(kWildcardField) + field + ":" + word;
      i = k + 1;
    } else {
      out += q.substr(i, j - i);
      i = j;
    }
  }
  return out;
}

// Each hyphenated word with a digit ("il-6", "covid-19") of a folded query,
// outside quoted phrases and not after a field name or an operator, as
// "(il-6 OR il6)": the parser reads "il-6" as the phrase "il 6", which a
// text writing "IL6" does not have, while the indexer indexes "IL-6" as
// "il6" too (identifier_spellings), so either spelling finds both.
std::string widen_identifiers(const std::string& q) {
  std::string out;
  bool quoted = false;
  size_t i = 0;
  while (i < q.size()) {
    if (q[i] == '"') quoted = !quoted;
    const bool at_start = i == 0 || q[i - 1] == ' ' || q[i - 1] == '(';
    if (quoted || !at_start || !is_word_byte(q[i])) {
      out += q[i++];
      continue;
    }
    size_t j = i;
    while (j < q.size() && (is_word_byte(q[j]) || (q[j] == '-' && j + 1 < q.size() && is_word_byte(q[j + 1])))) ++j;
    const std::string word = q.substr(i, j - i);
    const bool ends_word = j == q.size() || q[j] == ' ' || q[j] == ')';
    std::string alternatives;
    if (ends_word && word.find('-') != std::string::npos &&
        std::any_of(word.begin(), word.end(), [](unsigned char c) { return std::isdigit(c); })) {
      std::istringstream spellings(identifier_spellings(word));
      for (std::string w; spellings >> w;)
        if (w != word && w.find('-') == std::string::npos) alternatives += " OR " + w;
    }
    out += alternatives.empty() ? word : "(" + word + alternatives + ")";
    i = j;
  }
  return out;
}

// The inverse of rewrite_wildcards, for showing a corrected query.
std::string restore_wildcards(std::string q) {
  const std::string mark = kWildcardField;
  for (size_t at = q.find(mark); at != std::string::npos; at = q.find(mark, at)) {
    size_t colon = q.find(':', at);
    if (colon == std::string::npos) break;
    std::string field = q.substr(at + mark.size(), colon - at - mark.size());
    size_t end = colon + 1;
    while (end < q.size() && is_word_byte(q[end])) ++end;
    std::string word = q.substr(colon + 1, end - colon - 1);
    std::string plain = (field.empty() ? "" : field + ":") + word + "*";
    q.replace(at, end - at, plain);
    at += plain.size();
  }
  return q;
}

// Runs of query words that are forms of a synonym group reach the parser
// as `<kSynonymField>:group` (rewrite_synonyms).
constexpr const char* kSynonymField = "resdexsynonym";

bool blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

// Terms of the document text worth expanding with: "Z" stems of words
// (not of prefixed fields) and, with `words`, the unprefixed words; never
// prefixed or boolean terms (ids, filters, fields) nor those in `exclude`.
struct TextTermsOnly : Xapian::ExpandDecider {
  bool words = false;
  std::set<std::string> exclude;
  // With it, also terms no other document has: they would match nothing.
  const Xapian::Database* shared_in = nullptr;
  // Leave out English stop words ("where", "also"), as words or stems.
  bool no_stopwords = false;
  bool operator()(const std::string& term) const override {
    if (term.empty() || exclude.count(term)) return false;
    if (no_stopwords && is_stopword(term[0] == 'Z' ? term.substr(1) : term)) return false;
    if (shared_in && shared_in->get_termfreq(term) < 2) return false;
    const bool upper = term[0] >= 'A' && term[0] <= 'Z';
    if (!upper) return words;
    return term.size() > 2 && term[0] == 'Z' && !(term[1] >= 'A' && term[1] <= 'Z');
  }
};

// The terms of `eset` ORed, each weighing in proportion to its ESet weight,
// the best at `top`.
Xapian::Query weighted_terms(const Xapian::ESet& eset, double top) {
  std::vector<Xapian::Query> terms;
  const double top_weight = eset.begin().get_weight();
  for (auto it = eset.begin(); it != eset.end(); ++it)
    terms.emplace_back(Xapian::Query::OP_SCALE_WEIGHT, Xapian::Query(*it),
                       top * it.get_weight() / top_weight);
  return Xapian::Query(Xapian::Query::OP_OR, terms.begin(), terms.end());
}

// The weight of the counting pass, which needs none: every match weighs 0.
// BM25 there read each match's document length (8-11% of a search's
// instructions). It asks for the wdf it does not use: Xapian 1.4.22 reads
// posting lists another way for a weight that needs no wdf (as for
// Xapian::BoolWeight), and that way miscounts or throws
// DatabaseCorruptError on glass databases updated in place (the full-disk
// case of tests/e2e/reliability_test.cc fails without it). Not through
// xapian-tcpsrv, which knows only Xapian's own weights.
class NoWeight : public Xapian::Weight {
 public:
  NoWeight() { need_stat(WDF); }
  NoWeight* clone() const override { return new NoWeight; }
  std::string name() const override { return "resdex::NoWeight"; }
  std::string serialise() const override { return std::string(); }
  NoWeight* unserialise(const std::string&) const override { return new NoWeight; }
  void init(double) override {}
  double get_sumpart(Xapian::termcount, Xapian::termcount, Xapian::termcount) const override { return 0; }
  double get_maxpart() const override { return 0; }
  double get_sumextra(Xapian::termcount, Xapian::termcount) const override { return 0; }
  double get_maxextra() const override { return 0; }
};

// A search's total and facet counts (SearchResult's fields of those names).
struct Counts {
  size_t total = 0;
  bool total_exact = true;
  bool facets_exact = true;
  std::vector<FacetCounts> facets;

  // An estimated total kept within Xapian's bounds on the number of
  // matches (exact when they meet, as for one term), and no facet value
  // counted more often than it.
  void bound(size_t lower, size_t upper) {
    if (total_exact) return;
    total_exact = lower == upper;
    total = total_exact ? lower : std::clamp(total, lower, upper);
    for (FacetCounts& f : facets)
      for (FacetCount& c : f.counts) c.count = std::min(c.count, total);
  }
};

// Terms of a document that make up the query of Searcher::similar. Enough
// to describe a research description's topics; more only add noise.
constexpr Xapian::termcount kSimilarTerms = 40;

}  // namespace

struct Searcher::Impl {
  IndexLocation location;
  Xapian::Database db;
  std::string stub;  // the stub's text when `db` was opened
  // The schema version `db` was written with: which fields a phrase of
  // plain words is asked for separately (widen_phrases).
  int version = schema::kVersion;
  TextNormalizer norm;
  RankingOptions ranking;
  Synonyms synonyms;                  // as stored in the index
  // Reads the stored data of `db`; made on first use, as a search for ids
  // only needs none. With the dictionary of the generation's file while
  // the records name it (codec_from_file), else with the metadata's.
  std::unique_ptr<DataCodec> codec;
  bool codec_from_file = false;
  std::set<std::string> synonym_terms;  // terms the synonyms of a query added

  Impl(const std::string& dir, RankingOptions r, const SearcherOptions& options) : location(dir), ranking(r) {
    // Started first, so that its handle opens while `db` does.
    if (options.prepare_counting) next_counting = start_counting(std::nullopt, "");
    reopen();
  }

  // How facets are counted on `db`: kBuiltIn once a remote shard has
  // refused resdex's own spy.
  FacetCounter::Mode facet_mode = FacetCounter::Mode::kLocal;

  // Whether some shard is served by xapian-tcpsrv (then counts are exact).
  bool remote = false;

  // What a counting thread needs of its search. The query is serialised:
  // a Query shares its parts by reference counts that are not atomic, so
  // another thread needs a copy of its own.
  struct CountRequest {
    std::string query;
    std::string stub;       // the stub's text when `db` was opened
    Xapian::rev revision;   // the revision `db` reads
    SearchOptions opt;
  };

  // The hits of one page, whose records and snippets the search makes
  // from the first and its counting thread, once its counts are done, from
  // the last (help_with_page): each hit is made by whoever claims it.
  // Written by the search until `page_ready`; then each hit only by its
  // claimer, and read by the search once the thread is done.
  struct PageWork {
    std::vector<Xapian::docid> dids;
    std::vector<Hit> hits;  // rank and score set
    std::unique_ptr<std::atomic<bool>[]> claimed;
    // Hits that could not be made with `codec` (try_hit): made again by
    // the search once the thread is done.
    std::vector<char> failed;
    const std::vector<std::vector<std::string>>* matched = nullptr;  // terms of each hit
    const std::vector<std::string>* wildcards = nullptr;
    size_t snippet_length = 0;  // 0: no snippets
    const DataCodec* codec = nullptr;

    bool claim(size_t i) { return !claimed[i].exchange(true, std::memory_order_relaxed); }
  };

  // One search's counts on another core (count_aside): the thread, the
  // handle it counts on (given, or opened by the thread), the request it
  // waits for, and the counts it gives back (none if the handle could not
  // be brought to the search's revision).
  struct Counting {
    std::unique_ptr<AsideTask> task;
    std::optional<Xapian::Database> handle;
    std::string handle_stub;  // the stub's text when `handle` was opened
    // The facet column of `handle`, given if kept from an earlier search
    // and used if still current; then the one the thread used.
    std::shared_ptr<const FacetColumn> column;
    std::promise<CountRequest> request;
    std::future<CountRequest> requested = request.get_future();
    std::optional<Counts> counts;
    // The records' codec of the generation handle_stub names, its
    // dictionary digested (file_codec), made while the thread waits for
    // the request; the search takes it once `codec_ready`.
    std::unique_ptr<DataCodec> codec;
    std::atomic<bool> codec_ready{false};
    // The search's page, for the thread to help with once the counts are
    // done: `page_ready` when its hits can be claimed, `page_over` when
    // there is no more to wait for (all claimed, or no page to make).
    PageWork page;
    std::atomic<bool> page_ready{false};
    std::atomic<bool> page_over{false};

    // A request not made (the search failed first, or counts nothing)
    // breaks the promise, which ends the thread; then the task waits for it.
    ~Counting() {
      request = std::promise<CountRequest>();
      page_over.store(true, std::memory_order_release);
      task.reset();
    }
  };

  // A second handle on the index, at the revision `db` reads, for counting
  // matches on another core while `db` ranks them. Kept from the first
  // search that counts aside for the next.
  std::optional<Xapian::Database> count_db;
  // The generation's facet column, kept from the search before (its
  // counting thread's, or its own count's) while it is current: unmapping
  // it when a search is done would cost the search's thread a TLB flush,
  // and the next search would map it again.
  std::shared_ptr<const FacetColumn> count_column;

  // The first search's counting thread, started with the Searcher when
  // SearcherOptions::prepare_counting asks for it.
  std::unique_ptr<Counting> next_counting;
  // The last search's counting task, its work done and its thread ending:
  // joined when the next search takes its place, or with the Searcher,
  // rather than before the search returns, which would wait through the
  // thread's exit (~0.03 ms; a CLI search ends the process first).
  std::unique_ptr<AsideTask> ending_task;

  void reopen() {
    count_db.reset();
    count_column.reset();
    db = location.open_reader(&stub);
    remote = lists_remote_shard(stub);
    version = schema::stored_version(db);
    facet_mode = FacetCounter::Mode::kLocal;
    load_synonyms();
    codec.reset();
  }

  // The path of the file `name` in the generation `on_stub` names, ""
  // if it names none. Naming the generation by the stub a reader was
  // opened with, a rebuild switching meanwhile cannot mix them up.
  std::string generation_file(const std::string& on_stub, const char* name) const {
    const std::string generation = location.generation_dir(on_stub);
    return generation.empty() ? std::string() : generation + "/" + name;
  }

  // The codec of the records of the generation `on_stub` names: with
  // the generation's copy of the dictionary, mapped, which is cheaper
  // than the metadata (schema::kDataDictionaryFile); null without one.
  std::unique_ptr<DataCodec> file_codec(const std::string& on_stub) const {
    const std::string path = generation_file(on_stub, schema::kDataDictionaryFile);
    std::shared_ptr<const MappedFile> file = path.empty() ? nullptr : MappedFile::open(path);
    return file ? std::make_unique<DataCodec>(file->bytes(), file) : nullptr;
  }

  Document decode(const Xapian::Document& doc) {
    const std::string record = stored_record(doc);
    if (!codec) {
      codec = file_codec(stub);
      codec_from_file = codec != nullptr;
    }
    // No file, or one whose dictionary the records do not name: the
    // metadata's.
    if (!codec || (codec_from_file && !codec->reads(record))) {
      codec = std::make_unique<DataCodec>(db.get_metadata(schema::kDataDictionaryKey));
      codec_from_file = false;
    }
    return codec->decode(record);
  }

  // The synonyms stored in the index; none when they cannot be read (the
  // search itself then says what is wrong).
  void load_synonyms() {
    try {
      synonyms = Synonyms::deserialize(db.get_metadata(schema::kSynonymsKey));
    } catch (const Xapian::Error&) {
      synonyms = Synonyms();
    }
  }

  // Whether a writer has pointed the stub at another generation since `db`
  // was opened (and may have removed the one `db` reads).
  bool switched() const { return location.stub_text() != stub; }

  // A parser of the query language; `wildcards`: how a wildcard's terms
  // combine (WildcardProcessor).
  Xapian::QueryParser make_parser(Xapian::Query::op wildcards = Xapian::Query::OP_SYNONYM) {
    Xapian::QueryParser qp;
    qp.set_database(db);
    qp.set_stemmer(Xapian::Stem(schema::kStemmer));
    qp.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
    qp.set_max_expansion(kMaxWildcardExpansion, Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT);
    for (const schema::TextField& f : schema::kTextFields) {
      qp.add_prefix(f.name, f.prefix);
      qp.add_prefix(std::string(kWildcardField) + f.name, (new WildcardProcessor(db, f.prefix, wildcards))->release());
    }
    qp.add_prefix(kWildcardField, (new WildcardProcessor(db, "", wildcards))->release());
    qp.add_prefix(kSynonymField, (new SynonymProcessor(db, synonyms, &synonym_terms))->release());
    for (const schema::BooleanField& f : schema::kBooleanFields)
      qp.add_boolean_prefix(f.name, (new BooleanFieldProcessor(f.prefix, norm))->release());
    return qp;
  }

  // The user's query as a Xapian query. A query the parser rejects (stray
  // operators, unbalanced quotes) is read again as plain words.
  Xapian::Query parse(const std::string& text, std::optional<std::string>* corrected) {
    // The parser matches every word on its own, repeats too, so "a a a
    // ..." costs a's posting list once per repeat. A query of more words
    // than any written query has is read as plain words, where a repeated
    // word counts once (with its count as weight).
    if (norm.tokenize(text).size() > kMaxParsedWords) return plain_words(text);
    std::string folded = norm.fold_query(text);
    const unsigned full = Xapian::QueryParser::FLAG_DEFAULT | Xapian::QueryParser::FLAG_WILDCARD |
                          Xapian::QueryParser::FLAG_PURE_NOT;
    const std::string rewritten = rewrite_wildcards(folded);
    const std::string to_parse = rewrite_synonyms(widen_identifiers(rewritten), synonyms, norm, kSynonymField);
    // Next to NEAR or ADJ, Xapian 1.4 takes only terms and ORs of them,
    // not the OP_SYNONYM a wildcard expands to elsewhere (the parser throws
    // UnimplementedError, and leaks what it had built): in a query with
    // either, the wildcards' terms are ORed.
    const bool near = names_near_or_adj(to_parse);
    const Xapian::Query::op wildcards = near ? Xapian::Query::OP_OR : Xapian::Query::OP_SYNONYM;
    Xapian::QueryParser qp = make_parser(wildcards);
    synonym_terms.clear();
    Xapian::Query query;
    try {
      query = qp.parse_query(to_parse, full);
    } catch (const Xapian::QueryParserError&) {
      // Operators that do not add up: no suggestion, plain words.
      return plain_words(text);
    } catch (const Xapian::UnimplementedError&) {
      // Any other query Xapian cannot build: plain words too.
      return plain_words(text);
    }
    // Xapian 1.4's parser drops a NEAR or ADJ between two words that field
    // processors expand (`learn* NEAR optim*`), and the whole query with
    // it: plain words rather than nothing.
    if (query.empty() && near) return plain_words(text);
    query = unstem_fields(query, qp);
    // Xapian's spelling correction looks up every word in the spelling
    // table, which costs more than the search itself, and it suggests a
    // spelling even for a word that matches through its stem ("epidemic").
    // So ask for one only when some term of the query matches nothing.
    bool unmatched = false;
    for (auto t = query.get_unique_terms_begin(); t != query.get_unique_terms_end(); ++t)
      if (!synonym_terms.count(*t) && !db.term_exists(*t)) unmatched = true;
    if (unmatched) {
      Xapian::QueryParser speller = make_parser(wildcards);
      speller.parse_query(rewritten, full | Xapian::QueryParser::FLAG_SPELLING_CORRECTION);
      std::string suggestion = speller.get_corrected_query_string();
      if (!suggestion.empty() && suggestion != rewritten) *corrected = restore_wildcards(suggestion);
    }
    return query;
  }

  // Every word of `text` but stop words matched as the indexer wrote it
  // (on its stem, or as it stands where the indexer keeps no stem), and
  // the other spellings of its identifier-like words, weighted by how often
  // each occurs in the query. A query of stop words only keeps them.
  Xapian::Query plain_words(const std::string& text) {
    std::map<std::string, Xapian::termcount> wqf, stopped;
    std::vector<std::string> sequence;  // the non-stop words in order, unstemmed
    const std::string folded = norm.fold(text);
    for (const auto& [word, term] : index_terms(folded)) {
      bool stop = ranking.stopwords && is_stopword(word);
      ++(stop ? stopped : wqf)[term];
      if (!stop) sequence.push_back(word);
    }
    // The other spellings of identifier-like words, as the indexer adds
    // them: "IL-6" also matches "IL6", and "IL6" "IL-6".
    for (const auto& [word, term] : index_terms(identifier_spellings(folded)))
      ++(ranking.stopwords && is_stopword(word) ? stopped : wqf)[term];
    if (wqf.empty()) wqf = std::move(stopped);
    std::vector<Xapian::Query> words;
    for (const auto& [term, n] : wqf) words.emplace_back(term, n);
    if (!synonyms.empty()) {
      std::vector<std::string> all;
      for (const Token& t : norm.tokenize(text)) all.push_back(t.folded);
      for (const Synonyms::Match& m : synonyms.find(all)) words.push_back(synonyms.query(db, m.group));
    }
    Xapian::Query bag(Xapian::Query::OP_OR, words.begin(), words.end());
    if (ranking.title_weight > 0) {
      std::vector<Xapian::Query> titles;
      for (const auto& [term, n] : wqf) titles.emplace_back("ZS" + term.substr(1), n);
      bag = Xapian::Query(Xapian::Query::OP_OR, bag,
                          Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT,
                                        Xapian::Query(Xapian::Query::OP_OR, titles.begin(), titles.end()),
                                        ranking.title_weight));
    }
    if (ranking.exact_weight > 0 && !sequence.empty()) {
      std::vector<Xapian::Query> exact;
      for (const std::string& w : sequence) exact.emplace_back(w);
      bag = Xapian::Query(Xapian::Query::OP_OR, bag,
                          Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT,
                                        Xapian::Query(Xapian::Query::OP_OR, exact.begin(), exact.end()),
                                        ranking.exact_weight));
    }
    if (ranking.proximity_weight <= 0 || sequence.size() < 2) return bag;
    std::vector<Xapian::Query> pairs;
    for (size_t i = 0; i + 1 < sequence.size(); ++i) {
      Xapian::Query pair[] = {Xapian::Query(sequence[i]), Xapian::Query(sequence[i + 1])};
      pairs.emplace_back(Xapian::Query::OP_NEAR, pair, pair + 2, ranking.proximity_window);
    }
    // Widened here: search_once's widen_phrases does not look below the
    // OP_SCALE_WEIGHT that holds them.
    const Xapian::Query near =
        widen_phrases(Xapian::Query(Xapian::Query::OP_OR, pairs.begin(), pairs.end()), version, &db);
    return Xapian::Query(Xapian::Query::OP_OR, bag,
                         Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, near, ranking.proximity_weight));
  }

  // The words of folded text in order, each with the term it is matched
  // on: the words are cut by Xapian's TermGenerator, as the indexer cuts
  // them, so "CD4+", "3.5" or "IL-6" give the same words in
  // a query as in a document. The term is the word's "Z" stem, or the word
  // itself where the TermGenerator keeps no stem (words that start with a
  // digit, such as "6" or "5mg").
  std::vector<std::pair<std::string, std::string>> index_terms(const std::string& folded) {
    Xapian::Stem stem(schema::kStemmer);
    Xapian::TermGenerator tg;
    tg.set_stemmer(stem);
    tg.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
    Xapian::Document scratch;
    tg.set_document(scratch);
    tg.index_text(folded);
    std::vector<std::pair<Xapian::termpos, std::string>> at;
    for (auto t = scratch.termlist_begin(); t != scratch.termlist_end(); ++t)
      for (auto p = t.positionlist_begin(); p != t.positionlist_end(); ++p) at.emplace_back(*p, *t);
    std::sort(at.begin(), at.end());
    std::vector<std::pair<std::string, std::string>> out;
    for (auto& [pos, word] : at) {
      std::string z = schema::kPrefixStem + stem(word);
      Xapian::TermIterator t = scratch.termlist_begin();
      t.skip_to(z);
      out.emplace_back(word, t != scratch.termlist_end() && *t == z ? z : word);
    }
    return out;
  }

  Xapian::Query filter(const std::string& prefix, const std::vector<std::string>& values) {
    std::vector<Xapian::Query> terms;
    for (const std::string& v : values) terms.emplace_back(schema::boolean_term(prefix, v, norm));
    return Xapian::Query(Xapian::Query::OP_OR, terms.begin(), terms.end());
  }

  // The folded stems of the query's trailing wildcards ("biomark*" ->
  // "biomark"), for highlighting.
  std::vector<std::string> wildcard_stems(const std::string& query) {
    std::vector<std::string> out;
    std::string folded = norm.fold(query);
    for (const Token& t : norm.tokenize(folded))
      if (t.end < folded.size() && folded[t.end] == '*') out.push_back(t.folded);
    return out;
  }

  // Pseudo-relevance feedback: the query ORed with the best terms of its
  // own top hits (stems of the body text only: no prefixed or boolean
  // terms, no terms already in the query).
  Xapian::Query expand(Xapian::Enquire& enquire, const Xapian::Query& query) {
    enquire.set_query(query);
    Xapian::MSet top = enquire.get_mset(0, ranking.feedback_docs);
    if (top.empty()) return query;
    Xapian::RSet rset;
    for (auto it = top.begin(); it != top.end(); ++it) rset.add_document(*it);
    TextTermsOnly decider;
    for (auto t = query.get_unique_terms_begin(); t != query.get_unique_terms_end(); ++t)
      decider.exclude.insert(*t);
    Xapian::ESet eset = enquire.get_eset(ranking.feedback_terms, rset, &decider);
    if (eset.empty()) return query;
    return Xapian::Query(Xapian::Query::OP_OR, query, weighted_terms(eset, ranking.feedback_weight));
  }

  // Looks at every match of `query` in `on` (`db`, or `count_db`): returns
  // their exact number and, with `facets`, sets *counts to the facet
  // counts (at most `facet_limit` values each, each count multiplied by
  // `scale`, see FacetCounter). The order is of no use here, so the
  // matches are taken as they come, with no MSet to keep and no sort key
  // to read for each, which costs about half of a ranked pass over all of
  // them.
  Xapian::doccount count_matches(const Xapian::Database& on, const Xapian::Query& query, bool facets,
                                 std::vector<FacetCounts>* counts, size_t facet_limit,
                                 double scale = 1, size_t cap = SIZE_MAX,
                                 const std::shared_ptr<FacetLookup>& names = nullptr,
                                 const std::shared_ptr<const FacetColumn>& column = nullptr) {
    Xapian::Enquire enquire(on);
    enquire.set_query(query);
    if (!remote) enquire.set_weighting_scheme(NoWeight());
    std::optional<FacetCounter> counter;
    if (facets) counter.emplace(on, facet_mode, names, column).attach(enquire);
    Xapian::MSet all;
    try {
      all = enquire.get_mset(0, 0, on.get_doccount());
    } catch (const Xapian::UnimplementedError&) {
      // A shard served by xapian-tcpsrv, which runs only Xapian's own
      // spies; it fails before any matching, so trying costs nothing.
      // Later searches on this database count that way from the start.
      if (!counter || facet_mode == FacetCounter::Mode::kBuiltIn) throw;
      facet_mode = FacetCounter::Mode::kBuiltIn;
      enquire.clear_matchspies();
      counter.reset();
      counter.emplace(on, facet_mode, names).attach(enquire);
      all = enquire.get_mset(0, 0, on.get_doccount());
    }
    if (counter) *counts = counter->counts(facet_limit, scale, cap);
    return all.get_matches_estimated();
  }

  // The total and facet counts of the matches of `query` in `on`, given
  // Xapian's estimate of their number and its bounds: counted over every
  // match, or, past kExactCountLimit matches by the estimate, over the
  // matches in a sample of the index and scaled up (not with
  // opt.exact_counts, nor with a remote shard). A sample that catches
  // fewer than a quarter of the matches it aims at shows the estimate was
  // far too high: then every match is counted after all. `names`: on's
  // facet dictionary if already read; `column`: on's facet column, if any.
  Counts count(const Xapian::Database& on, const Xapian::Query& query, const SearchOptions& opt,
               double estimate, size_t lower, size_t upper,
               const std::shared_ptr<FacetLookup>& names = nullptr,
               const std::shared_ptr<const FacetColumn>& column = nullptr) {
    Counts out;
    if (!opt.exact_counts && !remote && facet_mode != FacetCounter::Mode::kBuiltIn &&
        estimate > kExactCountLimit && upper > kExactCountLimit) {
      const uint32_t threshold = sample_threshold(estimate / kCountSample);
      const double scale = std::ldexp(1.0, 32) / threshold;
      const Xapian::Query sampled = sample_matches(query, threshold);
      const Xapian::doccount in_sample =
          count_matches(on, sampled, opt.facets, &out.facets, opt.facet_limit, scale, upper, names, column);
      if (in_sample >= kCountSample / 4) {
        out.total = round_estimate(in_sample * scale);
        out.total_exact = out.facets_exact = false;
        out.bound(lower, upper);
        return out;
      }
      out.facets.clear();
    }
    out.total = count_matches(on, query, opt.facets, &out.facets, opt.facet_limit, 1, SIZE_MAX, names, column);
    return out;
  }

  // A thread that counts one search's matches on `handle` (opened there
  // if none) once the search hands over its request (count_aside).
  std::unique_ptr<Counting> start_counting(std::optional<Xapian::Database> handle, std::string handle_stub,
                                           std::shared_ptr<const FacetColumn> column = nullptr) {
    auto c = std::make_unique<Counting>();
    c->handle = std::move(handle);
    c->handle_stub = std::move(handle_stub);
    c->column = std::move(column);
    c->task = std::make_unique<AsideTask>([this, c = c.get()] { count_aside(*c); });
    return c;
  }

  // The work of a counting thread: count() on c.handle, with Xapian's
  // estimate before matching, for the request once it comes. No counts if
  // the handle cannot be brought to the request's revision (a writer
  // committed, or switched generations, in between).
  void count_aside(Counting& c) {
    if (!c.handle) c.handle = location.open_reader(&c.handle_stub);
    // Read while the search parses its query (facet counts are the
    // usual reason to count): the dictionary from the column if it has one.
    c.column = current_column(std::move(c.column), c.handle_stub, *c.handle);
    std::shared_ptr<FacetLookup> names;
    if (FacetDictionary::holds_ids(*c.handle)) names = std::make_shared<FacetLookup>(*c.handle, c.column);
    // The snippets of nearly every page of hits meet accented text, and
    // the records of the page need the codec.
    try {
      TextNormalizer::prepare_unicode();
      if ((c.codec = file_codec(c.handle_stub))) {
        c.codec->prepare_decode();
        c.codec_ready.store(true, std::memory_order_release);
      }
    } catch (const Error&) {
      // The search meets it again where it needs them, and reports it.
    }
    const CountRequest request = c.requested.get();
    if (c.handle_stub != request.stub) return;
    if (c.handle->get_revision() != request.revision) {
      c.handle->reopen();
      names.reset();  // the dictionary may have grown
      c.column = facet_column(c.handle_stub, *c.handle);
    }
    if (c.handle->get_revision() != request.revision) return;
    const Xapian::Query query = Xapian::Query::unserialise(request.query);
    Xapian::Enquire enquire(*c.handle);
    enquire.set_query(query);
    const Xapian::MSet none = enquire.get_mset(0, 0);
    c.counts = count(*c.handle, query, request.opt, none.get_matches_estimated(),
                     none.get_matches_lower_bound(), none.get_matches_upper_bound(), names, c.column);
    if (wait_for_page(c)) help_with_page(*c.handle, c.page);
  }

  // Whether the search's page is ready for the counting thread to help
  // with: waited for, spinning, up to kPageWait, when the counts are done
  // first. That is so for narrow and phrase queries, whose counts are done
  // 0.05-1 ms before the page on the ACL abstracts; the search then
  // makes every snippet alone, ~16 us each. Spinning, the thread is still
  // running on its core when the page comes: woken from a sleep, it
  // would take longer to come back (~0.1 ms) than the snippets it could
  // make. The search says when there is nothing to wait for.
  static bool wait_for_page(Counting& c) {
    spin_until(kPageWait, [&] {
      return c.page_ready.load(std::memory_order_acquire) || c.page_over.load(std::memory_order_acquire);
    });
    return c.page_ready.load(std::memory_order_acquire);
  }

  // The counting thread's part of the page, from its last hit back until
  // one the search has claimed. The counts are usually done ~0.1 ms before
  // the search's page on the ACL abstracts, where a hit's record and
  // snippet take ~25 us. A hit the thread cannot make (a record its
  // handle or the codec cannot read) is left to the search, which meets
  // the error itself if there is one.
  void help_with_page(const Xapian::Database& on, PageWork& work) const {
    StemMemo stems;
    for (size_t i = work.hits.size(); i-- > 0 && work.claim(i);) try_hit(on, work, i, &stems);
  }

  // Makes work.hits[i] from `on` with work.codec, on either thread; if that
  // fails, marks it in work.failed for the search to make again once the
  // thread is done (where it may change codec, or meet the error).
  void try_hit(const Xapian::Database& on, PageWork& work, size_t i, StemMemo* stems) const {
    try {
      const std::string record = stored_record(on.get_document(work.dids[i], Xapian::DOC_ASSUME_VALID));
      if (!work.codec->reads(record)) throw Error(Error::Kind::kCorrupt, "a record of another dictionary");
      work.hits[i].doc = work.codec->decode(record);
      add_snippet(work, i, stems);
    } catch (...) {
      work.failed[i] = 1;
    }
  }

  // The snippet of work.hits[i], if snippets are asked for.
  void add_snippet(PageWork& work, size_t i, StemMemo* stems) const {
    if (work.snippet_length == 0) return;
    Hit& hit = work.hits[i];
    Snippet s = Highlighter(norm, (*work.matched)[i], *work.wildcards, stems).make(hit.doc.text, work.snippet_length);
    hit.snippet = std::move(s.text);
    hit.highlights = std::move(s.highlights);
  }

  // `kept` if it is still the current facet column of `on`, else the
  // one facet_column() finds.
  std::shared_ptr<const FacetColumn> current_column(std::shared_ptr<const FacetColumn> kept,
                                                    const std::string& on_stub, const Xapian::Database& on) const {
    return kept && kept->current_for(on) ? kept : facet_column(on_stub, on);
  }

  // The FacetColumn of `on`, read through the generation `on_stub` names,
  // if it has a current one (a single local database).
  std::shared_ptr<const FacetColumn> facet_column(const std::string& on_stub, const Xapian::Database& on) const {
    if (remote || on.size() != 1) return nullptr;
    const std::string path = generation_file(on_stub, schema::kFacetColumnFile);
    if (path.empty()) return nullptr;
    try {
      return FacetColumn::open(path, on);
    } catch (const Xapian::Error&) {
      return nullptr;  // the slot serves
    }
  }

  // Sets result's total and facets from `counts`. The ranked page's
  // bounds on the number of matches hold for an estimated total too, and
  // are often tighter than those the counts were made with.
  static void take_counts(Counts counts, const Xapian::MSet& page, SearchResult* result) {
    counts.bound(page.get_matches_lower_bound(), page.get_matches_upper_bound());
    result->total = counts.total;
    result->total_exact = counts.total_exact;
    result->facets = std::move(counts.facets);
    result->facets_exact = counts.facets_exact;
  }

  // The query of Searcher::similar: the best text terms of the document
  // with `id` (its own RSet), the document itself left out. Throws
  // Error(kNotFound).
  Xapian::Query like(const std::string& id) {
    const std::string id_term = schema::kPrefixId + id;
    Xapian::PostingIterator p = db.postlist_begin(id_term);
    if (p == db.postlist_end(id_term))
      throw Error(Error::Kind::kNotFound,
                  "no document with id '" + id + "' in the index at '" + location.dir() + "'");
    Xapian::RSet rset;
    rset.add_document(*p);
    TextTermsOnly decider;
    decider.words = true;
    decider.shared_in = &db;
    decider.no_stopwords = true;
    Xapian::Enquire enquire(db);
    Xapian::ESet eset = enquire.get_eset(kSimilarTerms, rset, &decider);
    if (eset.empty()) return Xapian::Query::MatchNothing;
    return Xapian::Query(Xapian::Query::OP_AND_NOT, weighted_terms(eset, 1.0), Xapian::Query(id_term));
  }

  // A page of hits, best first: positions in an MSet.
  using Page = std::vector<Xapian::MSetIterator>;

  // The ranked page of `enquire` (its query and weighting set): `count`
  // matches from rank `first`, by weight, equal weights by id (kSlotId),
  // so that the order is the same in every build of the index and every
  // split into shards. Xapian breaks ties by docid; asking it to break
  // them by a value makes it read the value of every match it weighs (~20
  // block reads of a broad search on ACL, a fifth of its ranking). So the
  // page is ranked with one more match on either side: when no weight
  // on it is shared across its edges, its matches are the right ones, and
  // only runs of equal weight on it are sorted by id. Otherwise (a query
  // of filters alone weighs every match 0) Xapian ranks again with the id
  // as tie-break. `mset` keeps the MSet the page points into.
  Page ranked_page(Xapian::Enquire& enquire, Xapian::doccount first, Xapian::doccount count,
                   Xapian::doccount check_at_least, Xapian::MSet* mset) {
    Page page;
    if (count == 0) {
      *mset = enquire.get_mset(first, 0, check_at_least);
      return page;
    }
    const Xapian::doccount before = first > 0 ? 1 : 0;
    *mset = enquire.get_mset(first - before, count + before + 1, check_at_least);
    const Xapian::doccount size = mset->size();
    auto weight = [&](Xapian::doccount i) { return (*mset)[i].get_weight(); };
    const bool straddles = (before && size > 1 && weight(0) == weight(1)) ||
                           (size > count + before && weight(count + before - 1) == weight(count + before));
    if (straddles) {
      enquire.set_sort_by_relevance_then_value(schema::kSlotId, false);
      *mset = enquire.get_mset(first, count, check_at_least);
      for (auto it = mset->begin(); it != mset->end(); ++it) page.push_back(it);
      return page;
    }
    for (Xapian::doccount i = before; i < std::min(size, count + before); ++i) page.push_back((*mset)[i]);
    for (size_t run = 0; run < page.size();) {
      size_t end = run + 1;
      while (end < page.size() && page[end].get_weight() == page[run].get_weight()) ++end;
      if (end - run > 1) {
        std::vector<std::pair<std::string, Xapian::MSetIterator>> by_id;
        for (size_t i = run; i < end; ++i) by_id.emplace_back(page[i].get_document().get_value(schema::kSlotId), page[i]);
        std::sort(by_id.begin(), by_id.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        for (size_t i = run; i < end; ++i) page[i] = by_id[i - run].second;
      }
      run = end;
    }
    return page;
  }

  // The terms of `query` each hit of `page` has, by hit, for highlighting:
  // what Enquire::get_matching_terms gives, which reads the whole term
  // list of each hit (a tenth of a search on a large index). Here each
  // query term's posting list is stepped through the hits in docid
  // order instead, unless the query has many terms (wildcards) or a
  // shard is remote; and a plain word or its stem is given to every hit
  // (highlight_without_asking): stepping the posting lists of
  // "neural machine translation" through a page took ~0.35 M instructions.
  std::vector<std::vector<std::string>> matching_terms(const Xapian::Enquire& enquire,
                                                       const Xapian::Query& query, const Page& page) {
    std::vector<std::vector<std::string>> out(page.size());
    std::vector<std::string> terms(query.get_unique_terms_begin(), query.get_unique_terms_end());
    if (remote || terms.size() > kMaxStepTerms) {
      for (size_t i = 0; i < page.size(); ++i)
        out[i].assign(enquire.get_matching_terms_begin(page[i]), enquire.get_matching_terms_end(page[i]));
      return out;
    }
    std::vector<std::pair<Xapian::docid, size_t>> hits;  // docid, index into out
    for (size_t i = 0; i < page.size(); ++i) hits.emplace_back(*page[i], i);
    std::sort(hits.begin(), hits.end());
    for (const std::string& term : terms) {
      if (highlight_without_asking(term)) {
        for (std::vector<std::string>& of_hit : out) of_hit.push_back(term);
        continue;
      }
      Xapian::PostingIterator p = db.postlist_begin(term);
      for (const auto& [did, i] : hits) {
        p.skip_to(did);
        if (p == db.postlist_end(term)) break;
        if (*p == did) out[i].push_back(term);
      }
    }
    return out;
  }

  // Runs `opt` (its query parsed), or with `given`, that query instead
  // (opt.query then only labels the result).
  SearchResult search_once(const SearchOptions& opt, const Xapian::Query* given = nullptr) {
    SearchResult result;
    result.query = opt.query;
    result.offset = opt.offset;
    result.limit = opt.limit;

    // The counts (total, facets) on another core meanwhile, where the
    // index is one local database (count_aside). The thread starts now
    // (unless the Searcher started it), so that it opens its handle while
    // the query is parsed.
    const bool counted = opt.facets || opt.exact_total;
    std::unique_ptr<Counting> counting = std::move(next_counting);
    if (!counted || remote || db.size() != 1)
      counting.reset();
    else if (!counting)
      counting = start_counting(std::exchange(count_db, std::nullopt), stub, std::exchange(count_column, nullptr));

    Xapian::Query query = given ? *given
                          : blank(opt.query) ? Xapian::Query::MatchAll
                          : opt.syntax == SearchOptions::Syntax::kPlainWords
                              ? plain_words(opt.query)
                              : parse(opt.query, &result.corrected_query);
    if (!given) query = widen_phrases(query, version, &db);
    std::vector<Xapian::Query> filters;
    if (!opt.institutions.empty())
      filters.push_back(filter(schema::facet(schema::FacetId::kInstitution).prefix, opt.institutions));
    if (!opt.areas.empty())
      filters.push_back(filter(schema::facet(schema::FacetId::kArea).prefix, opt.areas));
    if (!opt.types.empty()) filters.push_back(filter("XT", opt.types));
    if (!filters.empty())
      query = Xapian::Query(Xapian::Query::OP_FILTER, query,
                            Xapian::Query(Xapian::Query::OP_AND, filters.begin(), filters.end()));

    Xapian::Enquire enquire(db);
    if (ranking.scheme == "bm25+")
      enquire.set_weighting_scheme(Xapian::BM25PlusWeight(ranking.k1, 0, 1, ranking.b, 0.5, 1.0));
    else if (ranking.scheme == "pl2")
      enquire.set_weighting_scheme(Xapian::PL2Weight());
    else if (ranking.scheme == "dlh")
      enquire.set_weighting_scheme(Xapian::DLHWeight());
    else if (ranking.scheme == "lm")
      enquire.set_weighting_scheme(Xapian::LMWeight(0, Xapian::Weight::DIRICHLET_SMOOTHING, 1000));
    else
      enquire.set_weighting_scheme(Xapian::BM25Weight(ranking.k1, 0, 1, ranking.b, 0.5));
    if (ranking.feedback_docs > 0 && !given && !blank(opt.query)) query = expand(enquire, query);
    enquire.set_query(query);
    if (counting) counting->request.set_value({query.serialise(), stub, db.get_revision(), opt});

    // The page first: Xapian stops once no other match can enter it. Not
    // on an index of several shards: there Xapian 1.4.22's bound on the
    // weight a shard can still give is sometimes too low, and stopping
    // early leaves out a match that belongs on the page (1 to 10 in 5,000
    // ACL title queries at --limit 100 on 2 shards; e2e test "a sharded
    // index gives the same pages as one database"). Looking at every
    // match avoids it.
    const Xapian::doccount check_at_least = db.size() > 1 ? db.get_doccount() : 0;
    Xapian::MSet mset;
    const Page page = ranked_page(enquire, opt.offset, opt.limit, check_at_least, &mset);
    result.total = mset.get_matches_estimated();
    result.total_exact = mset.get_matches_lower_bound() == mset.get_matches_upper_bound();

    std::vector<std::string> wildcards;
    if (!given && opt.syntax == SearchOptions::Syntax::kQueryLanguage) wildcards = wildcard_stems(opt.query);
    std::vector<std::vector<std::string>> matched;
    if (opt.documents && opt.snippets) matched = matching_terms(enquire, query, page);
    if (opt.documents && !codec && counting && counting->codec_ready.load(std::memory_order_acquire) &&
        counting->handle_stub == stub) {
      codec = std::move(counting->codec);
      codec_from_file = true;
    }
    // The page's hits: made here from the first, and from the last by the
    // counting thread once its counts are done (help_with_page).
    PageWork own_page;
    PageWork& work = counting ? counting->page : own_page;
    size_t rank = opt.offset;
    for (const Xapian::MSetIterator& it : page) {
      Hit& hit = work.hits.emplace_back();
      hit.rank = ++rank;
      hit.score = it.get_weight();
      work.dids.push_back(*it);
      if (!opt.documents) hit.doc.id = it.get_document().get_value(schema::kSlotId);
    }
    StemMemo stems;  // for this thread's snippets
    // A hit made with the codec decode() settles on, which may change it.
    auto make_hit = [&](size_t i) {
      work.hits[i].doc = decode(db.get_document(work.dids[i], Xapian::DOC_ASSUME_VALID));
      add_snippet(work, i, &stems);
    };
    if (opt.documents && !page.empty()) {
      work.claimed = std::make_unique<std::atomic<bool>[]>(page.size());
      work.failed.assign(page.size(), 0);
      work.matched = &matched;
      work.wildcards = &wildcards;
      work.snippet_length = opt.snippets ? opt.snippet_length : 0;
      // The first hit settles the codec; from then on it stays as it is
      // until the thread is done, both threads using it.
      work.claim(0);
      make_hit(0);
      work.codec = codec.get();
      if (counting) counting->page_ready.store(true, std::memory_order_release);
      for (size_t i = 1; i < page.size(); ++i)
        if (work.claim(i)) try_hit(db, work, i, &stems);
    }
    std::optional<Counts> counts;
    if (counting) {
      counting->page_over.store(true, std::memory_order_release);
      counting->task->finish();
      ending_task = std::move(counting->task);
      counts = std::move(counting->counts);
      if (counting->handle && counting->handle_stub == stub) {
        count_db = std::move(counting->handle);
        count_column = std::move(counting->column);
      }
    }
    if (counted && !counts) {
      count_column = current_column(count_column, stub, db);
      counts = count(db, query, opt, mset.get_matches_estimated(), mset.get_matches_lower_bound(),
                     mset.get_matches_upper_bound(), nullptr, count_column);
    }
    // What the thread claimed but could not make, made here (the thread
    // is done), where an error is the search's own.
    for (size_t i = 0; i < work.failed.size(); ++i)
      if (work.failed[i]) make_hit(i);
    result.hits = std::move(work.hits);
    if (counted) take_counts(std::move(*counts), mset, &result);
    return result;
  }

  // Runs `read` on the database. A writer committing under it
  // (DatabaseModifiedError) or a rebuild switching generations reopens the
  // index from the stub and runs `read` again, up to kModifiedRetries
  // times; any other Xapian error becomes Error(kCorrupt) saying what
  // failed (`what`, e.g. "search").
  template <typename Read>
  auto with_retries(const char* what, Read&& read) -> decltype(read()) {
    for (int attempt = 0;; ++attempt) {
      try {
        return read();
      } catch (const Xapian::DatabaseModifiedError&) {
        if (attempt >= kModifiedRetries)
          throw Error(Error::Kind::kCorrupt, "the index kept changing while being read; try again");
        reopen();
      } catch (const Xapian::Error& e) {
        if (attempt < kModifiedRetries && switched()) {
          reopen();
          continue;
        }
        throw location.read_error(what, e);
      }
    }
  }
};

Searcher::Searcher(const std::string& index_dir, RankingOptions ranking, const SearcherOptions& options)
    : impl_(std::make_unique<Impl>(index_dir, ranking, options)) {}

Searcher::~Searcher() = default;

SearchResult Searcher::search(const SearchOptions& options) {
  check_query(options.query);
  if (std::optional<std::string> fewer = drop_extra_wildcards(options.query)) {
    SearchOptions tamed = options;
    tamed.query = std::move(*fewer);
    SearchResult result = search(tamed);
    result.query = options.query;
    return result;
  }
  return impl_->with_retries("search", [&] { return impl_->search_once(options); });
}

SearchResult Searcher::similar(const std::string& id, const SearchOptions& options) {
  return impl_->with_retries("search", [&] {
    Xapian::Query query = impl_->like(id);
    SearchOptions opt = options;
    opt.query = id;
    return impl_->search_once(opt, &query);
  });
}

void Searcher::refresh() {
  impl_->with_retries("reopen", [&] {
    if (impl_->switched()) {
      impl_->reopen();
    } else {
      impl_->db.reopen();
      impl_->version = schema::stored_version(impl_->db);
      impl_->load_synonyms();
      impl_->codec.reset();
    }
  });
}

Document Searcher::get(const std::string& id) {
  return impl_->with_retries("read", [&] {
    Xapian::PostingIterator p = impl_->db.postlist_begin(schema::kPrefixId + id);
    if (p == impl_->db.postlist_end(schema::kPrefixId + id))
      throw Error(Error::Kind::kNotFound, "no document with id '" + id + "' in the index at '" +
                                              impl_->location.dir() + "'");
    return impl_->decode(impl_->db.get_document(*p));
  });
}

size_t Searcher::document_count() const {
  try {
    return impl_->db.get_doccount();
  } catch (const Xapian::Error& e) {
    throw impl_->location.read_error("read", e);
  }
}

}  // namespace resdex
