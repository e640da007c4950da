#include "core/document_builder.h"

#include <atomic>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <xxhash.h>
// For ZDICT_trainFromBuffer_fastCover, like ZSTD_createDDict_byReference
// below among zstd's "experimental" functions (exported by Debian's libzstd).
#define ZDICT_STATIC_LINKING_ONLY
#include <zdict.h>
#include <zlib.h>
// For ZSTD_createDDict_byReference, in zstd's API since 1.0 but still
// among its "experimental" functions (exported by Debian's libzstd).
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>

#include "core/error.h"
#include "core/schema.h"
#include "core/stem_memo.h"
#include "core/text_normalizer.h"

namespace resdex {

namespace {

// Whether a term is a word for the spelling data: unprefixed (not a field
// term or a "Z" stem) and not a number.
bool is_spelling_word(const std::string& term) {
  const unsigned char c = static_cast<unsigned char>(term[0]);
  if (c >= 'A' && c <= 'Z') return false;
  return term.find_first_not_of("0123456789") != std::string::npos;
}

}  // namespace

DocumentBuilder::DocumentBuilder(const TextNormalizer& norm, std::string data_dictionary,
                                 FacetDictionary* facets)
    : norm_(norm),
      stemmer_(remembering_stemmer()),
      codec_(std::move(data_dictionary)),
      own_facets_(facets ? nullptr : std::make_unique<FacetDictionary>()),
      facets_(facets ? facets : own_facets_.get()) {
  termgen_.set_stemmer(stemmer_);
  termgen_.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
}

void SpellingDelta::count(const Xapian::Document& doc, long sign) {
  for (auto t = doc.termlist_begin(); t != doc.termlist_end(); ++t) {
    const std::string term = *t;
    if (is_spelling_word(term)) delta_[term] += sign;
  }
}

void SpellingDelta::add_words(const Xapian::Database& db) {
  for (auto t = db.allterms_begin(); t != db.allterms_end(); ++t) {
    const std::string term = *t;
    if (is_spelling_word(term)) delta_[term] += static_cast<long>(t.get_termfreq());
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
// more unprefixed (wdf times the field's weight), with positions where
// schema::plain_positions() says so; with no field, unprefixed with
// positions. Words with umlauts also get their German spelling (at the
// same positions), so "mueller" finds "Müller" as "muller" does, in
// phrases too; identifier-like words get their other spellings
// (identifier_spellings()).
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
  if (field->weight > 0) index_with("", field->weight, schema::plain_positions(*field, schema::kVersion), true);
}

Xapian::Document DocumentBuilder::build(const Document& doc) {
  Xapian::Document xdoc;
  current_ = &xdoc;
  termgen_.set_document(xdoc);

  // The body first: its positions are then the smallest numbers, which
  // Xapian stores in fewer bits (3.9 MB less of the ACL Anthology's
  // index). The fields follow, each after a gap (increase_termpos), so
  // that no phrase spans two of them.
  index_field(doc.text);
  for (const schema::TextField& field : schema::kTextFields) {
    std::string_view value = field.name == std::string_view("name")    ? doc.name
                             : field.name == std::string_view("title") ? doc.title
                                                                       : doc.department;
    index_field(value, &field);
  }

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
  xdoc.add_value(schema::kSlotSource, schema::source_value(doc.path));
  FacetValues facets;
  for (size_t i = 0; i < kFacetCount; ++i) {
    const schema::FacetId f = schema::kFacets[i].id;
    facets[i] = f == schema::FacetId::kInstitution ? doc.institutions
                : f == schema::FacetId::kArea      ? doc.areas
                : year.empty()                     ? std::vector<std::string>()
                                                   : std::vector<std::string>{year};
  }
  xdoc.add_value(schema::kSlotFacets, facets_->encode(facets));
  xdoc.add_value(schema::kSlotData, codec_.encode(doc));
  current_ = nullptr;
  return xdoc;
}

std::string encode_data(const Document& doc) {
  // The members in byte order of their names, as nlohmann::json (an
  // std::map) wrote them before: the same documents give the same bytes,
  // so data compressed with a dictionary of an older index's records (or
  // deflated against one, which needs those exact bytes) reads back, and
  // dictionaries trained before and after fit the data alike. RapidJSON
  // writes control characters as \u00XX with upper-case hex digits where
  // nlohmann wrote lower case; both read back the same.
  //
  // Invalid UTF-8 is replaced by U+FFFD, as nlohmann's dump did with
  // error_handler_t::replace: the data must stay JSON that decode_data
  // (and any reader of the index) accepts.
  size_t size = 128 + doc.id.size() + doc.type.size() + doc.name.size() + doc.title.size() +
                doc.department.size() + doc.path.size() + doc.text.size();
  for (const std::string& s : doc.institutions) size += s.size() + 3;
  for (const std::string& s : doc.areas) size += s.size() + 3;
  rapidjson::StringBuffer out(nullptr, size + size / 16);
  rapidjson::Writer<rapidjson::StringBuffer> w(out);
  std::string replaced;
  auto string = [&](std::string_view s) {
    if (!is_valid_utf8(s)) s = replaced = replace_invalid_utf8(s);
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  };
  auto member = [&](std::string_view name, std::string_view value) {
    w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    string(value);
  };
  auto list = [&](std::string_view name, const std::vector<std::string>& values) {
    w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    w.StartArray();
    for (const std::string& v : values) string(v);
    w.EndArray();
  };
  // Empty fields are left out (decode_data() gives them their defaults),
  // but for id, path and type.
  w.StartObject();
  if (!doc.areas.empty()) list("areas", doc.areas);
  if (!doc.department.empty()) member("department", doc.department);
  member("id", doc.id);
  if (!doc.institutions.empty()) list("institutions", doc.institutions);
  if (!doc.name.empty()) member("name", doc.name);
  member("path", doc.path);
  if (!doc.text.empty()) member("text", doc.text);
  if (!doc.title.empty()) member("title", doc.title);
  member("type", doc.type);
  if (doc.year != 0) {
    w.Key("year", 4);
    w.Int(doc.year);
  }
  w.EndObject();
  return std::string(out.GetString(), out.GetSize());
}

std::string stored_record(const Xapian::Document& doc) {
  std::string record = doc.get_value(schema::kSlotData);
  return record.empty() ? doc.get_data() : record;
}

namespace {

// decode_data's reading of one member of the stored record: absent or
// null gives the default, another type than expected is corrupt data.
struct StoredRecord {
  const rapidjson::Value& object;

  const rapidjson::Value* member(const char* name) const {
    auto it = object.FindMember(name);
    return it == object.MemberEnd() || it->value.IsNull() ? nullptr : &it->value;
  }
  [[noreturn]] static void wrong(const char* name, const char* expected) {
    throw std::runtime_error(std::string("member '") + name + "' is not " + expected);
  }
  std::string string(const char* name) const {
    const rapidjson::Value* v = member(name);
    if (!v) return {};
    if (!v->IsString()) wrong(name, "a string");
    return std::string(v->GetString(), v->GetStringLength());
  }
  std::vector<std::string> strings(const char* name) const {
    std::vector<std::string> out;
    const rapidjson::Value* v = member(name);
    if (!v) return out;
    if (!v->IsArray()) wrong(name, "an array of strings");
    out.reserve(v->Size());
    for (const rapidjson::Value& e : v->GetArray()) {
      if (!e.IsString()) wrong(name, "an array of strings");
      out.emplace_back(e.GetString(), e.GetStringLength());
    }
    return out;
  }
  int integer(const char* name) const {
    const rapidjson::Value* v = member(name);
    if (!v) return 0;
    if (!v->IsInt()) wrong(name, "an integer");
    return v->GetInt();
  }
};

}  // namespace

Document decode_data(std::string json) {
  // RapidJSON rather than nlohmann::json, which older resdex wrote the
  // data with: a search decodes each hit's record, and nlohmann's parser
  // cost ten times as much (a tenth of a 10-hit search on the ACL
  // abstracts).
  try {
    // Invalid UTF-8 is refused, as nlohmann::json refused it: output
    // formatters expect valid text. (Checked here rather than by RapidJSON,
    // which took three times as long.)
    size_t bad = 0;
    if (!is_valid_utf8(json, &bad)) throw std::runtime_error("invalid UTF-8 at byte " + std::to_string(bad));
    rapidjson::Document j;
    // Iterative: a damaged record of deeply nested brackets must not
    // exhaust the stack. In place: strings are unescaped where they are
    // rather than copied into the document, which
    // takes ~45% fewer instructions. RapidJSON ends the data at a NUL
    // byte, which only damaged data has (JSON escapes it): refused, rather
    // than what follows it overlooked.
    if (const void* nul = std::memchr(json.data(), '\0', json.size()))
      throw std::runtime_error("a NUL byte at byte " + std::to_string(static_cast<const char*>(nul) - json.data()));
    j.ParseInsitu<rapidjson::kParseIterativeFlag>(json.data());
    if (j.HasParseError())
      throw std::runtime_error(std::string(rapidjson::GetParseError_En(j.GetParseError())) + " at byte " +
                               std::to_string(j.GetErrorOffset()));
    if (!j.IsObject()) throw std::runtime_error("not a JSON object");
    const StoredRecord r{j};
    Document doc;
    doc.id = r.string("id");
    doc.type = r.string("type");
    doc.name = r.string("name");
    doc.title = r.string("title");
    doc.institutions = r.strings("institutions");
    doc.department = r.string("department");
    doc.areas = r.strings("areas");
    doc.year = r.integer("year");
    doc.path = r.string("path");
    doc.text = r.string("text");
    return doc;
  } catch (const std::runtime_error& e) {
    throw Error(Error::Kind::kCorrupt,
                std::string("stored document data is not resdex's (") + e.what() +
                    "): rebuild the index with `resdex index --rebuild`");
  }
}

namespace {

// The first byte of compressed data (document_builder.h), then the
// dictionary's id (4 bytes, little-endian).
constexpr char kDeflated = '\x01';
constexpr char kZstd = '\x02';
constexpr size_t kHeader = 5;

// zstd's level 3 (its default). On the ACL abstracts with a trained
// dictionary, levels 4 and 5 give ~5% more bytes, not fewer, and take
// longer; level 1 gives 14% more.
constexpr int kLevel = 3;
// The trained dictionary's size at most. On the ACL corpus lines (5,000
// training records), 112 KB give 30.1 MB, 64 KB 30.3 and 256 KB 29.1; a
// search reads the dictionary from the metadata and digests it (~50 us
// for 112 KB) before it shows its first hit, so it is kept moderate.
constexpr size_t kDictionaryCapacity = 112 * 1024;

// zstd's frame magic number (little-endian), which the stored data leaves
// out: its first byte says what it is.
constexpr unsigned char kZstdMagic[4] = {0x28, 0xB5, 0x2F, 0xFD};

// Records up to this size decode in one go into a buffer of their size;
// bigger ones (or frames that claim to be) as a stream.
constexpr unsigned long long kMaxOneShot = 1 << 20;

// Raw deflate with a 32 KB window, as the '\x01' data was written.
constexpr int kWindowBits = -15;

uint32_t dictionary_id(std::string_view dictionary) {
  return static_cast<uint32_t>(XXH3_64bits(dictionary.data(), dictionary.size()));
}

// The id of the dictionary a compressed record names (after its format
// byte; the caller checks there are kHeader bytes).
uint32_t record_dictionary_id(std::string_view data) {
  uint32_t id = 0;
  for (int i = 0; i < 4; ++i) id |= static_cast<uint32_t>(static_cast<unsigned char>(data[1 + i])) << (8 * i);
  return id;
}

Error corrupt(const std::string& why) {
  return Error(Error::Kind::kCorrupt,
               "stored document data is not readable (" + why + "): rebuild the index with `resdex index --rebuild`");
}

// A thread's compression and decompression contexts, reused for all its
// records (a context allocates its tables once) with whichever codec.
struct ZstdContexts {
  ZSTD_CCtx* c = nullptr;
  ZSTD_DCtx* d = nullptr;
  ~ZstdContexts() {
    ZSTD_freeCCtx(c);
    ZSTD_freeDCtx(d);
  }
};
thread_local ZstdContexts tls_contexts;

ZSTD_CCtx* compressor() {
  if (!tls_contexts.c && !(tls_contexts.c = ZSTD_createCCtx())) throw std::bad_alloc();
  return tls_contexts.c;
}

// This thread's decompression context: `spare` (which it then owns) if
// it has none yet and one is given, else a new one.
ZSTD_DCtx* decompressor(std::atomic<ZSTD_DCtx*>* spare = nullptr) {
  if (!tls_contexts.d && spare) tls_contexts.d = spare->exchange(nullptr);
  if (!tls_contexts.d && !(tls_contexts.d = ZSTD_createDCtx())) throw std::bad_alloc();
  return tls_contexts.d;
}

std::string inflate_data(std::string_view deflated, std::string_view dictionary) {
  z_stream s{};
  if (inflateInit2(&s, kWindowBits) != Z_OK) throw std::bad_alloc();
  if (inflateSetDictionary(&s, reinterpret_cast<const Bytef*>(dictionary.data()),
                           static_cast<uInt>(dictionary.size())) != Z_OK) {
    inflateEnd(&s);
    throw corrupt("bad data dictionary");
  }
  std::string plain;
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(deflated.data()));
  s.avail_in = static_cast<uInt>(deflated.size());
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
  return plain;
}

}  // namespace

// zstd's digests of the dictionary, each made on first use: an encoder
// needs only the CDict (~0.5 ms to make for 112 KB), a searcher only the
// DDict.
struct DataCodec::Zstd {
  std::once_flag c_once, d_once;
  ZSTD_CDict* c = nullptr;
  ZSTD_DDict* d = nullptr;
  // A decompression context prepare_decode() made, for the first thread
  // that decodes without one of its own (~0.02 ms to make in a fresh
  // process).
  std::atomic<ZSTD_DCtx*> spare{nullptr};
  ~Zstd() {
    ZSTD_freeCDict(c);
    ZSTD_freeDDict(d);
    ZSTD_freeDCtx(spare.exchange(nullptr));
  }
};

DataCodec::DataCodec() = default;

DataCodec::DataCodec(std::string dictionary)
    : DataCodec(std::make_shared<const std::string>(std::move(dictionary))) {}

DataCodec::DataCodec(const std::shared_ptr<const std::string>& owned) : DataCodec(*owned, owned) {}

DataCodec::DataCodec(std::string_view dictionary, std::shared_ptr<const void> owner)
    : owner_(std::move(owner)), dictionary_(dictionary) {
  if (dictionary_.empty()) return;
  dictionary_id_ = dictionary_id(dictionary_);
  zstd_ = std::make_unique<Zstd>();
}

DataCodec::~DataCodec() = default;

std::string DataCodec::encode(const Document& doc) const {
  std::string plain = encode_data(doc);
  if (!zstd_) return plain;
  // A dictionary that starts with zstd's dictionary magic number but is
  // not one is refused here (on the first record), as any other is used
  // as plain content.
  std::call_once(zstd_->c_once, [&] {
    zstd_->c = ZSTD_createCDict(dictionary_.data(), dictionary_.size(), kLevel);
    if (!zstd_->c) throw corrupt("zstd refuses the index's data dictionary");
  });
  ZSTD_CCtx* cctx = compressor();
  ZSTD_CCtx_refCDict(cctx, zstd_->c);
  // The frame keeps its content size (decode allocates by it) but not the
  // dictionary's id (4 bytes; ours precedes it) nor a checksum.
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_dictIDFlag, 0);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1);
  // The frame is written from out[1], its magic number then overwritten
  // by the dictionary's id.
  std::string out(1 + ZSTD_compressBound(plain.size()), '\0');
  size_t n = ZSTD_compress2(cctx, out.data() + 1, out.size() - 1, plain.data(), plain.size());
  if (ZSTD_isError(n)) {
    if (ZSTD_getErrorCode(n) == ZSTD_error_memory_allocation) throw std::bad_alloc();
    return plain;  // cannot happen with ZSTD_compressBound's room
  }
  out.resize(1 + n);
  out[0] = kZstd;
  for (int i = 0; i < 4; ++i) out[1 + i] = static_cast<char>((dictionary_id_ >> (8 * i)) & 0xff);
  return out;
}

