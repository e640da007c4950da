#include <nlohmann/json.hpp>

#include "output/result_printer.h"

namespace resdex {

namespace {

using json = nlohmann::json;

// One line of JSON; invalid UTF-8 (which the index should not hold) is
// replaced rather than thrown on.
std::string line(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace) + '\n'; }

void emit(std::FILE* out, const json& j) {
  std::string s = line(j);
  std::fwrite(s.data(), 1, s.size(), out);
  std::fflush(out);
}

json search_object(const SearchResult& r) {
  json results = json::array();
  for (const Hit& h : r.hits) {
    json highlights = json::array();
    for (auto [b, e] : h.highlights) highlights.push_back({b, e});
    results.push_back({{"rank", h.rank},
                       {"id", h.doc.id},
                       {"score", h.score},
                       {"type", h.doc.type},
                       {"name", h.doc.name},
                       {"title", h.doc.title},
                       {"institutions", h.doc.institutions},
                       {"areas", h.doc.areas},
                       {"path", h.doc.path},
                       {"snippet", h.snippet},
                       {"highlights", highlights}});
  }
  json facets = json::object();
  for (const FacetCounts& f : r.facets) {
    json counts = json::array();
    for (const FacetCount& c : f.counts) counts.push_back({{"value", c.value}, {"count", c.count}});
    facets[f.name] = counts;
  }
  return {{"query", r.query},
          {"corrected_query", r.corrected_query ? json(*r.corrected_query) : json(nullptr)},
          {"total", r.total},
          {"total_exact", r.total_exact},
          {"offset", r.offset},
          {"limit", r.limit},
          {"results", results},
          {"facets", facets},
          {"facets_exact", r.facets_exact}};
}

class JsonPrinter : public ResultPrinter {
 public:
  explicit JsonPrinter(std::FILE* out) : out_(out) {}

  void search(const SearchResult& r) override { emit(out_, search_object(r)); }

  void document(const Document& d) override {
    emit(out_, {{"id", d.id},
                {"type", d.type},
                {"name", d.name},
                {"title", d.title},
                {"institutions", d.institutions},
                {"department", d.department},
                {"areas", d.areas},
                {"path", d.path},
                {"text", d.text}});
  }

  void index_report(const IndexReport& r) override {
    json failed = json::array();
    for (const ReadError& e : r.failed)
      failed.push_back({{"path", e.path}, {"line", e.line}, {"error", e.reason}});
    emit(out_, {{"added", r.added},
                {"updated", r.updated},
                {"removed", r.removed},
                {"unchanged", r.unchanged},
                {"failed", failed},
                {"documents", r.documents}});
  }

 private:
  std::FILE* out_;
};

}  // namespace

std::string search_json(const SearchResult& result) { return line(search_object(result)); }

std::unique_ptr<ResultPrinter> make_json_printer(std::FILE* out) {
  return std::make_unique<JsonPrinter>(out);
}

}  // namespace resdex
