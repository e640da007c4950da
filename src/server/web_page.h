// The HTML of the web server's pages, rendered on the server: they work
// without JavaScript (a GET form), and a few lines of plain script only
// submit the form when a facet box is ticked.
//
// Everything taken from the index or the request is HTML-escaped; the only
// markup inside text is our own <mark> around highlighted words.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/document.h"
#include "core/search_result.h"
#include "core/searcher.h"

namespace resdex::web {

// `text` with & < > " ' as character references; invalid UTF-8 bytes
// become U+FFFD, NUL is dropped.
std::string html_escape(std::string_view text);

// `text` percent-encoded for a query-string value (RFC 3986 unreserved
// characters kept).
std::string url_encode(std::string_view text);

// The snippet of `hit`, escaped, each highlight range wrapped in <mark>.
// Ranges that are out of order or out of bounds are ignored.
std::string marked_snippet(const Hit& hit);

// The query string ("?q=...&institution=...") that asks for `options`:
// query, filters, offset and limit (offset and limit only when not the
// defaults).
std::string query_string(const SearchOptions& options);

// The search page: the form with the query, facet boxes from `facets`
// (ticked for the values in `request`), the hits of `result`, pagination.
// `facets` are the counts to offer: for a facet the request filters on,
// the counts without that filter, so that other values can be added.
std::string search_page(const SearchOptions& request, const SearchResult& result,
                        const std::vector<FacetCounts>& facets);

// One document in full, with the documents most like it.
std::string document_page(const Document& doc, const SearchResult& similar);

// A page saying what went wrong, for a status of 400 and above.
std::string error_page(int status, std::string_view message);

}  // namespace resdex::web