bool DataCodec::reads(std::string_view data) const {
  if (data.size() < kHeader || (data[0] != kZstd && data[0] != kDeflated)) return true;
  return !dictionary_.empty() && record_dictionary_id(data) == dictionary_id_;
}

void DataCodec::prepare_decode(bool with_context) const {
  if (!zstd_) return;
  std::call_once(zstd_->d_once, [&] {
    // By reference: a copy of the dictionary would be ~28 more pages for
    // a search process to fault in (the codec keeps it alive).
    zstd_->d = ZSTD_createDDict_byReference(dictionary_.data(), dictionary_.size());
    if (!zstd_->d) throw corrupt("zstd refuses the index's data dictionary");
  });
  if (with_context && !zstd_->spare.load()) {
    ZSTD_DCtx* made = ZSTD_createDCtx();
    if (!made) throw std::bad_alloc();
    ZSTD_DCtx* none = nullptr;
    if (!zstd_->spare.compare_exchange_strong(none, made)) ZSTD_freeDCtx(made);
  }
}

Document DataCodec::decode(std::string_view data) const {
  if (data.empty() || data[0] == '{') return decode_data(std::string(data));
  if (data[0] != kZstd && data[0] != kDeflated) throw corrupt("unknown format");
  if (data.size() < kHeader) throw corrupt("truncated");
  if (dictionary_.empty() || record_dictionary_id(data) != dictionary_id_)
    throw corrupt("written with another data dictionary than the index has");
  if (data[0] == kDeflated) return decode_data(inflate_data(data.substr(kHeader), dictionary_));

  prepare_decode(false);
  // The frame with its magic number put back.
  std::string frame(reinterpret_cast<const char*>(kZstdMagic), 4);
  frame.append(data.substr(kHeader));
  unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) throw corrupt("damaged zstd frame");
  ZSTD_DCtx* dctx = decompressor(&zstd_->spare);
  auto failed = [](size_t rc) {
    if (ZSTD_getErrorCode(rc) == ZSTD_error_memory_allocation) throw std::bad_alloc();
    return corrupt(std::string("damaged zstd frame: ") + ZSTD_getErrorName(rc));
  };
  std::string plain;
  if (size <= kMaxOneShot) {
    // In one go into a buffer of the frame's size: no stream buffers.
    plain.resize(size);
    size_t n = ZSTD_decompress_usingDDict(dctx, plain.data(), plain.size(), frame.data(), frame.size(), zstd_->d);
    if (ZSTD_isError(n)) throw failed(n);
    if (n != size) throw corrupt("damaged zstd frame");
    return decode_data(std::move(plain));
  }
  // A big record, or a damaged frame that claims a huge size: decoded as a
  // stream, which takes no more memory than the data really decodes to.
  ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
  ZSTD_DCtx_refDDict(dctx, zstd_->d);
  plain.resize(kMaxOneShot);
  ZSTD_inBuffer in{frame.data(), frame.size(), 0};
  size_t done = 0;
  for (;;) {
    if (done == plain.size()) plain.resize(plain.size() * 2);
    ZSTD_outBuffer out{plain.data(), plain.size(), done};
    size_t rc = ZSTD_decompressStream(dctx, &out, &in);
    done = out.pos;
    if (ZSTD_isError(rc)) throw failed(rc);
    if (rc == 0) break;  // the frame is complete
    if (in.pos == in.size && out.pos < out.size) throw corrupt("truncated zstd frame");
  }
  if (in.pos != in.size || done != size) throw corrupt("damaged zstd frame");
  plain.resize(done);
  return decode_data(std::move(plain));
}

