#include "server/web_params.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "core/error.h"
#include "core/text_normalizer.h"

namespace resdex::web {

namespace {

[[noreturn]] void bad(const std::string& message) { throw Error(Error::Kind::kUsage, message); }

std::vector<std::string> values(const Params& params, const std::string& name) {
  std::vector<std::string> out;
  auto [begin, end] = params.equal_range(name);
  for (auto it = begin; it != end; ++it) out.push_back(it->second);
  return out;
}

void check_text(const std::string& name, const std::string& value, size_t max_bytes) {
  if (value.size() > max_bytes)
    bad("parameter '" + name + "' is " + std::to_string(value.size()) + " bytes long; at most " +
        std::to_string(max_bytes) + " are read");
  size_t at = 0;
  if (!is_valid_utf8(value, &at))
    bad("parameter '" + name + "' is not valid UTF-8 (at byte " + std::to_string(at) + ")");
}

// The one value of `name`, or nullopt if absent. Given twice, it is an
// error: which one was meant is unknown.
std::optional<std::string> single(const Params& params, const std::string& name) {
  std::vector<std::string> v = values(params, name);
  if (v.empty()) return std::nullopt;
  if (v.size() > 1) bad("parameter '" + name + "' is given " + std::to_string(v.size()) + " times");
  return v[0];
}

// A decimal number 0..max; "" counts as absent (an empty form field).
std::optional<size_t> number(const Params& params, const std::string& name, size_t max) {
  std::optional<std::string> v = single(params, name);
  if (!v || v->empty()) return std::nullopt;
  const bool digits = v->size() <= 9 && std::all_of(v->begin(), v->end(), [](char c) {
                        return c >= '0' && c <= '9';
                      });
  if (!digits) {
    std::string shown = v->size() > 20 ? v->substr(0, 20) + "..." : *v;
    // Only what is printable goes into a message.
    for (char& c : shown)
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
    bad("parameter '" + name + "' must be a whole number from 0 to " + std::to_string(max) +
        ", not '" + shown + "'");
  }
  size_t n = std::stoul(*v);
  if (n > max)
    bad("parameter '" + name + "' must be a whole number from 0 to " + std::to_string(max) +
        ", not " + *v);
  return n;
}

std::vector<std::string> filter(const Params& params, const std::string& name) {
  std::vector<std::string> out;
  for (std::string& v : values(params, name)) {
    check_text(name, v, kMaxValueBytes);
    if (!v.empty()) out.push_back(std::move(v));  // an empty form field filters nothing
  }
  if (out.size() > kMaxFilterValues)
    bad("parameter '" + name + "' is given " + std::to_string(out.size()) + " times; at most " +
        std::to_string(kMaxFilterValues) + " values are read");
  return out;
}

}  // namespace

SearchOptions search_options(const Params& params, size_t default_limit) {
  SearchOptions o;
  if (std::optional<std::string> q = single(params, "q")) {
    check_text("q", *q, kMaxQueryParamBytes);
    o.query = std::move(*q);
  }
  o.institutions = filter(params, "institution");
  o.areas = filter(params, "area");
  o.types = filter(params, "type");
  o.limit = number(params, "limit", kMaxLimit).value_or(default_limit);
  o.offset = number(params, "offset", kMaxOffset).value_or(0);
  o.exact_counts = number(params, "exact", 1).value_or(0) == 1;
  return o;
}

std::string document_id(const Params& params) {
  std::optional<std::string> id = single(params, "id");
  if (!id || id->empty()) bad("parameter 'id' (a document id such as groups/eigel) is missing");
  check_text("id", *id, kMaxValueBytes);
  return *id;
}

}  // namespace resdex::web
