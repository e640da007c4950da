#include "core/jsonl_record.h"

#include <nlohmann/json.hpp>

#include "core/schema.h"
#include "core/text_normalizer.h"

namespace resdex {

namespace {

using json = nlohmann::json;

bool fail(ReadError* err, std::string reason) {
  err->reason = std::move(reason);
  return false;
}

// A string field; absent or null gives "". Numbers are accepted as text.
bool get_string(const json& obj, const char* key, std::string* out, ReadError* err) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return true;
  if (it->is_string()) {
    *out = it->get<std::string>();
    return true;
  }
  if (it->is_number_integer()) {
    *out = std::to_string(it->get<long long>());
    return true;
  }
  return fail(err, std::string("'") + key + "' must be a string");
}

// A list of strings; a single string is a list of one.
bool get_list(const json& obj, const char* key, std::vector<std::string>* out, ReadError* err) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return true;
  if (it->is_string()) {
    if (!it->get_ref<const std::string&>().empty()) out->push_back(it->get<std::string>());
    return true;
  }
  if (!it->is_array()) return fail(err, std::string("'") + key + "' must be a list of strings");
  for (const json& v : *it) {
    if (v.is_null()) continue;
    if (!v.is_string()) return fail(err, std::string("'") + key + "' must be a list of strings");
    if (!v.get_ref<const std::string&>().empty()) out->push_back(v.get<std::string>());
  }
  return true;
}

}  // namespace

bool parse_jsonl_record(std::string_view line, const TextNormalizer& norm, Document* doc,
                        ReadError* err) {
  size_t bad = 0;
  if (!is_valid_utf8(line, &bad))
    return fail(err, "invalid UTF-8 at byte " + std::to_string(bad) + " of the line");
  json obj;
  try {
    obj = json::parse(line);
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    size_t at = what.find("parse error");
    what = at == std::string::npos ? what : what.substr(at);
    // The line number is the record's, already in the report.
    if (size_t l = what.find("at line 1, column "); l != std::string::npos) what.replace(l, 18, "at column ");
    return fail(err, "not valid JSON: " + what);
  } catch (const json::out_of_range& e) {
    // A number too large for a double ("1e400") is no syntax error to
    // nlohmann::json, but the line is no more readable for that.
    std::string what = e.what();
    size_t at = what.find("] ");
    return fail(err, "not valid JSON: " + (at == std::string::npos ? what : what.substr(at + 2)));
  }
  if (!obj.is_object()) return fail(err, "not a JSON object");

  Document d;
  std::vector<std::string> authors, institutions;
  if (!get_string(obj, "_id", &d.id, err)) return false;
  if (d.id.empty()) return fail(err, "missing '_id'");
  if (!get_string(obj, "title", &d.title, err) || !get_string(obj, "text", &d.text, err) ||
      !get_string(obj, "type", &d.type, err) ||
      !get_string(obj, "department", &d.department, err) ||
      !get_list(obj, "authors", &authors, err))
    return false;
  if (d.text.empty() && !get_string(obj, "abstract", &d.text, err)) return false;
  const char* inst_key = obj.contains("affiliations") ? "affiliations" : "institutions";
  if (!get_list(obj, inst_key, &institutions, err)) return false;
  const char* area_key = obj.contains("areas") ? "areas" : "venues";
  if (!get_list(obj, area_key, &d.areas, err)) return false;
  if (auto y = obj.find("year"); y != obj.end() && !y->is_null()) {
    // A year is 1..9999 (0: unknown), given as a JSON integer or a string
    // of digits; anything else would wrap around in the facet.
    constexpr long long kMaxYear = 9999, kNotANumber = -1'000'000;
    long long year = kNotANumber;
    if (y->is_number_unsigned()) {
      const auto u = y->get<unsigned long long>();
      year = u > static_cast<unsigned long long>(kMaxYear) ? kMaxYear + 1 : static_cast<long long>(u);
    } else if (y->is_number_integer()) {
      year = y->get<long long>();
    } else if (y->is_string()) {
      const std::string& text = y->get_ref<const std::string&>();
      if (!text.empty() && text.size() <= 4 && text.find_first_not_of("0123456789") == std::string::npos)
        year = std::stoll(text);
      else if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos)
        year = kMaxYear + 1;
    }
    if (year == kNotANumber) return fail(err, "'year' must be a number");
    if (year < 0 || year > kMaxYear)
      return fail(err, "'year' " + y->dump() + " is out of range (0 to 9999)");
    d.year = static_cast<int>(year);
  }
  if (d.type.empty()) d.type = "abstract";
  for (const std::string& a : authors) d.name += (d.name.empty() ? "" : ", ") + a;
  for (const std::string& inst : institutions) {
    std::string canonical = schema::canonical_institution(inst, norm);
    if (std::find(d.institutions.begin(), d.institutions.end(), canonical) == d.institutions.end())
      d.institutions.push_back(std::move(canonical));
  }
  std::string path = std::move(doc->path), hash = std::move(doc->hash);
  *doc = std::move(d);
  doc->path = std::move(path);
  doc->hash = std::move(hash);
  return true;
}

std::string jsonl_record_id(std::string_view line) {
  json obj = json::parse(line, nullptr, false);
  if (obj.is_discarded() || !obj.is_object()) return "";
  auto it = obj.find("_id");
  if (it == obj.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<long long>());
  return "";
}

}  // namespace resdex
