// The query strings of the web server's requests, read into search options.
// Everything a client sends is checked here, so that a bad parameter gets
// a 400 and a message rather than reaching the searcher.
#pragma once

#include <map>
#include <string>

#include "core/searcher.h"

namespace resdex::web {

// Decoded query-string parameters, a name possibly repeated
// (institution=ZIB&institution=WIAS): httplib's Params.
using Params = std::multimap<std::string, std::string>;

// What one request may ask for. A page of more than kMaxLimit hits or from
// beyond kMaxOffset costs without serving a reader; more filter values
// than kMaxFilterValues, or longer than kMaxValueBytes, are no real request.
inline constexpr size_t kMaxLimit = 100;
inline constexpr size_t kMaxOffset = 10000;
inline constexpr size_t kMaxFilterValues = 20;
inline constexpr size_t kMaxValueBytes = 1024;
// q is read up to 4 KiB: far more than any typed query, and below the 8 KiB
// request line httplib reads (a longer one gets 414 before reaching us).
inline constexpr size_t kMaxQueryParamBytes = 4096;

// The search asked for by q, institution, area, type, limit and offset
// (all optional; limit defaults to `default_limit`). Other parameters are
// ignored. Throws Error(kUsage) naming the parameter: a number that is not
// one or out of range, invalid UTF-8, q longer than kMaxQueryParamBytes, too
// many or too long filter values, a parameter given twice that takes one
// value.
SearchOptions search_options(const Params& params, size_t default_limit = 10);

// The document id of /doc and /api/similar (parameter `id`), required.
// Throws Error(kUsage) if it is missing, empty, repeated, too long or not
// UTF-8.
std::string document_id(const Params& params);

}  // namespace resdex::web
