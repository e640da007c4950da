// libFuzzer target: the input is a search query. A small index is built
// once per process (Markdown documents in a MemoryFileSystem, the index in
// a temporary directory, with a synonyms file), then each input is searched
// in both syntaxes, by a default Searcher and by one with every ranking
// feature on. A search either returns results whose snippets and
// highlights are well-formed or throws Error(kUsage); nothing else.
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "core/error.h"
#include "core/file_system.h"
#include "core/indexer.h"
#include "core/searcher.h"
#include "core/text_normalizer.h"
#include "fuzz_support.h"

namespace {

std::string md(const std::string& type, const std::string& name, const std::string& title,
               const std::string& institutions, const std::string& areas,
               const std::string& body) {
  std::string s = "---\ntype: " + type + "\nname: " + name + "\n";
  if (!title.empty()) s += "title: \"" + title + "\"\n";
  if (!institutions.empty()) s += "institutions: [" + institutions + "]\n";
  if (!areas.empty()) s += "areas: [" + areas + "]\n";
  return s + "---\n" + body + "\n";
}

struct Index {
  std::string dir;
  std::unique_ptr<resdex::Searcher> plain;     // default ranking
  std::unique_ptr<resdex::Searcher> features;  // every ranking option on

  Index() {
    char tmpl[] = "/tmp/resdex-fuzz-query-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) std::abort();
    dir = tmpl;
    resdex::MemoryFileSystem fs;
    fs.write("corpus/groups/mueller.md",
             md("group", "Klaus-Robert Müller", "Advanced Machine Learning and Applications",
                "TU Berlin", "AI-based Data Analysis, Foundations of AI",
                "Explainable AI, digital pathology and probabilistic models. Müller's group "
                "works on **machine learning** for quantum chemistry and medicine."));
    fs.write("corpus/groups/reiss.md",
             md("group", "Markus Reiß", "Mathematical Statistics", "HU Berlin",
                "Foundations of AI",
                "Optimal estimators, tests and classifiers; nonparametric statistics for "
                "stochastic processes and inverse problems."));
    fs.write("corpus/groups/noe.md",
             md("group", "Frank Noé", "Artificial Intelligence for the Sciences", "FU Berlin",
                "AI for Dynamical Systems",
                "Deep learning for molecular physics — Boltzmann generators, coarse-graining "
                "and the Schrödinger equation (ψ)."));
    fs.write("corpus/groups/eisert.md",
             md("group", "Jens Eisert", "Quantum Information Theory", "FU Berlin, WIAS",
                "Foundations of AI",
                "Quantum computing; a joint seminar with colleagues in Zürich, Kraków and "
                "Reykjavík. Œuvre, straße, ﬁnance, Ｆｕｌｌｗｉｄｔｈ, 数学."));
    fs.write("corpus/researchers/lindgren.md",
             md("researcher", "Åsa Lindgren", "", "ZIB", "Optimization for AI",
                "Mixed-integer optimisation and optimization of\u00a0biomarker panels; "
                "don't stop at local optima. Ørsted, Łódź, Đorđe, þorn."));
    fs.write("corpus/courses/seminar.md",
             md("course", "Seminar on Inverse Problems", "", "", "",
                "A weekly seminar: inverse problems, epidemics, optimizing pipelines."));
    // Synonyms, so that queries go through their rewriting and expansion.
    fs.write("corpus/synonyms.txt",
             "ML = machine learning\nXAI = explainable AI\nAI = artificial intelligence\n"
             "IP = inverse problems = inverse problem\nQC = quantum computing\nZH = Zürich\n");
    resdex::IndexOptions options;
    options.corpus_paths = {"corpus"};
    options.index_dir = dir + "/index";
    options.threads = 1;
    resdex::IndexReport report = resdex::update_index(options, fs);
    if (report.documents != 6 || !report.failed.empty()) {
      std::fprintf(stderr, "fuzz_query: index not built as expected\n");
      std::abort();
    }
    plain = std::make_unique<resdex::Searcher>(options.index_dir);
    resdex::RankingOptions r;
    r.exact_weight = 0.5;
    r.title_weight = 0.5;
    r.stopwords = true;
    r.proximity_weight = 0.3;
    r.feedback_docs = 3;
    features = std::make_unique<resdex::Searcher>(options.index_dir, r);
  }
  ~Index() {
    plain.reset();
    features.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

Index& index() {
  static Index i;
  return i;
}

bool is_continuation(std::string_view s, size_t at) {
  return at < s.size() && (static_cast<unsigned char>(s[at]) & 0xC0) == 0x80;
}

void search(resdex::Searcher& searcher, std::string_view query,
            resdex::SearchOptions::Syntax syntax) {
  resdex::SearchOptions opt;
  opt.query = std::string(query);
  opt.syntax = syntax;
  opt.limit = 10;
  // Mostly shorter than the bodies, so that the passage is cut; varies with
  // the input so that every length gets its turn.
  opt.snippet_length = 8 + (query.size() * 37) % 250;
  resdex::SearchResult result;
  try {
    result = searcher.search(opt);
  } catch (const resdex::Error& e) {
    if (e.kind() == resdex::Error::Kind::kUsage) return;
    std::fprintf(stderr, "search failed: %s\n", e.what());
    std::abort();
  }
  FUZZ_CHECK(result.hits.size() <= opt.limit);
  FUZZ_CHECK(result.total >= result.hits.size());
  for (const resdex::Hit& hit : result.hits) {
    FUZZ_CHECK(!hit.doc.id.empty());
    const std::string& s = hit.snippet;
    FUZZ_CHECK(resdex::is_valid_utf8(s));
    size_t prev_end = 0;
    for (const auto& [begin, end] : hit.highlights) {
      FUZZ_CHECK(begin < end);
      FUZZ_CHECK(end <= s.size());
      FUZZ_CHECK(begin >= prev_end);
      FUZZ_CHECK(!is_continuation(s, begin));
      FUZZ_CHECK(!is_continuation(s, end));
      prev_end = end;
    }
  }
  for (const resdex::FacetCounts& f : result.facets)
    for (const resdex::FacetCount& c : f.counts) FUZZ_CHECK(c.count > 0 && c.count <= result.total);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  index();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view query(reinterpret_cast<const char*>(data), size);
  Index& i = index();
  for (resdex::Searcher* s : {i.plain.get(), i.features.get()}) {
    search(*s, query, resdex::SearchOptions::Syntax::kQueryLanguage);
    search(*s, query, resdex::SearchOptions::Syntax::kPlainWords);
  }
  return 0;
}