std::string DataCodec::make_dictionary(const std::vector<Document>& sample) {
  std::string all;
  std::vector<size_t> sizes;
  for (const Document& doc : sample) {
    sizes.push_back(all.size());
    all += encode_data(doc);
    sizes.back() = all.size() - sizes.back();
  }
  if (all.empty()) return "";
  // The trainer beats the plain JSON from a few samples on: on the ACL
  // abstracts, 14 records give a 14 KB dictionary that stores the others
  // in 4% fewer bytes than their 23 KB of JSON would.
  //
  // ZDICT_trainFromBuffer tries four segment sizes and trains once per
  // try; on the ACL abstracts it settles on k = 1024. Trained once with
  // that k, and sampling every 4th position (accel 4), the dictionary takes
  // a seventh of the time (0.10 s instead of 0.67 s for 5,000 records, a
  // build's serial time) and stores the corpus in 29.86 MB instead of 30.32.
  std::string dictionary(kDictionaryCapacity, '\0');
  ZDICT_fastCover_params_t params{};
  params.k = 1024;
  params.d = 8;
  params.f = 20;
  params.accel = 4;
  params.zParams.compressionLevel = kLevel;
  size_t n = ZDICT_trainFromBuffer_fastCover(dictionary.data(), dictionary.size(), all.data(), sizes.data(),
                                             static_cast<unsigned>(sizes.size()), params);
  // Too few samples for segments that long: let the trainer choose.
  if (ZDICT_isError(n))
    n = ZDICT_trainFromBuffer(dictionary.data(), dictionary.size(), all.data(), sizes.data(),
                              static_cast<unsigned>(sizes.size()));
  if (!ZDICT_isError(n)) {
    dictionary.resize(n);
    return dictionary;
  }
  // It fails on fewer than ~8 records (or little text): their JSON itself
  // is then the dictionary, which zstd uses as plain content (the end of
  // it if it is longer than a dictionary may be).
  if (all.size() > kDictionaryCapacity) all.erase(0, all.size() - kDictionaryCapacity);
  return all;
}

}  // namespace resdex
