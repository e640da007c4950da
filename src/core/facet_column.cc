#include "core/facet_column.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "core/error.h"
#include "core/facet_dictionary.h"
#include "core/index_location.h"
#include "core/mapped_file.h"
#include "core/match_sample.h"
#include "core/schema.h"

namespace resdex {

namespace {

// The file: a 72-byte header, each docid's entry offset, the docids'
// sample hashes in ascending order, the entries in that order, then the
// dictionary. Integers are little-endian.
//
//    0  8  magic "RXFACET3" (older formats are not read)
//    8  8  the database's revision
//   16  4  its last docid, n
//   20  4  the size of the entries
//   24 40  its uuid, NUL-padded
//   64  8  the size of the dictionary
//   72     n 4-byte offsets into the entries: docid d's at 72 + 4 (d - 1)
//          n 4-byte sample_hash values of docids 1..n, ascending
//          the entries: for each docid in that order, its value's length
//          (a varint: 7 bits a byte, low first) and its value
//
// The dictionary: for each facet of schema::kFacets in order, its number
// of ids n, the n ranks, n + 1 offsets into its values (from 0 to their
// size) and the values, all 4-byte integers but the values.
constexpr char kMagic[8] = {'R', 'X', 'F', 'A', 'C', 'E', 'T', '3'};
constexpr size_t kHeader = 72;
constexpr size_t kUuidAt = 24;
constexpr size_t kUuidSize = 40;

void put(std::string& out, size_t at, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

uint64_t get(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

// [offsets[i], offsets[i + 1]) of a table of 4-byte offsets into `size`
// bytes; false when they are out of order or past the end, which only a
// damaged file has.
bool offset_range(const unsigned char* offsets, size_t i, uint64_t size, uint32_t* begin, uint32_t* end) {
  const uint64_t b = get(offsets + 4 * i, 4);
  const uint64_t e = get(offsets + 4 * (i + 1), 4);
  if (b > e || e > size) return false;
  *begin = static_cast<uint32_t>(b);
  *end = static_cast<uint32_t>(e);
  return true;
}

std::string padded_uuid(const Xapian::Database& db) {
  std::string uuid = db.get_uuid();
  uuid.resize(kUuidSize, '\0');
  return uuid;
}

// The dictionary section of `db`'s column (see above).
std::string dictionary_of(const Xapian::Database& db) {
  std::string out;
  auto append = [&](uint64_t v) {
    out.resize(out.size() + 4);
    put(out, out.size() - 4, v, 4);
  };
  FacetLookup lookup(db);
  for (size_t f = 0; f < std::size(schema::kFacets); ++f) {
    const uint32_t n = static_cast<uint32_t>(lookup.size(f));
    append(n);
    for (uint32_t id = 0; id < n; ++id) append(lookup.rank(f, id));
    std::string values;
    append(0);
    for (uint32_t id = 0; id < n; ++id) {
      values += lookup.value(f, id);
      append(values.size());
    }
    out += values;
  }
  return out;
}

}  // namespace

void FacetColumn::write(const Xapian::Database& db, const std::string& path) {
  const Xapian::docid last = db.get_lastdocid();
  // The values in docid order first: their bytes, and where each begins.
  std::string values;
  std::vector<uint32_t> begins(static_cast<size_t>(last) + 1, 0);  // docid d's value: [begins[d-1], begins[d])
  Xapian::docid at = 0;  // begins written up to docid `at`
  for (auto it = db.valuestream_begin(schema::kSlotFacets); it != db.valuestream_end(schema::kSlotFacets); ++it) {
    for (const Xapian::docid did = it.get_docid(); at < did; ++at) begins[at] = static_cast<uint32_t>(values.size());
    values += *it;
    // A column past 4 GB would need wider offsets; the slot serves then.
    if (values.size() > std::numeric_limits<uint32_t>::max() / 2) return;
  }
  for (; at <= last; ++at) begins[at] = static_cast<uint32_t>(values.size());

  std::vector<uint32_t> hashes(last);
  for (Xapian::docid d = 1; d <= last; ++d) hashes[d - 1] = sample_hash(d);
  std::sort(hashes.begin(), hashes.end());

  std::string out(kHeader + 8 * static_cast<size_t>(last), '\0');
  std::string entries;
  entries.reserve(values.size() + last);
  for (Xapian::docid i = 0; i < last; ++i) {
    const Xapian::docid d = sample_unhash(hashes[i]);
    put(out, kHeader + 4 * static_cast<size_t>(d - 1), entries.size(), 4);
    put(out, kHeader + 4 * static_cast<size_t>(last) + 4 * static_cast<size_t>(i), hashes[i], 4);
    put_facet_varint(begins[d] - begins[d - 1], &entries);
    entries.append(values, begins[d - 1], begins[d] - begins[d - 1]);
  }
  if (entries.size() > std::numeric_limits<uint32_t>::max()) return;
  std::memcpy(out.data(), kMagic, sizeof kMagic);
  put(out, 8, db.get_revision(), 8);
  put(out, 16, last, 4);
  put(out, 20, entries.size(), 4);
  out.replace(kUuidAt, kUuidSize, padded_uuid(db));
  const std::string dictionary = FacetDictionary::holds_ids(db) ? dictionary_of(db) : std::string();
  put(out, 64, dictionary.size(), 8);
  out += entries;
  out += dictionary;
  replace_file(path, out);
}

std::shared_ptr<const FacetColumn> FacetColumn::open(const std::string& path, const Xapian::Database& db) {
  std::shared_ptr<const MappedFile> file = MappedFile::open(path);
  if (!file) return nullptr;
  const std::string_view bytes = file->bytes();
  if (bytes.size() < kHeader || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) return nullptr;
  const auto* header = reinterpret_cast<const unsigned char*>(bytes.data());
  const uint64_t last = get(header + 16, 4);
  const uint64_t data_size = get(header + 20, 4);
  const uint64_t dictionary_size = get(header + 64, 8);
  if (dictionary_size > bytes.size() || bytes.size() != kHeader + 8 * last + data_size + dictionary_size)
    return nullptr;
  std::shared_ptr<FacetColumn> column(new FacetColumn);
  column->header_ = header;
  column->offsets_ = header + kHeader;
  column->hashes_ = header + kHeader + 4 * last;
  column->entries_ = bytes.data() + kHeader + 8 * last;
  column->entries_size_ = static_cast<uint32_t>(data_size);
  column->last_ = static_cast<Xapian::docid>(last);
  const auto* dictionary = reinterpret_cast<const unsigned char*>(column->entries_) + data_size;
  column->has_dictionary_ = dictionary_size > 0;
  if (column->has_dictionary_ && !column->read_dictionary(dictionary, dictionary + dictionary_size)) return nullptr;
  column->file_ = std::move(file);
  return column->current_for(db) ? column : nullptr;
}

bool FacetColumn::current_for(const Xapian::Database& db) const {
  return get(header_ + 8, 8) == db.get_revision() && last_ == db.get_lastdocid() &&
         std::string_view(reinterpret_cast<const char*>(header_) + kUuidAt, kUuidSize) == padded_uuid(db);
}

std::string_view FacetColumn::entry(uint32_t at, uint32_t* next) const {
  // A damaged file's length may run past the entries: "" then, and no next.
  if (next) *next = 0;
  if (at >= entries_size_) return {};
  std::string_view rest(entries_ + at, entries_size_ - at);
  uint32_t size = 0;
  if (!get_facet_varint(&rest, &size) || size > rest.size()) return {};
  if (next) *next = static_cast<uint32_t>(rest.data() + size - entries_);
  return rest.substr(0, size);
}

std::string_view FacetColumn::value(Xapian::docid did) const {
  if (did == 0 || did > last_) return {};
  return entry(entry_offset(did));
}

bool FacetColumn::read_dictionary(const unsigned char* p, const unsigned char* end) {
  for (Dictionary& d : dictionary_) {
    if (end - p < 4) return false;
    const uint64_t n = get(p, 4);
    p += 4;
    if (static_cast<uint64_t>(end - p) < 8 * n + 4) return false;
    d.size = static_cast<uint32_t>(n);
    d.ranks = p;
    d.offsets = p + 4 * n;
    const uint64_t size = get(d.offsets + 4 * n, 4);
    p = d.offsets + 4 * (n + 1);
    if (static_cast<uint64_t>(end - p) < size) return false;
    d.values = reinterpret_cast<const char*>(p);
    d.values_size = static_cast<uint32_t>(size);
    p += size;
  }
  return p == end;
}

uint32_t FacetColumn::rank(size_t facet, uint32_t id) const {
  const Dictionary& d = dictionary_[facet];
  return id < d.size ? static_cast<uint32_t>(get(d.ranks + 4 * id, 4)) : 0;
}

std::string_view FacetColumn::dictionary_value(size_t facet, uint32_t id) const {
  const Dictionary& d = dictionary_[facet];
  uint32_t begin = 0, end = 0;
  if (id >= d.size || !offset_range(d.offsets, id, d.values_size, &begin, &end)) return {};
  return {d.values + begin, static_cast<size_t>(end - begin)};
}

}  // namespace resdex
