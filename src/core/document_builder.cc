#include "core/document_builder.h"

#include <cstring>

#include <nlohmann/json.hpp>
#include <xxhash.h>
#include <zlib.h>

#include "core/error.h"
#include "core/schema.h"
#include "core/text_normalizer.h"

namespace resdex {

using json = nlohmann::json;

namespace {

// Whether `text` may hold an a, o or u with a diaeresis: precomposed
// (U+00C4, U+00D6, U+00DC, U+00E4, U+00F6, U+00FC) or combining (U+0308).
// A cheap byte scan that spares the word-by-word pass for almost all text.
bool has_umlaut(std::string_view text) {
  for (size_t i = text.find_first_of("\xC3\xCC"); i != std::string_view::npos && i + 1 < text.size();
       i = text.find_first_of("\xC3\xCC", i + 1)) {
    unsigned char next = static_cast<unsigned char>(text[i + 1]);
    if (text[i] == '\xCC' ? next == 0x88
                           : (next == 0x84 || next == 0x96 || next == 0x9C || next == 0xA4 ||
                              next == 0xB6 || next == 0xBC))
      return true;
  }
  return false;
}

}  // namespace

DocumentBuilder::DocumentBuilder(const TextNormalizer& norm, std::string data_dictionary)
    : norm_(norm), stemmer_(schema::kStemmer), codec_(std::move(data_dictionary)) {
  termgen_.set_stemmer(stemmer_);
  termgen_.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
}

void SpellingDelta::count(const Xapian::Document& doc, long sign) {
  for (auto t = doc.termlist_begin(); t != doc.termlist_end(); ++t) {
    const std::string& term = *t;
    unsigned char c = static_cast<unsigned char>(term[0]);
    if (c >= 'A' && c <= 'Z') continue;  // prefixed, or a Z stem
    if (term.find_first_not_of("0123456789") == std::string::npos) continue;
    delta_[term] += sign;
  }
}

void SpellingDelta::merge(const SpellingDelta& other) {
  for (const auto& [word, n] : other.delta_) delta_[word] += n;
}

void SpellingDelta::prune(const SpellingDelta& all, long min_documents) {
  for (auto it = delta_.begin(); it != delta_.end();) {
    auto total = all.delta_.find(it->first);
    if (it->second > 0 && (total == all.delta_.end() || total->second < min_documents))
      it = delta_.erase(it);
    else
      ++it;
  }
}

SpellingDelta SpellingDelta::part(size_t index, size_t parts, long min_documents) const {
  SpellingDelta out;
  const std::hash<std::string> hash;
  for (const auto& [word, n] : delta_)
    if (n >= min_documents && hash(word) % parts == index) out.delta_.emplace(word, n);
  return out;
}

void SpellingDelta::apply(Xapian::WritableDatabase& db) const {
  for (const auto& [word, n] : delta_) {
    if (n > 0) db.add_spelling(word, static_cast<Xapian::termcount>(n));
    else if (n < 0) db.remove_spelling(word, static_cast<Xapian::termcount>(-n));
  }
}

// Indexes `text` folded: with `field`'s prefix and positions, and once
// more unprefixed (wdf times the field's weight) without positions (see
// schema::TextField); with no field, unprefixed with positions. Words with
// umlauts also get their German spelling (at the same positions), so
// "mueller" finds "Müller" as "muller" does, in phrases too;
// identifier-like words get their other spellings (identifier_spellings()).
void DocumentBuilder::index_field(std::string_view text, const schema::TextField* field) {
  if (text.empty()) return;
  const std::string folded = norm_.fold(text);

  // (folded word, German spelling) of each word with an umlaut.
  std::vector<std::pair<std::string, std::string>> variants;
  if (has_umlaut(text)) {
    for (const Token& tok : norm_.tokenize(text)) {
      std::string german = norm_.german_variant(text.substr(tok.begin, tok.end - tok.begin));
      if (!german.empty() && german != tok.folded) variants.emplace_back(tok.folded, german);
    }
  }

  // Identifier-like words also as the other spellings of them ("IL-6"
  // also as "il6", "IL6" also as "il 6"), without positions, so that a
  // phrase still matches only the words as written.
  const std::string spellings = identifier_spellings(folded);

  auto index_with = [&](const std::string& pfx, unsigned wdf_inc, bool positions, bool stemmed) {
    termgen_.set_stemming_strategy(stemmed ? Xapian::TermGenerator::STEM_SOME
                                           : Xapian::TermGenerator::STEM_NONE);
    Xapian::termpos start = termgen_.get_termpos();
    if (positions) termgen_.index_text(folded, wdf_inc, pfx);
    else termgen_.index_text_without_positions(folded, wdf_inc, pfx);
    if (!spellings.empty()) termgen_.index_text_without_positions(spellings, wdf_inc, pfx);
    for (const auto& [plain, german] : variants) {
      Xapian::TermIterator t = current_->termlist_begin();
      t.skip_to(pfx + plain);
      if (t == current_->termlist_end() || *t != pfx + plain) continue;
      if (positions) {
        for (auto p = t.positionlist_begin(); p != t.positionlist_end(); ++p)
          if (*p > start) current_->add_posting(pfx + german, *p, wdf_inc);
      } else {
        current_->add_term(pfx + german, wdf_inc);
      }
      if (stemmed) current_->add_term(schema::kPrefixStem + pfx + stemmer_(german), wdf_inc);
    }
    termgen_.increase_termpos();
  };
  if (field == nullptr) {
    index_with("", 1, true, true);
    return;
  }
  index_with(field->prefix, 1, true, field->stemmed);
  if (field->weight > 0) index_with("", field->weight, false, true);
}

Xapian::Document DocumentBuilder::build(const Document& doc) {
  Xapian::Document xdoc;
  current_ = &xdoc;
  termgen_.set_document(xdoc);

  for (const schema::TextField& field : schema::kTextFields) {
    std::string_view value = field.name == std::string_view("name")    ? doc.name
                             : field.name == std::string_view("title") ? doc.title
                                                                       : doc.department;
    index_field(value, &field);
  }
  index_field(doc.text);

  // Facet values are searchable as words too ("zib", "optimization"), and
  // institutions by their full names.
  for (const std::string& inst : doc.institutions) {
    index_field(inst + " " + schema::institution_full_name(inst));
    xdoc.add_boolean_term(schema::boolean_term(schema::facet(schema::FacetId::kInstitution).prefix,
                                               inst, norm_));
  }
  for (const std::string& area : doc.areas) {
    index_field(area);
    xdoc.add_boolean_term(
        schema::boolean_term(schema::facet(schema::FacetId::kArea).prefix, area, norm_));
  }
  xdoc.add_boolean_term(schema::boolean_term("XT", doc.type, norm_));
  const std::string year = doc.year != 0 ? std::to_string(doc.year) : "";
  if (!year.empty()) xdoc.add_boolean_term(schema::facet(schema::FacetId::kYear).prefix + year);
  xdoc.add_boolean_term(schema::kPrefixId + doc.id);

  xdoc.add_value(schema::kSlotId, doc.id);
  xdoc.add_value(schema::kSlotHash, doc.hash);
  xdoc.add_value(schema::kSlotSource, doc.path);
  std::vector<std::string> facets;
  for (const schema::Facet& f : schema::kFacets)
    facets.push_back(f.id == schema::FacetId::kInstitution ? schema::encode_list(doc.institutions)
                     : f.id == schema::FacetId::kArea      ? schema::encode_list(doc.areas)
                                                           : year);
  xdoc.add_value(schema::kSlotFacets, schema::encode_facets(facets));
  xdoc.set_data(codec_.encode(doc));
  current_ = nullptr;
  return xdoc;
}

std::string encode_data(const Document& doc) {
  // Empty fields are left out: decode_data() gives them their defaults.
  json j = {{"id", doc.id}, {"type", doc.type}};
  if (!doc.name.empty()) j["name"] = doc.name;
  if (!doc.title.empty()) j["title"] = doc.title;
  if (!doc.institutions.empty()) j["institutions"] = doc.institutions;
  if (!doc.department.empty()) j["department"] = doc.department;
  if (!doc.areas.empty()) j["areas"] = doc.areas;
  if (doc.year != 0) j["year"] = doc.year;
  j["path"] = doc.path;
  if (!doc.text.empty()) j["text"] = doc.text;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Document decode_data(std::string_view data) {
  try {
    json j = json::parse(data);
    Document doc;
    doc.id = j.value("id", "");
    doc.type = j.value("type", "");
    doc.name = j.value("name", "");
    doc.title = j.value("title", "");
    doc.institutions = j.value("institutions", std::vector<std::string>{});
    doc.department = j.value("department", "");
    doc.areas = j.value("areas", std::vector<std::string>{});
    doc.year = j.value("year", 0);
    doc.path = j.value("path", "");
    doc.text = j.value("text", "");
    return doc;
  } catch (const json::exception& e) {
    throw Error(Error::Kind::kCorrupt,
                std::string("stored document data is not resdex's (") + e.what() +
                    "): rebuild the index with `resdex index --rebuild`");
  }
}

namespace {

// Deflated data: this byte, the dictionary's id (4 bytes, little-endian),
// then a raw deflate stream.
constexpr char kDeflated = '\x01';
constexpr int kWindowBits = -15;  // raw deflate, 32 KB window
constexpr int kMemLevel = 8;
// zlib's level 3 instead of its default 6: with a dictionary, level 6 takes
// twice as long per ACL record (~80 us against ~40 us, Xapian's own zlib
// pass on a record without one ~30 us) for 5% less data.
constexpr int kLevel = 3;
constexpr size_t kMaxDictionary = 32768;

uint32_t dictionary_id(const std::string& dictionary) {
  return static_cast<uint32_t>(XXH3_64bits(dictionary.data(), dictionary.size()));
}

Error corrupt(const std::string& why) {
  return Error(Error::Kind::kCorrupt,
               "stored document data is not readable (" + why + "): rebuild the index with `resdex index --rebuild`");
}

}  // namespace

DataCodec::DataCodec() = default;

DataCodec::DataCodec(std::string dictionary) : dictionary_(std::move(dictionary)) {
  if (dictionary_.empty()) return;
  dictionary_id_ = dictionary_id(dictionary_);
  primed_ = std::make_unique<z_stream>();
  if (deflateInit2(primed_.get(), kLevel, Z_DEFLATED, kWindowBits, kMemLevel,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    primed_.reset();
    throw std::bad_alloc();
  }
  if (deflateSetDictionary(primed_.get(), reinterpret_cast<const Bytef*>(dictionary_.data()),
                           static_cast<uInt>(dictionary_.size())) != Z_OK) {
    deflateEnd(primed_.get());
    primed_.reset();
    throw corrupt("zlib refuses the index's data dictionary");
  }
}

DataCodec::~DataCodec() {
  if (primed_) deflateEnd(primed_.get());
}

std::string DataCodec::encode(const Document& doc) const {
  std::string plain = encode_data(doc);
  if (!primed_) return plain;
  z_stream s;
  if (deflateCopy(&s, primed_.get()) != Z_OK) throw std::bad_alloc();
  std::string out(5 + deflateBound(&s, static_cast<uLong>(plain.size())), '\0');
  out[0] = kDeflated;
  for (int i = 0; i < 4; ++i) out[1 + i] = static_cast<char>((dictionary_id_ >> (8 * i)) & 0xff);
  s.next_in = reinterpret_cast<Bytef*>(plain.data());
  s.avail_in = static_cast<uInt>(plain.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data() + 5);
  s.avail_out = static_cast<uInt>(out.size() - 5);
  int rc = deflate(&s, Z_FINISH);
  out.resize(out.size() - s.avail_out);
  deflateEnd(&s);
  if (rc != Z_STREAM_END) return plain;  // cannot happen with deflateBound's room
  return out;
}

Document DataCodec::decode(std::string_view data) const {
  if (data.empty() || data[0] != kDeflated) return decode_data(data);
  if (data.size() < 5) throw corrupt("truncated");
  uint32_t id = 0;
  for (int i = 0; i < 4; ++i) id |= static_cast<uint32_t>(static_cast<unsigned char>(data[1 + i])) << (8 * i);
  if (dictionary_.empty() || id != dictionary_id_)
    throw corrupt("written with another data dictionary than the index has");
  z_stream s{};
  if (inflateInit2(&s, kWindowBits) != Z_OK) throw std::bad_alloc();
  if (inflateSetDictionary(&s, reinterpret_cast<const Bytef*>(dictionary_.data()),
                           static_cast<uInt>(dictionary_.size())) != Z_OK) {
    inflateEnd(&s);
    throw corrupt("bad data dictionary");
  }
  std::string plain;
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + 5));
  s.avail_in = static_cast<uInt>(data.size() - 5);
  int rc = Z_OK;
  char buf[16384];
  while (rc == Z_OK) {
    s.next_out = reinterpret_cast<Bytef*>(buf);
    s.avail_out = sizeof buf;
    rc = inflate(&s, Z_NO_FLUSH);
    plain.append(buf, sizeof buf - s.avail_out);
    if (rc == Z_BUF_ERROR && s.avail_in == 0) break;  // input ends early
  }
  inflateEnd(&s);
  if (rc != Z_STREAM_END) throw corrupt("damaged deflate stream");
  return decode_data(plain);
}

std::string DataCodec::make_dictionary(const std::vector<Document>& sample) {
  std::string all;
  for (const Document& doc : sample) all += encode_data(doc);
  if (all.size() > kMaxDictionary) all.erase(0, all.size() - kMaxDictionary);
  return all;
}

}  // namespace resdex
