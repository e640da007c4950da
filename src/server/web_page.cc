#include "server/web_page.h"

#include <fmt/format.h>

#include "core/text_normalizer.h"

namespace resdex::web {

namespace {

// Facets offered as boxes: those a search can filter on.
constexpr const char* kFilterFacets[][2] = {{"institution", "Institution"}, {"area", "Research area"}};

constexpr const char* kStyle = R"css(
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2430;background:#f6f7f9}
a{color:#1a56b0}
header{background:#1d2f4f;color:#fff;padding:.8rem 1rem}
header a.home{color:#fff;font-weight:700;text-decoration:none;font-size:1.2rem;margin-right:1rem}
.box{display:flex;gap:.5rem;max-width:56rem;margin:.6rem auto 0}
.box input{flex:1;min-width:0;font-size:1rem;padding:.5rem .6rem;border:1px solid #9aa5b5;border-radius:4px}
button{font-size:1rem;padding:.5rem .9rem;border:0;border-radius:4px;background:#2c6bd1;color:#fff;cursor:pointer}
.layout{display:flex;gap:1.5rem;max-width:56rem;margin:1rem auto;padding:0 1rem}
.facets{flex:0 0 14rem}
.facets fieldset{border:0;padding:0;margin:0 0 1rem}
.facets legend{font-weight:600;margin-bottom:.3rem}
.facets label{display:flex;gap:.4rem;align-items:baseline;padding:.15rem 0}
.facets .count{margin-left:auto;color:#5b6574;font-size:.9rem}
main{flex:1;min-width:0}
.summary,.meta{color:#5b6574;font-size:.9rem}
ol.hits{list-style:none;padding:0;margin:0}
.hit{background:#fff;border:1px solid #e0e4ea;border-radius:6px;padding:.7rem .9rem;margin-bottom:.7rem}
.hit .name{font-weight:600;font-size:1.05rem}
.hit .title{color:#333}
.snippet{margin:.3rem 0 0}
mark{background:#ffe27a;color:inherit;padding:0 .1em}
.pages{display:flex;gap:1rem;align-items:center;justify-content:center;margin:1rem 0}
article{background:#fff;border:1px solid #e0e4ea;border-radius:6px;padding:1rem 1.2rem}
article .text{white-space:pre-wrap}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}
dt{color:#5b6574}dd{margin:0}
.error{background:#fff0f0;border:1px solid #e6b0b0;border-radius:6px;padding:1rem}
@media (max-width:40rem){.layout{flex-direction:column}.facets{flex:none}}
)css";

// Ticking a facet box submits the form; without script, the Filter button does.
constexpr const char* kScript =
    "document.querySelectorAll('.facets input').forEach(function(b){"
    "b.addEventListener('change',function(){b.form.submit();});});"
    "document.querySelectorAll('.facets .apply').forEach(function(b){b.hidden=true;});";

std::string head(std::string_view title) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n",
      html_escape(title), kStyle);
}

// The header bar with the search form. The facet boxes elsewhere on the
// page belong to the same form (form="search"), so ticking one keeps the
// query.
// The search form; with `exact`, its searches count every match too.
std::string header(const std::string& query, bool exact = false) {
  return fmt::format(
      "<header><form method=\"get\" action=\"/\" role=\"search\" id=\"search\">\n"
      "<div class=\"box\"><a class=\"home\" href=\"/\">resdex</a>"
      "<input type=\"search\" name=\"q\" value=\"{}\" placeholder=\"Search research groups\" "
      "aria-label=\"Search\"><button type=\"submit\">Search</button></div>\n{}"
      "</form></header>\n",
      html_escape(query), exact ? "<input type=\"hidden\" name=\"exact\" value=\"1\">\n" : "");
}

bool contains_folded(const std::vector<std::string>& values, const std::string& value) {
  for (const std::string& v : values)
    if (v.size() == value.size() &&
        std::equal(v.begin(), v.end(), value.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        }))
      return true;
  return false;
}

std::string join(const std::vector<std::string>& values, const char* sep) {
  std::string out;
  for (const std::string& v : values) out += (out.empty() ? "" : sep) + v;
  return out;
}

std::string doc_link(const Document& d) {
  return fmt::format("<a class=\"name\" href=\"/doc?id={}\">{}</a>", url_encode(d.id),
                     html_escape(d.name.empty() ? d.id : d.name));
}

// `exact`: whether the counts are exact; estimates are shown with "≈".
std::string facet_boxes(const SearchOptions& request, const std::vector<FacetCounts>& facets, bool exact) {
  std::string out;
  for (const auto& [name, label] : kFilterFacets) {
    const std::vector<std::string>& chosen =
        std::string_view(name) == "institution" ? request.institutions : request.areas;
    std::vector<FacetCount> offered;
    for (const FacetCounts& f : facets)
      if (f.name == name) offered = f.counts;
    // A chosen value stays on offer (ticked) even when nothing matches it.
    for (const std::string& c : chosen) {
      bool listed = false;
      for (const FacetCount& o : offered) listed = listed || contains_folded({o.value}, c);
      if (!listed) offered.push_back({c, 0});
    }
    if (offered.empty()) continue;
    out += fmt::format("<fieldset><legend>{}</legend>\n", label);
    for (const FacetCount& c : offered)
      out += fmt::format(
          "<label><input type=\"checkbox\" form=\"search\" name=\"{}\" value=\"{}\"{}> {} "
          "<span class=\"count\">{}{}</span></label>\n",
          name, html_escape(c.value), contains_folded(chosen, c.value) ? " checked" : "",
          html_escape(c.value), exact || c.count == 0 ? "" : "\u2248", c.count);
    out += "</fieldset>\n";
  }
  if (!out.empty())
    out = "<aside class=\"facets\">\n" + out +
          "<button type=\"submit\" form=\"search\" class=\"apply\">Filter</button>\n</aside>\n";
  return out;
}

std::string hits_list(const SearchResult& result) {
  std::string out = "<ol class=\"hits\">\n";
  for (const Hit& h : result.hits) {
    out += "<li class=\"hit\">" + doc_link(h.doc);
    if (!h.doc.title.empty()) out += " <span class=\"title\">\u2014 " + html_escape(h.doc.title) + "</span>";
    std::vector<std::string> meta = h.doc.institutions;
    if (!h.doc.areas.empty()) meta.push_back(join(h.doc.areas, ", "));
    if (meta.empty()) meta.push_back(h.doc.type);
    out += "\n<div class=\"meta\">" + html_escape(join(meta, " \u00b7 ")) + "</div>";
    if (!h.snippet.empty()) out += "\n<p class=\"snippet\">" + marked_snippet(h) + "</p>";
    out += "</li>\n";
  }
  return out + "</ol>\n";
}

std::string pagination(const SearchOptions& request, const SearchResult& result) {
  if (request.limit == 0 || result.total <= request.limit) return "";
  const size_t pages = (result.total + request.limit - 1) / request.limit;
  const size_t page = request.offset / request.limit + 1;
  std::string out = "<nav class=\"pages\" aria-label=\"Pages\">";
  SearchOptions other = request;
  if (request.offset > 0) {
    other.offset = request.offset > request.limit ? request.offset - request.limit : 0;
    out += fmt::format("<a rel=\"prev\" href=\"/{}\">\u2190 Previous</a>", html_escape(query_string(other)));
  }
  out += fmt::format("<span>Page {} of {}</span>", std::min(page, pages), pages);
  if (request.offset + request.limit < result.total) {
    other.offset = request.offset + request.limit;
    out += fmt::format("<a rel=\"next\" href=\"/{}\">Next \u2192</a>", html_escape(query_string(other)));
  }
  return out + "</nav>\n";
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        case '\0': break;
        default: out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    const size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (len > 1 && i + len <= text.size() && is_valid_utf8(text.substr(i, len))) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      out += "\uFFFD";
      ++i;
    }
  }
  return out;
}

std::string url_encode(std::string_view text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string marked_snippet(const Hit& hit) {
  const std::string& s = hit.snippet;
  std::string out;
  size_t pos = 0;
  for (auto [b, e] : hit.highlights) {
    if (b < pos || b >= e || e > s.size()) continue;
    out += html_escape(std::string_view(s).substr(pos, b - pos));
    out += "<mark>" + html_escape(std::string_view(s).substr(b, e - b)) + "</mark>";
    pos = e;
  }
  out += html_escape(std::string_view(s).substr(pos));
  return out;
}

std::string query_string(const SearchOptions& o) {
  std::string out;
  auto add = [&](const char* name, std::string_view value) {
    out += (out.empty() ? "?" : "&") + std::string(name) + "=" + url_encode(value);
  };
  add("q", o.query);
  for (const std::string& v : o.institutions) add("institution", v);
  for (const std::string& v : o.areas) add("area", v);
  for (const std::string& v : o.types) add("type", v);
  if (o.offset != 0) add("offset", std::to_string(o.offset));
  if (o.limit != SearchOptions{}.limit) add("limit", std::to_string(o.limit));
  if (o.exact_counts) add("exact", "1");
  return out;
}

std::string search_page(const SearchOptions& request, const SearchResult& result,
                        const std::vector<FacetCounts>& facets) {
  std::string out = head(request.query.empty() ? "resdex" : request.query + " \u2014 resdex");
  out += header(request.query, request.exact_counts);
  out += "<div class=\"layout\">\n" + facet_boxes(request, facets, result.facets_exact) + "<main>\n";
  if (result.corrected_query) {
    SearchOptions corrected = request;
    corrected.query = *result.corrected_query;
    corrected.offset = 0;
    out += fmt::format("<p class=\"did-you-mean\">Did you mean <a href=\"/{}\">{}</a>?</p>\n",
                       html_escape(query_string(corrected)), html_escape(*result.corrected_query));
  }
  const char* about = result.total_exact ? "" : "about ";
  // Estimated counts (a broad query on a large index) link to the same
  // page with every match counted.
  std::string count_exactly;
  if (!result.total_exact || !result.facets_exact) {
    SearchOptions exact = request;
    exact.exact_counts = true;
    count_exactly = fmt::format(" <a class=\"exact\" href=\"/{}\">Count exactly</a>",
                                html_escape(query_string(exact)));
  }
  if (result.total == 0)
    out += request.query.empty() ? "<p class=\"summary\">No documents match.</p>\n"
                                 : "<p class=\"summary\">No documents match \u201c" +
                                       html_escape(request.query) + "\u201d.</p>\n";
  else if (result.hits.empty())
    out += fmt::format("<p class=\"summary\">{}{} {} (none from {} on).{}</p>\n", about, result.total,
                       result.total == 1 ? "match" : "matches", result.offset + 1, count_exactly);
  else
    out += fmt::format("<p class=\"summary\">{}{} {}, showing {}\u2013{}.{}</p>\n", about, result.total,
                       result.total == 1 ? "match" : "matches", result.hits.front().rank,
                       result.hits.back().rank, count_exactly);
  out += hits_list(result) + pagination(request, result);
  out += "</main>\n</div>\n<script>" + std::string(kScript) + "</script>\n</body>\n</html>\n";
  return out;
}

std::string document_page(const Document& doc, const SearchResult& similar) {
  std::string out = head((doc.name.empty() ? doc.id : doc.name) + " \u2014 resdex") + header("");
  out += "<div class=\"layout\"><main>\n<article>\n";
  out += "<h1>" + html_escape(doc.name.empty() ? doc.id : doc.name) + "</h1>\n";
  if (!doc.title.empty()) out += "<p class=\"title\">" + html_escape(doc.title) + "</p>\n";
  out += "<dl>\n";
  auto row = [&](const char* label, const std::string& value) {
    if (!value.empty()) out += fmt::format("<dt>{}</dt><dd>{}</dd>\n", label, html_escape(value));
  };
  row("Institutions", join(doc.institutions, ", "));
  row("Department", doc.department);
  row("Areas", join(doc.areas, ", "));
  row("Type", doc.type);
  row("Id", doc.id);
  out += "</dl>\n<div class=\"text\">" + html_escape(doc.text) + "</div>\n</article>\n";
  out += "<section class=\"similar\">\n<h2>Similar groups</h2>\n";
  if (similar.hits.empty()) out += "<p class=\"summary\">None found.</p>\n";
  else out += hits_list(similar);
  out += "</section>\n</main></div>\n</body>\n</html>\n";
  return out;
}

std::string error_page(int status, std::string_view message) {
  return head("Error " + std::to_string(status) + " \u2014 resdex") + header("") +
         fmt::format("<div class=\"layout\"><main><p class=\"error\"><strong>Error {}.</strong> {}</p>"
                     "<p><a href=\"/\">Start over</a></p></main></div>\n</body>\n</html>\n",
                     status, html_escape(message));
}

}  // namespace resdex::web
