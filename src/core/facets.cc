#include "core/facets.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <string_view>
#include <unordered_map>

#include "core/facet_column.h"
#include "core/facet_dictionary.h"

namespace resdex {

namespace {

// By count descending, then value ascending (bytewise, as std::string
// compares).
bool before(const FacetCount& a, const FacetCount& b) {
  return a.count != b.count ? a.count > b.count : a.value < b.value;
}

// The first `limit` (0: all) of `counts` in before() order.
std::vector<FacetCount> ordered(std::vector<FacetCount> counts, size_t limit) {
  if (limit > 0 && limit < counts.size()) {
    std::partial_sort(counts.begin(), counts.begin() + limit, counts.end(), before);
    counts.resize(limit);
  } else {
    std::sort(counts.begin(), counts.end(), before);
  }
  return counts;
}

struct ViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Per-value counts of one facet, fed one encoded list per document.
class Tally {
 public:
  // Counts each distinct non-empty value of `list` once.
  void add(std::string_view list) {
    // Neighbouring documents often have the same list (the same venue and
    // year, in corpus order): their counters are bumped without a lookup.
    if (primed_ && list == last_list_) {
      for (size_t* c : last_counters_) ++*c;
      return;
    }
    primed_ = true;
    last_list_.assign(list);
    last_counters_.clear();
    values_.clear();
    while (true) {
      const size_t sep = list.find('\x1f');
      const std::string_view value = list.substr(0, sep);
      if (!value.empty() && std::find(values_.begin(), values_.end(), value) == values_.end()) {
        values_.push_back(value);
        auto it = counts_.find(value);
        if (it == counts_.end()) it = counts_.emplace(std::string(value), 0).first;
        ++it->second;
        last_counters_.push_back(&it->second);  // nodes never move
      }
      if (sep == std::string_view::npos) break;
      list.remove_prefix(sep + 1);
    }
  }

  std::vector<FacetCount> counts() const {
    std::vector<FacetCount> out;
    out.reserve(counts_.size());
    for (const auto& [value, count] : counts_) out.push_back({value, count});
    return out;
  }

 private:
  std::unordered_map<std::string, size_t, ViewHash, std::equal_to<>> counts_;
  bool primed_ = false;
  std::string last_list_;
  std::vector<size_t*> last_counters_;       // the counters last_list_ bumped
  std::vector<std::string_view> values_;     // scratch: the values of one list
};

// Per-id counts of every facet, fed one slot value (FacetDictionary::encode)
// per document.
class IdTally {
 public:
  // Room for every id of `names`, so that counting never grows an array.
  explicit IdTally(const FacetLookup* names = nullptr) {
    if (names)
      for (size_t f = 0; f < kFacetCount; ++f) counts_[f].resize(names->size(f));
  }

  // Counts the ids of a slot value for `n` documents (more than one: a
  // built-in spy's count of the whole value).
  void add(std::string_view encoded, size_t n = 1) {
    if (n == 0) return;
    for_each_facet_id(encoded, [&](size_t f, uint32_t id) {
      if (id >= counts_[f].size()) counts_[f].resize(id + 1);
      if (counts_[f][id] == 0) counted_[f].push_back(id);
      counts_[f][id] += static_cast<Xapian::doccount>(n);
    });
  }

  // Facet number `f`'s first `limit` (0: all) values in before() order,
  // each count multiplied by `scale`, rounded and kept at most `cap` (see
  // FacetCounter::counts). Equal counts are ordered by the values' ranks,
  // so that only the values shown are read. Ids `names` does not know are
  // left out.
  std::vector<FacetCount> top(size_t f, FacetLookup& names, size_t limit, double scale, size_t cap) const {
    struct Entry {
      size_t count;
      uint32_t rank, id;
    };
    std::vector<Entry> entries;
    entries.reserve(counted_[f].size());
    const size_t known = names.size(f);
    for (const uint32_t id : counted_[f]) {
      if (id >= known) continue;
      const size_t count = scale != 1 ? std::min(cap, round_estimate(static_cast<double>(counts_[f][id]) * scale))
                                      : counts_[f][id];
      entries.push_back({count, names.rank(f, id), id});
    }
    auto first = [](const Entry& a, const Entry& b) { return a.count != b.count ? a.count > b.count : a.rank < b.rank; };
    if (limit > 0 && limit < entries.size()) {
      std::partial_sort(entries.begin(), entries.begin() + limit, entries.end(), first);
      entries.resize(limit);
    } else {
      std::sort(entries.begin(), entries.end(), first);
    }
    std::vector<FacetCount> out;
    for (const Entry& e : entries) out.push_back({std::string(names.value(f, e.id)), e.count});
    return out;
  }

