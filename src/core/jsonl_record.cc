#include "core/jsonl_record.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include <rapidjson/document.h>

#include "core/schema.h"
#include "core/text_normalizer.h"

namespace resdex {

namespace {

using Allocator = rapidjson::MemoryPoolAllocator<>;
using JsonDocument = rapidjson::GenericDocument<rapidjson::UTF8<>, Allocator, Allocator>;
using Value = rapidjson::GenericValue<rapidjson::UTF8<>, Allocator>;

// Iterative: a line of 100,000 '[' must not overflow the call stack (the
// recursive parser would). Stop when done: what follows the value is
// checked here, because RapidJSON takes a NUL byte for the end of input.
constexpr unsigned kParseFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseStopWhenDoneFlag;

bool fail(ReadError* err, std::string reason) {
  err->reason = std::move(reason);
  return false;
}

std::string_view text_of(const Value& v) { return {v.GetString(), v.GetStringLength()}; }

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// What is wrong at a parse error, in words (RapidJSON's own sentences are
// written for documents, not lines).
std::string parse_error_text(rapidjson::ParseErrorCode code, std::string_view line, size_t offset) {
  using namespace rapidjson;
  size_t rest = offset;
  while (rest < line.size() && is_json_space(line[rest])) ++rest;
  if (rest >= line.size() && code != kParseErrorDocumentRootNotSingular && code != kParseErrorDocumentEmpty)
    return "the line ends inside the JSON value";
  switch (code) {
    case kParseErrorDocumentEmpty: return "no JSON value on the line";
    case kParseErrorDocumentRootNotSingular: return "more text after the JSON value";
    case kParseErrorValueInvalid: return "invalid value";
    case kParseErrorObjectMissName: return "expected a member name in double quotes";
    case kParseErrorObjectMissColon: return "expected ':' after a member name";
    case kParseErrorObjectMissCommaOrCurlyBracket: return "expected ',' or '}' after an object member";
    case kParseErrorArrayMissCommaOrSquareBracket: return "expected ',' or ']' after an array element";
    case kParseErrorStringUnicodeEscapeInvalidHex: return "\\u not followed by four hex digits";
    case kParseErrorStringUnicodeSurrogateInvalid: return "\\u escape of a UTF-16 surrogate without its pair";
    case kParseErrorStringEscapeInvalid:
      return static_cast<unsigned char>(line[offset]) < 0x20 ? "unescaped control character in a string"
                                                             : "invalid escape in a string";
    case kParseErrorStringMissQuotationMark:
      return line[offset] == '\0' ? "NUL byte in a string" : "string without its closing quote";
    case kParseErrorNumberTooBig: {
      size_t end = offset;
      while (end < line.size() && end - offset < 40 && line[end] != '\0' && std::strchr("+-.0123456789eE", line[end]))
        ++end;
      return "number " + std::string(line.substr(offset, end - offset)) + " is too large for a double";
    }
    case kParseErrorNumberMissFraction: return "no digit after the decimal point";
    case kParseErrorNumberMissExponent: return "no digit in the exponent";
    default: return "syntax error";
  }
}

// The offset of a \u escape of a low surrogate (U+DC00..U+DFFF) with no
// high surrogate before it, in a line RapidJSON parsed; npos if none.
// RapidJSON 1.1 checks that a high surrogate is followed by a low one but
// encodes a lone low one as three bytes that are not UTF-8.
size_t lone_low_surrogate(std::string_view line) {
  auto hex4 = [&](size_t at) {
    unsigned v = 0;
    for (size_t k = at; k < at + 4 && k < line.size(); ++k) {
      const char c = line[k];
      v = v * 16 + static_cast<unsigned>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
  };
  // Every backslash of valid JSON starts an escape inside a string.
  for (size_t i = line.find('\\'); i != std::string_view::npos && i + 1 < line.size();
       i = line.find('\\', i)) {
    if (line[i + 1] != 'u') {
      i += 2;
      continue;
    }
    const unsigned cp = hex4(i + 2);
    if (cp >= 0xDC00 && cp <= 0xDFFF) return i;
    i += cp >= 0xD800 && cp <= 0xDBFF ? 12 : 6;  // a high one with its low one
  }
  return std::string_view::npos;
}

// One parsed line; its values live in buffers on the stack for lines of
// a few kilobytes (an abstract), then in memory the pools allocate.
class ParsedLine {
 public:
  // Parses `line` (a UTF-8 byte order mark first is skipped, as
  // nlohmann::json did). False with *why set if it is not one JSON value
  // or has invalid UTF-8; true and root() otherwise.
  bool parse(std::string_view line, std::string* why) {
    size_t bad = 0;
    if (!is_valid_utf8(line, &bad)) {
      *why = "invalid UTF-8 at byte " + std::to_string(bad) + " of the line";
      return false;
    }
    const size_t start = line.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
    // A NUL-terminated copy: RapidJSON reads a StringStream without bounds
    // checks, where a MemoryStream checks every byte.
    copy_.assign(line.substr(start));
    rapidjson::StringStream in(copy_.c_str());
    doc_.ParseStream<kParseFlags>(in);
    size_t error_at = start + doc_.GetErrorOffset();
    std::string what;
    if (doc_.HasParseError()) {
      what = parse_error_text(doc_.GetParseError(), line, error_at);
    } else {
      size_t end = start + in.Tell();
      while (end < line.size() && is_json_space(line[end])) ++end;
      if (end < line.size()) {
        error_at = end;
        what = parse_error_text(rapidjson::kParseErrorDocumentRootNotSingular, line, end);
      } else if (size_t s = lone_low_surrogate(line); s != std::string_view::npos) {
        error_at = s;
        what = parse_error_text(rapidjson::kParseErrorStringUnicodeSurrogateInvalid, line, s);
      }
    }
    if (what.empty()) return true;
    // A byte column from 1; the line number is the caller's.
    *why = "not valid JSON: " + what + " at column " + std::to_string(error_at + 1);
    return false;
  }
  const Value& root() const { return doc_; }

 private:
  std::string copy_;
  char values_[16384];
  char stack_[2048];
  Allocator value_allocator_{values_, sizeof values_};
  Allocator stack_allocator_{stack_, sizeof stack_};
  JsonDocument doc_{&value_allocator_, sizeof stack_ / 2, &stack_allocator_};
};

// An integer's decimal text, or false for another value.
bool integer_text(const Value& v, std::string* out) {
  if (v.IsUint64()) *out = std::to_string(v.GetUint64());
  else if (v.IsInt64()) *out = std::to_string(v.GetInt64());
  else return false;
  return true;
}

// The members parse_jsonl_record reads. A key given twice counts with its
// last value, as nlohmann::json (which resdex read JSONL with) kept it.
struct Members {
  enum Key { kId, kTitle, kText, kAbstract, kType, kDepartment, kAuthors, kAffiliations,
             kInstitutions, kAreas, kVenues, kYear, kCount };
  static constexpr std::string_view kNames[kCount] = {
      "_id", "title", "text", "abstract", "type", "department", "authors", "affiliations",
      "institutions", "areas", "venues", "year"};
  const Value* at[kCount] = {};

  explicit Members(const Value& object) {
    for (const auto& m : object.GetObject()) {
      const std::string_view name = text_of(m.name);
      for (int k = 0; k < kCount; ++k)
        if (name == kNames[k]) at[k] = &m.value;
    }
  }
  // Present and not null.
  const Value* value(Key k) const { return at[k] && !at[k]->IsNull() ? at[k] : nullptr; }

  // A string field; absent or null gives "". Integers are accepted as text.
  bool string(Key k, std::string* out, ReadError* err) const {
    const Value* v = value(k);
    if (!v) return true;
    if (v->IsString()) {
      out->assign(v->GetString(), v->GetStringLength());
      return true;
    }
    if (integer_text(*v, out)) return true;
    return fail(err, "'" + std::string(kNames[k]) + "' must be a string");
  }

  // A list of strings; a single string is a list of one. Empty strings and
  // nulls are left out.
  bool list(Key k, std::vector<std::string>* out, ReadError* err) const {
    const Value* v = value(k);
    if (!v) return true;
    if (v->IsString()) {
      if (v->GetStringLength() > 0) out->emplace_back(text_of(*v));
      return true;
    }
    if (!v->IsArray()) return fail(err, "'" + std::string(kNames[k]) + "' must be a list of strings");
    for (const Value& e : v->GetArray()) {
      if (e.IsNull()) continue;
      if (!e.IsString()) return fail(err, "'" + std::string(kNames[k]) + "' must be a list of strings");
      if (e.GetStringLength() > 0) out->emplace_back(text_of(e));
    }
    return true;
  }

  // A year is 1..9999 (0: unknown), given as a JSON integer or a string of
  // digits; anything else would wrap around in the facet.
  bool year(int* out, ReadError* err) const {
    const Value* y = value(kYear);
    if (!y) return true;
    constexpr long long kMaxYear = 9999;
    std::string shown;  // the value as the message shows it, when out of range
    long long year = 0;
    if (y->IsUint64()) {
      year = y->GetUint64() > static_cast<uint64_t>(kMaxYear) ? kMaxYear + 1 : static_cast<long long>(y->GetUint64());
      shown = std::to_string(y->GetUint64());
    } else if (y->IsInt64()) {
      year = y->GetInt64();  // negative
      shown = std::to_string(year);
    } else if (y->IsString()) {
      const std::string_view text = text_of(*y);
      if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos)
        return fail(err, "'year' must be a number");
      year = text.size() <= 4 ? std::stoll(std::string(text)) : kMaxYear + 1;
      shown = "\"" + std::string(text) + "\"";
    } else if (y->IsDouble() && std::floor(y->GetDouble()) == y->GetDouble() &&
               std::fabs(y->GetDouble()) > kMaxYear) {
      // An integer too long for 64 bits is read as a double.
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", y->GetDouble());
      year = kMaxYear + 1;
      shown = buf;
    } else {
      return fail(err, "'year' must be a number");
    }
    if (year < 0 || year > kMaxYear) return fail(err, "'year' " + shown + " is out of range (0 to 9999)");
    *out = static_cast<int>(year);
    return true;
  }
};

}  // namespace

bool parse_jsonl_record(std::string_view line, const TextNormalizer& norm, Document* doc,
                        ReadError* err) {
  ParsedLine parsed;
  if (!parsed.parse(line, &err->reason)) return false;
  if (!parsed.root().IsObject()) return fail(err, "not a JSON object");
  const Members m(parsed.root());

  Document d;
  std::vector<std::string> authors, institutions;
  if (!m.string(Members::kId, &d.id, err)) return false;
  if (d.id.empty()) return fail(err, "missing '_id'");
  if (!m.string(Members::kTitle, &d.title, err) || !m.string(Members::kText, &d.text, err) ||
      !m.string(Members::kType, &d.type, err) || !m.string(Members::kDepartment, &d.department, err) ||
      !m.list(Members::kAuthors, &authors, err))
    return false;
  if (d.text.empty() && !m.string(Members::kAbstract, &d.text, err)) return false;
  // The first key of each pair counts when it is there at all, even null.
  if (!m.list(m.at[Members::kAffiliations] ? Members::kAffiliations : Members::kInstitutions, &institutions, err))
    return false;
  if (!m.list(m.at[Members::kAreas] ? Members::kAreas : Members::kVenues, &d.areas, err)) return false;
  if (!m.year(&d.year, err)) return false;
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
  ParsedLine parsed;
  std::string why, id;
  if (!parsed.parse(line, &why) || !parsed.root().IsObject()) return "";
  const Members m(parsed.root());
  const Value* v = m.value(Members::kId);
  if (!v) return "";
  if (v->IsString()) return std::string(text_of(*v));
  return integer_text(*v, &id) ? id : "";
}

}  // namespace resdex
