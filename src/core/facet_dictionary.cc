#include "core/facet_dictionary.h"

#include <algorithm>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "core/facet_column.h"

namespace resdex {


// A loaded dictionary is read far more often than added to (a search
// reads it once, an update adds a few values): its values are views into
// the stored entries, and the map from value to id is made only when an id
// is first asked for.
struct FacetDictionary::Impl {
  struct Facet {
    std::deque<std::string> added;         // entries loaded, values added (never move)
    size_t loaded = 0;                     // ids that load() found
    std::vector<std::string_view> values;  // by id, into `added`
    std::unordered_map<std::string_view, uint32_t> ids;  // made on first use
  };
  std::array<Facet, kFacetCount> facets;
  std::mutex mu;
};

FacetDictionary::FacetDictionary() : impl_(std::make_unique<Impl>()) {}
FacetDictionary::~FacetDictionary() = default;
FacetDictionary::FacetDictionary(FacetDictionary&&) noexcept = default;
FacetDictionary& FacetDictionary::operator=(FacetDictionary&&) noexcept = default;

namespace {

std::string values_key(size_t facet, uint32_t chunk) {
  return FacetDictionary::kValuesPrefix + std::string(schema::kFacets[facet].name) + "." + std::to_string(chunk);
}

std::string order_key(size_t facet) {
  return FacetDictionary::kOrderPrefix + std::string(schema::kFacets[facet].name);
}

std::vector<uint32_t> read_ranks(const Xapian::Database& db, size_t facet) {
  const std::string stored = db.get_metadata(order_key(facet));
  std::string_view rest = stored;
  std::vector<uint32_t> ranks;
  ranks.reserve(stored.size());
  uint32_t r = 0;
  while (get_facet_varint(&rest, &r)) ranks.push_back(r);
  return ranks;
}

}  // namespace

FacetDictionary FacetDictionary::load(const Xapian::Database& db) {
  FacetDictionary d;
  for (size_t f = 0; f < kFacetCount; ++f) {
    const size_t n = read_ranks(db, f).size();
    Impl::Facet& facet = d.impl_->facets[f];
    for (uint32_t chunk = 0; chunk * kChunk < n; ++chunk) {
      const std::string& stored = facet.added.emplace_back(db.get_metadata(values_key(f, chunk)));
      for (std::string_view v : schema::split_list(stored))
        if (facet.values.size() < n) facet.values.push_back(v);
    }
    // Entries missing (a damaged index): ids past them have no value.
    while (facet.values.size() < n) facet.values.push_back(std::string_view());
    facet.loaded = n;
  }
  return d;
}

bool FacetDictionary::holds_ids(const Xapian::Database& db) { return schema::stored_version(db) >= 8; }

uint32_t FacetDictionary::id(size_t facet, std::string_view value) {
  std::lock_guard lock(impl_->mu);
  Impl::Facet& f = impl_->facets[facet];
  if (f.ids.size() != f.values.size())
    for (uint32_t i = static_cast<uint32_t>(f.ids.size()); i < f.values.size(); ++i) f.ids.emplace(f.values[i], i);
  auto it = f.ids.find(value);
  if (it != f.ids.end()) return it->second;
  const auto id = static_cast<uint32_t>(f.values.size());
  f.values.push_back(f.added.emplace_back(value));
  f.ids.emplace(f.values.back(), id);
  return id;
}

std::string_view FacetDictionary::value(size_t facet, uint32_t id) const {
  const std::vector<std::string_view>& v = impl_->facets[facet].values;
  return id < v.size() ? v[id] : std::string_view();
}

size_t FacetDictionary::size(size_t facet) const { return impl_->facets[facet].values.size(); }

void FacetDictionary::store(Xapian::WritableDatabase& db, bool only_new) const {
  std::lock_guard lock(impl_->mu);
  for (size_t f = 0; f < kFacetCount; ++f) {
    const std::vector<std::string_view>& values = impl_->facets[f].values;
    const size_t from = only_new ? impl_->facets[f].loaded : 0;
    if (only_new && from == values.size()) continue;
    for (auto chunk = static_cast<uint32_t>(from / kChunk); chunk * kChunk < values.size(); ++chunk) {
      std::string joined;
      for (size_t i = chunk * kChunk; i < std::min<size_t>(values.size(), (chunk + 1) * kChunk); ++i) {
        if (i > chunk * kChunk) joined.push_back('\x1f');
        joined += values[i];
      }
      db.set_metadata(values_key(f, chunk), joined);
    }
    std::vector<uint32_t> by_value(values.size());
    for (uint32_t i = 0; i < by_value.size(); ++i) by_value[i] = i;
    std::sort(by_value.begin(), by_value.end(), [&](uint32_t a, uint32_t b) { return values[a] < values[b]; });
    std::vector<uint32_t> rank(values.size());
    for (uint32_t r = 0; r < by_value.size(); ++r) rank[by_value[r]] = r;
    std::string order;
    for (uint32_t r : rank) put_facet_varint(r, &order);
    db.set_metadata(order_key(f), order);
  }
}

std::string FacetDictionary::encode(const FacetValues& values) {
  if (std::all_of(values.begin(), values.end(), [](const auto& v) { return v.empty(); })) return {};
  std::string out;
  for (size_t f = 0; f < kFacetCount; ++f) {
    std::vector<uint32_t> ids;
    for (const std::string& v : values[f]) {
      std::string clean;  // as schema::encode_list keeps it: no control characters
      for (char c : v)
        if (static_cast<unsigned char>(c) >= 0x20) clean.push_back(c);
      if (clean.empty()) continue;
      const uint32_t i = id(f, clean);
      if (std::find(ids.begin(), ids.end(), i) == ids.end()) ids.push_back(i);
    }
    put_facet_varint(static_cast<uint32_t>(ids.size()), &out);
    for (uint32_t i : ids) put_facet_varint(i, &out);
  }
  return out;
}

FacetValues FacetDictionary::values(std::string_view encoded) const {
  FacetValues out;
  const FacetIds ids = decode_facet_ids(encoded);
  for (size_t f = 0; f < kFacetCount; ++f)
    for (uint32_t id : ids[f])
      if (std::string_view v = value(f, id); !v.empty()) out[f].emplace_back(v);
  return out;
}

FacetIds decode_facet_ids(std::string_view encoded) {
  FacetIds out;
  for_each_facet_id(encoded, [&](size_t f, uint32_t id) { out[f].push_back(id); });
  return out;
}

FacetValues facet_values(const Xapian::Document& doc, bool ids, const FacetDictionary& dictionary) {
  const std::string slot = doc.get_value(schema::kSlotFacets);
  if (ids) return dictionary.values(slot);
  FacetValues out;
  if (!slot.empty()) {
    const auto lists = schema::decode_facets(slot);
    for (size_t f = 0; f < kFacetCount; ++f) out[f] = schema::decode_list(lists[f]);
  } else {
    for (size_t f = 0; f < kFacetCount; ++f) out[f] = schema::decode_list(doc.get_value(schema::kFacets[f].legacy_slot));
  }
  return out;
}

FacetLookup::FacetLookup(const Xapian::Database& db) : FacetLookup(db, nullptr) {}

FacetLookup::FacetLookup(const Xapian::Database& db, std::shared_ptr<const FacetColumn> column) : db_(db) {
  if (column && column->has_dictionary()) {
    column_ = std::move(column);
    return;
  }
  for (size_t f = 0; f < kFacetCount; ++f) {
    ranks_[f] = read_ranks(db, f);
    chunks_[f].resize((ranks_[f].size() + FacetDictionary::kChunk - 1) / FacetDictionary::kChunk);
  }
}

size_t FacetLookup::size(size_t facet) const {
  return column_ ? column_->dictionary_size(facet) : ranks_[facet].size();
}

uint32_t FacetLookup::rank(size_t facet, uint32_t id) const {
  return column_ ? column_->rank(facet, id) : ranks_[facet][id];
}

std::string_view FacetLookup::value(size_t facet, uint32_t id) {
  if (column_) return column_->dictionary_value(facet, id);
  if (id >= size(facet)) return {};
  std::unique_ptr<Chunk>& chunk = chunks_[facet][id / FacetDictionary::kChunk];
  if (!chunk) {
    chunk = std::make_unique<Chunk>();
    chunk->stored = db_.get_metadata(values_key(facet, id / FacetDictionary::kChunk));
    chunk->values = schema::split_list(chunk->stored);
  }
  const uint32_t i = id % FacetDictionary::kChunk;
  return i < chunk->values.size() ? chunk->values[i] : std::string_view();
}

}  // namespace resdex