 private:
  // Xapian::doccount (32 bits) rather than size_t: a count is of one
  // database's documents, and the arrays are zeroed and touched for
  // every search (~9,000 ids on the ACL abstracts).
  std::array<std::vector<Xapian::doccount>, kFacetCount> counts_;
  // The ids of each facet counted at least once, in the order first met:
  // a search's matches have a few hundred of the ~9,000 institutions of
  // the ACL abstracts, and top() looks at those only.
  std::array<std::vector<uint32_t>, kFacetCount> counted_;
};

// Counts the facets of the local matches. On a single database, Xapian
// hands the spy the matches in ascending docid order, so each slot read is
// a value stream of our own moving forward, without the per-call lookups
// of Document::get_value; a match out of order restarts the stream. Over
// several databases the spy cannot tell which one a document's docid
// belongs to, so it asks the document.
class LocalSpy : public Xapian::MatchSpy {
 public:
  explicit LocalSpy(const Xapian::Database& db) : db_(db), own_streams_(db.size() == 1) {}

  // Counts slot `slot`: its whole value into tallies[0] or, with one tally
  // per facet, each facet's list (schema::decode_facets) into its tally;
  // or, with `ids`, its facet ids into that. With `column` (the slot's
  // FacetColumn, for a single database), the values are read from it.
  void add_slot(Xapian::valueno slot, std::vector<Tally*> tallies, IdTally* ids = nullptr,
                const FacetColumn* column = nullptr) {
    const bool stream = own_streams_ && !column;
    streams_.push_back({slot, stream ? db_.valuestream_begin(slot) : Xapian::ValueIterator(), 0,
                        std::move(tallies), ids, column, {}});
    if (column) streams_.back().pending.reserve(kPendingReserve);
  }

  // Counts what is left to count: the matches of the slots read from a
  // column are only noted as they come, and read here all at once
  // (FacetColumn::for_each_value). Call once matching is over, before
  // reading the tallies.
  void flush() {
    for (Stream& s : streams_) {
      if (!s.column) continue;
      s.column->for_each_value(s.pending.data(), s.pending.size(), [&](std::string_view v) { s.count(v); });
      s.pending.clear();
    }
  }

  void operator()(const Xapian::Document& doc, double) override {
    if (!own_streams_) {
      for (Stream& s : streams_) s.count(doc.get_value(s.slot));
      return;
    }
    const Xapian::docid did = doc.get_docid();
    for (Stream& s : streams_) {
      if (s.column) {
        s.pending.push_back(did);
        continue;
      }
      if (did <= s.last) s.it = db_.valuestream_begin(s.slot);
      s.last = did;
      if (s.it == Xapian::ValueIterator()) continue;
      if (s.it.get_docid() < did) {
        s.it.skip_to(did);
        if (s.it == Xapian::ValueIterator()) continue;
      }
      if (s.it.get_docid() == did) s.count(*s.it);
    }
  }

 private:
  struct Stream {
    Xapian::valueno slot;
    Xapian::ValueIterator it;
    Xapian::docid last;  // the last match seen
    std::vector<Tally*> tallies;
    IdTally* ids;
    const FacetColumn* column;
    std::vector<Xapian::docid> pending;  // matches not yet read from `column`

    void count(std::string_view value) {
      if (ids) {
        ids->add(value);
        return;
      }
      if (tallies.size() == 1) {
        tallies[0]->add(value);
        return;
      }
      const auto parts = schema::decode_facets(value);
      for (size_t i = 0; i < tallies.size(); ++i) tallies[i]->add(parts[i]);
    }
  };
  // A sampled count sees ~1,000 matches (match_sample.h).
  static constexpr size_t kPendingReserve = 2048;

