#include "server/web_server.h"

#include <doctest/doctest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file_system.h"
#include "core/indexer.h"
#include "output/result_printer.h"
#include "test_support.h"

namespace resdex::web {
namespace {

using json = nlohmann::json;
using test::Md;
using test::TempDir;

bool has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A small index in a temporary directory; `fs` can be changed and indexed
// again.
struct Fixture {
  TempDir tmp;
  MemoryFileSystem fs;
  IndexOptions io;

  Fixture() {
    io.corpus_paths = {"corpus"};
    io.index_dir = tmp.sub("index");
    fs.write("corpus/groups/eigel.md",
             Md{.name = "Martin Eigel", .title = "Uncertainty Quantification", .institutions = "WIAS",
                .areas = "Foundations of AI", .body = "Uncertainty quantification for random PDEs."}
                 .str());
    fs.write("corpus/groups/schillings.md",
             Md{.name = "Claudia Schillings", .title = "Random PDEs", .institutions = "FU Berlin",
                .areas = "Foundations of AI", .body = "Inverse problems and uncertainty quantification."}
                 .str());
    fs.write("corpus/groups/conrad.md",
             Md{.name = "Tim Conrad", .title = "Data Science in Health", .institutions = "ZIB",
                .areas = "AI-based Data Analysis", .body = "Epidemics and <script>alert(1)</script>."}
                 .str());
    index();
  }
  void index() { REQUIRE(update_index(io, fs).failed.empty()); }
  ServerOptions options() const {
    ServerOptions o;
    o.index_dir = io.index_dir;
    return o;
  }
};

TEST_CASE("web_server: /api/search answers what search --json prints") {
  Fixture f;
  Server server(f.options());
  Response r = server.respond("/api/search", {{"q", "uncertainty"}, {"limit", "1"}});
  CHECK(r.status == 200);
  CHECK(r.content_type == "application/json");
  SearchOptions o;
  o.query = "uncertainty";
  o.limit = 1;
  Searcher searcher(f.io.index_dir);
  CHECK(r.body == search_json(searcher.search(o)));
  json j = json::parse(r.body);
  CHECK(j["total"] == 2);
  CHECK(j["results"].size() == 1);
}

TEST_CASE("web_server: /api/similar answers what similar --json prints, 404 for an unknown id") {
  Fixture f;
  Server server(f.options());
  Response r = server.respond("/api/similar", {{"id", "groups/eigel"}});
  CHECK(r.status == 200);
  Searcher searcher(f.io.index_dir);
  CHECK(r.body == search_json(searcher.similar("groups/eigel", SearchOptions{})));
  CHECK(json::parse(r.body)["results"][0]["id"] == "groups/schillings");
  r = server.respond("/api/similar", {{"id", "groups/nobody"}});
  CHECK(r.status == 404);
  CHECK(has(json::parse(r.body)["error"].get<std::string>(), "no document with id 'groups/nobody'"));
}

TEST_CASE("web_server: bad parameters get 400 and a message, unknown paths 404") {
  Fixture f;
  Server server(f.options());
  for (const Params& p : {Params{{"limit", "abc"}}, Params{{"offset", "1000000000000"}},
                          Params{{"q", "\xff"}}, Params{{"q", std::string(5000, 'q')}}}) {
    Response api = server.respond("/api/search", p);
    CHECK(api.status == 400);
    CHECK(has(json::parse(api.body)["error"].get<std::string>(), "parameter"));
    Response page = server.respond("/", p);
    CHECK(page.status == 400);
    CHECK(has(page.body, "Error 400"));
  }
  CHECK(server.respond("/api/similar", {}).status == 400);
  CHECK(server.respond("/doc", {}).status == 400);
  CHECK(server.respond("/doc", {{"id", "groups/nobody"}}).status == 404);
  CHECK(server.respond("/api/nothing", {}).status == 404);
  CHECK(server.respond("/nothing", {}).status == 404);
}

TEST_CASE("web_server: the page offers the other values of a facet it filters on") {
  Fixture f;
  Server server(f.options());
  Response r = server.respond("/", {{"q", "uncertainty"}, {"institution", "WIAS"}});
  CHECK(r.status == 200);
  CHECK(has(r.body, "1 match, showing 1\u20131."));
  // Counts without the institution filter: FU Berlin can be added.
  CHECK(has(r.body, "value=\"WIAS\" checked> WIAS <span class=\"count\">1</span>"));
  CHECK(has(r.body, "value=\"FU Berlin\"> FU Berlin <span class=\"count\">1</span>"));
  // Area counts are those of the filtered result.
  CHECK(has(r.body, "value=\"Foundations of AI\"> Foundations of AI <span class=\"count\">1</span>"));
}

TEST_CASE("web_server: the document page shows the text escaped and similar groups") {
  Fixture f;
  Server server(f.options());
  Response r = server.respond("/doc", {{"id", "groups/conrad"}});
  CHECK(r.status == 200);
  CHECK(has(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  CHECK_FALSE(has(r.body, "<script>alert"));
  r = server.respond("/doc", {{"id", "groups/eigel"}});
  CHECK(has(r.body, "<h2>Similar groups</h2>"));
  CHECK(has(r.body, "href=\"/doc?id=groups%2Fschillings\""));
}

TEST_CASE("web_server: each request sees the index as last committed") {
  Fixture f;
  Server server(f.options());
  CHECK(json::parse(server.respond("/api/search", {{"q", "zebrafish"}}).body)["total"] == 0);
  f.fs.write("corpus/groups/new.md", Md{.name = "New", .title = "Fish", .institutions = "WIAS",
                                        .body = "Zebrafish."}
                                         .str());
  f.index();
  CHECK(json::parse(server.respond("/api/search", {{"q", "zebrafish"}}).body)["total"] == 1);
}

TEST_CASE("web_server: an index removed while serving gets 503 with the reason, and serves again once rebuilt") {
  Fixture f;
  Server server(f.options());
  REQUIRE(server.respond("/api/search", {{"q", "uncertainty"}}).status == 200);
  std::filesystem::remove_all(f.io.index_dir);
  Response api = server.respond("/api/search", {{"q", "uncertainty"}});
  CHECK(api.status == 503);
  CHECK(has(json::parse(api.body)["error"].get<std::string>(), "no index at"));
  CHECK(server.respond("/", {{"q", "uncertainty"}}).status == 503);
  f.index();
  CHECK(server.respond("/api/search", {{"q", "uncertainty"}}).status == 200);
}

TEST_CASE("web_server: a missing index is refused when the server is made") {
  TempDir tmp;
  ServerOptions o;
  o.index_dir = tmp.sub("none");
  try {
    Server server(o);
    FAIL("no exception");
  } catch (const Error& e) {
    CHECK(e.kind() == Error::Kind::kNotFound);
  }
}

}  // namespace
}  // namespace resdex::web
