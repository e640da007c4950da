#include "server/web_page.h"

#include <doctest/doctest.h>

#include <string>

namespace resdex::web {
namespace {

bool has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

Hit hit(std::string id, std::string name, std::string snippet,
        std::vector<std::pair<size_t, size_t>> highlights) {
  Hit h;
  h.doc.id = std::move(id);
  h.doc.name = std::move(name);
  h.doc.type = "group";
  h.snippet = std::move(snippet);
  h.highlights = std::move(highlights);
  return h;
}

TEST_CASE("web_page: html_escape escapes markup and repairs bad UTF-8") {
  struct Case {
    std::string in, out;
  };
  const Case cases[] = {
      {"plain text", "plain text"},
      {"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
      {"a & b \"c\" 'd'", "a &amp; b &quot;c&quot; &#39;d&#39;"},
      {"Reiß, Noé, Zürich", "Reiß, Noé, Zürich"},
      {"x\xffy", "x\uFFFDy"},
      {"\xc3", "\uFFFD"},
      {"\xc0\xaf", "\uFFFD\uFFFD"},           // overlong '/'
      {"\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD"},  // a surrogate
      {std::string("a\0b", 3), "ab"},
      {"&lt;", "&amp;lt;"},
  };
  for (const Case& c : cases) {
    INFO(c.in);
    CHECK(html_escape(c.in) == c.out);
  }
}

TEST_CASE("web_page: url_encode keeps unreserved characters only") {
  CHECK(url_encode("groups/von-kleist") == "groups%2Fvon-kleist");
  CHECK(url_encode("FU Berlin & co") == "FU%20Berlin%20%26%20co");
  CHECK(url_encode("Müller") == "M%C3%BCller");
  CHECK(url_encode("a_b.c~d") == "a_b.c~d");
}

TEST_CASE("web_page: snippets are escaped and only our <mark> tags added") {
  // "<script>" in the text, one highlight on "alert".
  Hit h = hit("x", "X", "<script>alert(1)</script> & more", {{8, 13}});
  CHECK(marked_snippet(h) == "&lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt; &amp; more");
  // Ranges out of bounds, overlapping or empty are ignored.
  h = hit("x", "X", "one two three", {{0, 3}, {2, 5}, {4, 4}, {8, 13}, {10, 99}});
  CHECK(marked_snippet(h) == "<mark>one</mark> two <mark>three</mark>");
  h = hit("x", "X", "no highlights", {});
  CHECK(marked_snippet(h) == "no highlights");
}

TEST_CASE("web_page: query_string asks for the same search") {
  SearchOptions o;
  o.query = "inverse problems";
  o.institutions = {"FU Berlin", "ZIB"};
  o.areas = {"Foundations of AI"};
  CHECK(query_string(o) == "?q=inverse%20problems&institution=FU%20Berlin&institution=ZIB&area=Foundations%20of%20AI");
  o.offset = 20;
  o.limit = 5;
  CHECK(has(query_string(o), "&offset=20&limit=5"));
}

TEST_CASE("web_page: the search page shows escaped hits, ticked facets and pagination") {
  SearchOptions request;
  request.query = "\"<b>\" alert";
  request.institutions = {"fu berlin"};
  request.limit = 2;
  SearchResult result;
  result.query = request.query;
  result.total = 5;
  result.limit = 2;
  Hit h = hit("courses/seminar", "Research <Seminar>", "<script>alert(1)</script>", {{8, 13}});
  h.rank = 1;
  h.doc.institutions = {"FU Berlin"};
  result.hits = {h};
  std::vector<FacetCounts> facets = {{"institution", {{"FU Berlin", 3}, {"ZIB", 2}}},
                                     {"area", {{"Foundations & AI", 1}}},
                                     {"year", {}}};
  std::string page = search_page(request, result, facets);
  CHECK(has(page, "<meta name=\"viewport\""));
  CHECK_FALSE(has(page, "<script>alert"));
  CHECK_FALSE(has(page, "<Seminar>"));
  CHECK_FALSE(has(page, "<b>"));
  CHECK(has(page, "&lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt;"));
  CHECK(has(page, "Research &lt;Seminar&gt;"));
  CHECK(has(page, "value=\"&quot;&lt;b&gt;&quot; alert\""));
  CHECK(has(page, "<a class=\"name\" href=\"/doc?id=courses%2Fseminar\">"));
  // The chosen institution is ticked, whatever its case; the others not.
  CHECK(has(page, "name=\"institution\" value=\"FU Berlin\" checked>"));
  CHECK(has(page, "name=\"institution\" value=\"ZIB\">"));
  CHECK(has(page, "value=\"Foundations &amp; AI\">"));
  CHECK(has(page, "<span class=\"count\">3</span>"));
  // Page 1 of 3: a next link keeping the query and filters, no previous one.
  CHECK(has(page, "Page 1 of 3"));
  CHECK(has(page, "rel=\"next\" href=\"/?q=%22%3Cb%3E%22%20alert&amp;institution=fu%20berlin&amp;offset=2&amp;limit=2\""));
  CHECK_FALSE(has(page, "rel=\"prev\""));
  // The only script is ours.
  CHECK(page.find("<script>") == page.rfind("<script>"));
}

TEST_CASE("web_page: estimated counts say so and link to exact ones, which the form keeps") {
  SearchOptions request;
  request.query = "translation";
  SearchResult result;
  result.query = request.query;
  result.total = 19000;
  result.total_exact = false;
  result.facets_exact = false;
  Hit h = hit("p1", "Paper", "machine translation", {{8, 19}});
  h.rank = 1;
  result.hits = {h};
  std::vector<FacetCounts> facets = {{"area", {{"acl", 2800}}}};
  std::string page = search_page(request, result, facets);
  CHECK(has(page, "about 19000 matches, showing 1\u20131."));
  CHECK(has(page, "<span class=\"count\">\u22482800</span>"));
  CHECK(has(page, "<a class=\"exact\" href=\"/?q=translation&amp;exact=1\">Count exactly</a>"));
  CHECK_FALSE(has(page, "name=\"exact\""));

  request.exact_counts = true;
  result.total = 18856;
  result.total_exact = result.facets_exact = true;
  page = search_page(request, result, {{"area", {{"acl", 2797}}}});
  CHECK(has(page, "18856 matches, showing"));
  CHECK_FALSE(has(page, "about "));
  CHECK_FALSE(has(page, "Count exactly"));
  CHECK(has(page, "<span class=\"count\">2797</span>"));
  // Searching again from this page counts exactly too.
  CHECK(has(page, "<input type=\"hidden\" name=\"exact\" value=\"1\">"));
}

TEST_CASE("web_page: a chosen facet value nothing matches stays on offer, ticked") {
  SearchOptions request;
  request.areas = {"Quantum <AI>"};
  SearchResult result;
  std::string page = search_page(request, result, {{"area", {}}});
  CHECK(has(page, "value=\"Quantum &lt;AI&gt;\" checked>"));
  CHECK(has(page, "No documents match."));
}

TEST_CASE("web_page: the document page escapes the text and lists similar groups") {
  Document d;
  d.id = "courses/seminar";
  d.name = "Research Seminar";
  d.type = "course";
  d.text = "Raw HTML stays text:\n<script>alert(1)</script> is shown.";
  SearchResult similar;
  Hit h = hit("groups/eigel", "Martin Eigel", "", {});
  h.doc.title = "Uncertainty <Quantification>";
  similar.hits = {h};
  std::string page = document_page(d, similar);
  CHECK(has(page, "<h1>Research Seminar</h1>"));
  CHECK(has(page, "&lt;script&gt;alert(1)&lt;/script&gt; is shown."));
  CHECK(page.find("<script") == std::string::npos);
  CHECK(has(page, "Similar groups"));
  CHECK(has(page, "href=\"/doc?id=groups%2Feigel\">Martin Eigel</a>"));
  CHECK(has(page, "Uncertainty &lt;Quantification&gt;"));
}

TEST_CASE("web_page: the error page escapes the message") {
  std::string page = error_page(400, "parameter 'q' <bad>");
  CHECK(has(page, "Error 400"));
  CHECK(has(page, "parameter &#39;q&#39; &lt;bad&gt;"));
}

}  // namespace
}  // namespace resdex::web