  Xapian::Database db_;
  const bool own_streams_;
  std::vector<Stream> streams_;
};

}  // namespace

struct FacetCounter::Impl {
  Xapian::Database db;
  Mode mode;
  std::shared_ptr<const FacetColumn> column;  // of kSlotFacets, if given
  // Schema version 8 on: the slot holds ids of the dictionary this reads.
  std::shared_ptr<FacetLookup> names;
  IdTally ids;
  // kLocal
  std::vector<Tally> tallies = std::vector<Tally>(std::size(schema::kFacets));
  std::unique_ptr<LocalSpy> local;
  // kBuiltIn: on kSlotFacets, or per facet (null for a facet no document
  // has) on an index written before it existed
  std::unique_ptr<Xapian::ValueCountMatchSpy> combined;
  std::vector<std::unique_ptr<Xapian::ValueCountMatchSpy>> builtin =
      std::vector<std::unique_ptr<Xapian::ValueCountMatchSpy>>(std::size(schema::kFacets));
};

FacetCounter::FacetCounter(const Xapian::Database& db, Mode mode, std::shared_ptr<FacetLookup> names,
                           std::shared_ptr<const FacetColumn> column)
    : impl_(std::make_unique<Impl>()) {
  impl_->db = db;
  impl_->mode = mode;
  impl_->column = std::move(column);
  impl_->names = std::move(names);
  if (!impl_->names && FacetDictionary::holds_ids(db)) impl_->names = std::make_shared<FacetLookup>(db, impl_->column);
}

FacetCounter::~FacetCounter() = default;

void FacetCounter::attach(Xapian::Enquire& enquire) {
  Impl& m = *impl_;
  if (m.db.get_value_freq(schema::kSlotFacets) > 0) {
    if (m.mode == Mode::kBuiltIn) {
      m.combined = std::make_unique<Xapian::ValueCountMatchSpy>(schema::kSlotFacets);
      enquire.add_matchspy(m.combined.get());
      return;
    }
    m.local = std::make_unique<LocalSpy>(m.db);
    if (m.names) {
      m.ids = IdTally(m.names.get());
      m.local->add_slot(schema::kSlotFacets, {}, &m.ids, m.column.get());
    } else {
      std::vector<Tally*> tallies;
      for (Tally& t : m.tallies) tallies.push_back(&t);
      m.local->add_slot(schema::kSlotFacets, std::move(tallies), nullptr, m.column.get());
    }
    enquire.add_matchspy(m.local.get());
    return;
  }
  // An index written before schema version 3: one slot per facet. A facet
  // no document has would cost a value lookup per match for nothing.
  std::vector<bool> used;
  for (const schema::Facet& f : schema::kFacets) used.push_back(m.db.get_value_freq(f.legacy_slot) > 0);
  if (m.mode == Mode::kBuiltIn) {
    for (size_t i = 0; i < used.size(); ++i) {
      if (!used[i]) continue;
      m.builtin[i] = std::make_unique<Xapian::ValueCountMatchSpy>(schema::kFacets[i].legacy_slot);
      enquire.add_matchspy(m.builtin[i].get());
    }
    return;
  }
  m.local = std::make_unique<LocalSpy>(m.db);
  for (size_t i = 0; i < used.size(); ++i)
    if (used[i]) m.local->add_slot(schema::kFacets[i].legacy_slot, {&m.tallies[i]});
  enquire.add_matchspy(m.local.get());
}

size_t round_estimate(double x) {
  if (!(x > 0)) return 0;
  if (x < 100) return static_cast<size_t>(std::llround(x));
  const double unit = std::pow(10.0, std::floor(std::log10(x)) - 1);
  return static_cast<size_t>(std::llround(x / unit) * unit);
}

std::vector<FacetCounts> FacetCounter::counts(size_t limit, double scale, size_t cap) {
  if (impl_->local) impl_->local->flush();
  std::vector<FacetCounts> out;
  // kBuiltIn on kSlotFacets: counts of whole encode_facets() values, cut
  // into each facet's lists.
  std::vector<std::vector<std::pair<std::string, size_t>>> parts(std::size(schema::kFacets));
  IdTally builtin_ids;
  if (const auto& spy = impl_->combined; spy && impl_->names) {
    for (auto it = spy->values_begin(); it != spy->values_end(); ++it) builtin_ids.add(*it, it.get_termfreq());
  } else if (spy) {
    for (auto it = spy->values_begin(); it != spy->values_end(); ++it) {
      const std::string whole = *it;
      const auto lists = schema::decode_facets(whole);
      for (size_t i = 0; i < parts.size(); ++i) parts[i].emplace_back(std::string(lists[i]), it.get_termfreq());
    }
  }
  for (size_t i = 0; i < std::size(schema::kFacets); ++i) {
    if (impl_->names) {
      const IdTally& tally = impl_->mode == Mode::kLocal ? impl_->ids : builtin_ids;
      out.push_back({schema::kFacets[i].name, tally.top(i, *impl_->names, limit, scale, cap)});
      continue;
    }
    std::vector<FacetCount> counts;
    if (impl_->mode == Mode::kLocal) {
      counts = impl_->tallies[i].counts();
    } else if (impl_->combined) {
      counts = split_list_counts(parts[i]);
    } else if (const auto& spy = impl_->builtin[i]) {
      std::vector<std::pair<std::string, size_t>> lists;
      for (auto it = spy->values_begin(); it != spy->values_end(); ++it)
        lists.emplace_back(*it, it.get_termfreq());
      counts = split_list_counts(lists);
    }
    if (scale != 1)
      for (FacetCount& c : counts) c.count = std::min(cap, round_estimate(static_cast<double>(c.count) * scale));
    out.push_back({schema::kFacets[i].name, ordered(std::move(counts), limit)});
  }
  return out;
}

std::vector<FacetCount> split_list_counts(
    const std::vector<std::pair<std::string, size_t>>& list_counts) {
  std::map<std::string, size_t> sums;
  for (const auto& [encoded, count] : list_counts) {
    std::vector<std::string> values = schema::decode_list(encoded);
    // A value listed twice in one document still counts that document once.
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    for (std::string& v : values)
      if (!v.empty()) sums[std::move(v)] += count;
  }
  std::vector<FacetCount> out;
  out.reserve(sums.size());
  for (auto& [value, count] : sums) out.push_back({value, count});
  return ordered(std::move(out), 0);
}

}  // namespace resdex
