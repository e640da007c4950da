#include "core/schema.h"

#include <algorithm>
#include <charconv>

#include <xxhash.h>

#include "core/text_normalizer.h"

namespace resdex::schema {

namespace {

// Xapian rejects terms over 245 bytes; leave room for the prefix.
constexpr size_t kMaxKeyBytes = 200;

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n\f\v";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

// Cuts a UTF-8 string to at most `max` bytes without splitting a character.
std::string cut_utf8(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  s.resize(n);
  return s;
}

}  // namespace

const Facet& facet(FacetId id) {
  for (const Facet& f : kFacets)
    if (f.id == id) return f;
  return kFacets[0];
}

bool is_known_type(std::string_view type) {
  return std::any_of(std::begin(kTypes), std::end(kTypes),
                     [&](const char* t) { return type == t; });
}

const std::vector<Institution>& institutions() {
  static const std::vector<Institution> table = {
      {"FU Berlin", "Freie Universität Berlin",
       {"FU", "Free University of Berlin", "Freie Universitaet Berlin"}},
      {"HU Berlin", "Humboldt-Universität zu Berlin",
       {"HU", "Humboldt University of Berlin", "Humboldt University Berlin",
        "Humboldt-Universitaet zu Berlin"}},
      {"TU Berlin", "Technische Universität Berlin",
       {"TU", "Technical University of Berlin", "Technical University Berlin",
        "Technische Universitaet Berlin"}},
      {"WIAS", "Weierstrass Institute for Applied Analysis and Stochastics",
       {"Weierstrass Institute", "Weierstraß-Institut",
        "Weierstraß-Institut für Angewandte Analysis und Stochastik",
        "Weierstrass Institute Berlin"}},
      {"ZIB", "Zuse Institute Berlin",
       {"Zuse-Institut Berlin", "Zuse Institut Berlin", "Konrad-Zuse-Zentrum für Informationstechnik Berlin"}},
  };
  return table;
}

std::string facet_key(std::string_view value, const TextNormalizer& norm) {
  std::string folded = norm.fold(trim(value));
  std::string key;
  key.reserve(folded.size());
  bool pending_space = false;
  for (unsigned char c : folded) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
    if (!alnum) {
      pending_space = !key.empty();
      continue;
    }
    if (pending_space) key.push_back(' ');
    pending_space = false;
    key.push_back(static_cast<char>(c));
  }
  return cut_utf8(std::move(key), kMaxKeyBytes);
}

namespace {

// The facet key of every name and alias of every known institution, with
// its short name. Computed once: fold() is the same for every
// TextNormalizer, and folding the table per call cost more than the rest
// of an institution's indexing.
const std::vector<std::pair<std::string, const char*>>& institution_keys(const TextNormalizer& norm) {
  static const std::vector<std::pair<std::string, const char*>> keys = [&] {
    std::vector<std::pair<std::string, const char*>> out;
    for (const Institution& inst : institutions()) {
      out.emplace_back(facet_key(inst.short_name, norm), inst.short_name);
      out.emplace_back(facet_key(inst.full_name, norm), inst.short_name);
      for (const char* alias : inst.aliases) out.emplace_back(facet_key(alias, norm), inst.short_name);
    }
    return out;
  }();
  return keys;
}

}  // namespace

std::string canonical_institution(std::string_view name, const TextNormalizer& norm) {
  const std::string key = facet_key(name, norm);
  for (const auto& [known, short_name] : institution_keys(norm))
    if (key == known) return short_name;
  return std::string(trim(name));
}

std::string institution_full_name(std::string_view canonical) {
  for (const Institution& inst : institutions())
    if (canonical == inst.short_name) return inst.full_name;
  return {};
}

std::string boolean_term(std::string_view prefix, std::string_view value,
                         const TextNormalizer& norm) {
  std::string term(prefix);
  if (prefix == facet(FacetId::kInstitution).prefix)
    term += facet_key(canonical_institution(value, norm), norm);
  else
    term += facet_key(value, norm);
  return term;
}

std::string encode_facets(const std::vector<std::string>& slot_values) {
  std::string out;
  bool any = false;
  for (size_t i = 0; i < slot_values.size(); ++i) {
    if (i > 0) out.push_back('\x1e');
    out += slot_values[i];
    any = any || !slot_values[i].empty();
  }
  return any ? out : std::string();
}

std::array<std::string_view, std::size(kFacets)> decode_facets(std::string_view encoded) {
  std::array<std::string_view, std::size(kFacets)> parts{};
  for (std::string_view& part : parts) {
    const size_t sep = encoded.find('\x1e');
    part = encoded.substr(0, sep);
    if (sep == std::string_view::npos) break;
    encoded.remove_prefix(sep + 1);
  }
  return parts;
}

int stored_version(const Xapian::Database& db) {
  const std::string version = db.get_metadata(kVersionKey);
  int v = 0;
  std::from_chars(version.data(), version.data() + version.size(), v);
  return v;
}

std::string source_value(std::string_view path) {
  const uint64_t h = XXH3_64bits(path.data(), path.size());
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((h >> (8 * i)) & 0xff);
  return out;
}

std::string encode_list(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& v : values) {
    if (!out.empty()) out.push_back('\x1f');
    for (char c : v)
      if (static_cast<unsigned char>(c) >= 0x20) out.push_back(c);
  }
  return out;
}

std::vector<std::string_view> split_list(std::string_view encoded) {
  std::vector<std::string_view> out;
  if (encoded.empty()) return out;
  while (true) {
    const size_t sep = encoded.find('\x1f');
    out.push_back(encoded.substr(0, sep));
    if (sep == std::string_view::npos) return out;
    encoded.remove_prefix(sep + 1);
  }
}

std::vector<std::string> decode_list(std::string_view encoded) {
  const std::vector<std::string_view> values = split_list(encoded);
  return std::vector<std::string>(values.begin(), values.end());
}

}  // namespace resdex::schema
