#include <fmt/format.h>

#include "output/result_printer.h"

namespace resdex {

namespace {

constexpr const char* kBold = "\033[1m";
constexpr const char* kDim = "\033[2m";
constexpr const char* kMark = "\033[1;33m";  // highlighted words: bold yellow
constexpr const char* kReset = "\033[0m";

std::string join(const std::vector<std::string>& values, const char* sep) {
  std::string out;
  for (const std::string& v : values) out += (out.empty() ? "" : sep) + v;
  return out;
}

class TextPrinter : public ResultPrinter {
 public:
  TextPrinter(std::FILE* out, TextStyle style) : out_(out), style_(style) {}

  void search(const SearchResult& r) override {
    if (r.corrected_query) fmt::print(out_, "Did you mean: {}\n\n", *r.corrected_query);
    for (const Hit& h : r.hits) {
      fmt::print(out_, "{:>3}. {}{}{}", h.rank, on(kBold), h.doc.name, off());
      if (!h.doc.title.empty()) fmt::print(out_, " \u2014 {}", h.doc.title);
      fmt::print(out_, "\n");
      std::string where = join(h.doc.institutions, ", ");
      if (!h.doc.department.empty()) where += (where.empty() ? "" : " ") + ("(" + h.doc.department + ")");
      fmt::print(out_, "     {}{}{}{}[{}]{}\n", where, where.empty() ? "" : "  ", on(kDim), "", h.doc.id, off());
      if (!h.snippet.empty()) fmt::print(out_, "     {}\n", marked(h));
      fmt::print(out_, "\n");
    }
    const char* about = r.total_exact ? "" : "about ";
    if (r.total == 0) {
      fmt::print(out_, "No documents match{}.\n",
                 r.query.empty() ? "" : fmt::format(" \"{}\"", r.query));
    } else if (r.hits.empty()) {
      fmt::print(out_, "{}{} {} (none from {} on).\n", about, r.total, r.total == 1 ? "match" : "matches",
                 r.offset + 1);
    } else {
      fmt::print(out_, "{}{} {}, showing {}\u2013{}.\n", about, r.total, r.total == 1 ? "match" : "matches",
                 r.hits.front().rank, r.hits.back().rank);
    }
    bool facets_shown = false;
    for (const FacetCounts& f : r.facets) {
      if (f.counts.empty()) continue;
      std::string line;
      for (const FacetCount& c : f.counts)
        line += (line.empty() ? "" : ", ") + fmt::format("{} ({})", c.value, c.count);
      std::string label = f.name;
      label[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(label[0])));
      fmt::print(out_, "{}: {}\n", label, line);
      facets_shown = true;
    }
    if (facets_shown && !r.facets_exact)
      fmt::print(out_, "(Counts estimated from a sample of the matches; --exact-counts counts them all.)\n");
  }

  void document(const Document& d) override {
    fmt::print(out_, "{}{}{}\n", on(kBold), d.name, off());
    if (!d.title.empty()) fmt::print(out_, "{}\n", d.title);
    fmt::print(out_, "\n");
    fmt::print(out_, "id:           {}\n", d.id);
    fmt::print(out_, "type:         {}\n", d.type);
    if (!d.institutions.empty()) fmt::print(out_, "institutions: {}\n", join(d.institutions, ", "));
    if (!d.department.empty()) fmt::print(out_, "department:   {}\n", d.department);
    if (!d.areas.empty()) fmt::print(out_, "areas:        {}\n", join(d.areas, ", "));
    fmt::print(out_, "path:         {}\n", d.path);
    if (!d.text.empty()) fmt::print(out_, "\n{}\n", d.text);
  }

  void index_report(const IndexReport& r) override {
    fmt::print(out_, "{}: {} added, {} updated, {} removed, {} unchanged", r.rebuilt ? "rebuilt" : "indexed",
               r.added, r.updated, r.removed, r.unchanged);
    if (!r.failed.empty()) fmt::print(out_, ", {} failed", r.failed.size());
    if (r.synonyms_changed)
      fmt::print(out_, ", synonyms updated ({} {})", r.synonym_groups, r.synonym_groups == 1 ? "group" : "groups");
    fmt::print(out_, "; {} {} in the index\n", r.documents, r.documents == 1 ? "document" : "documents");
  }

 private:
  const char* on(const char* code) const { return style_.color ? code : ""; }
  const char* off() const { return style_.color ? kReset : ""; }

  std::string marked(const Hit& h) const {
    if (!style_.color) return h.snippet;
    std::string out;
    size_t pos = 0;
    for (auto [b, e] : h.highlights) {
      out.append(h.snippet, pos, b - pos);
      out += kMark;
      out.append(h.snippet, b, e - b);
      out += kReset;
      pos = e;
    }
    out.append(h.snippet, pos, std::string::npos);
    return out;
  }

  std::FILE* out_;
  TextStyle style_;
};

}  // namespace

std::unique_ptr<ResultPrinter> make_text_printer(std::FILE* out, TextStyle style) {
  return std::make_unique<TextPrinter>(out, style);
}

}  // namespace resdex
