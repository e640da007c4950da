// End-to-end tests of `resdex similar`: on the bundled corpus (whose
// answers a researcher can judge) and on the fixture corpus.
#include <algorithm>
#include <set>

#include "e2e/support.h"

namespace e2e {
namespace {

// A sandbox with the bundled corpus (corpus/ of the source tree) indexed.
class IndexedBundled : public Sandbox {
 public:
  IndexedBundled() {
    copy_tree(fs::path(RESDEX_SOURCE_DIR) / "corpus", dir() / "corpus");
    Run r = resdex({"index", "--quiet"});
    INFO("stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
  }

  json similar(const std::vector<std::string>& args) const { return json_command("similar", args); }
};

std::vector<std::string> ids(const json& result) {
  std::vector<std::string> out;
  for (const json& h : result["results"]) out.push_back(h["id"]);
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST_CASE("similar: uncertainty quantification groups find each other in the bundled corpus") {
  IndexedBundled box;
  // The groups whose descriptions speak of uncertainty quantification:
  // Eigel (its title), Schillings ("inverse problems and uncertainty
  // quantification") and von Kleist ("parameter uncertainty estimation").
  json eigel = box.similar({"groups/eigel", "--limit", "3"});
  CHECK(eigel["query"] == "groups/eigel");
  std::vector<std::string> top = ids(eigel);
  INFO("similar to eigel: " << eigel["results"].dump());
  REQUIRE(top.size() == 3);
  CHECK(top[0] == "groups/schillings");
  CHECK(has(top, "groups/von-kleist"));

  json schillings = box.similar({"groups/schillings", "--limit", "3"});
  INFO("similar to schillings: " << schillings["results"].dump());
  CHECK(ids(schillings).at(0) == "groups/eigel");

  json kleist = box.similar({"groups/von-kleist", "--limit", "3"});
  INFO("similar to von-kleist: " << kleist["results"].dump());
  CHECK(has(ids(kleist), "groups/eigel"));
}

TEST_CASE("similar: a document is never similar to itself, and every group finds some") {
  IndexedBundled box;
  for (const auto& entry : fs::directory_iterator(box / "corpus/groups")) {
    const std::string id = "groups/" + entry.path().stem().string();
    INFO(id);
    json r = box.similar({id, "--limit", "100", "--no-snippets"});
    CHECK_FALSE(has(ids(r), id));
    CHECK(r["total"].get<size_t>() > 0);
    CHECK(r["total"].get<size_t>() == r["results"].size());
  }
}

TEST_CASE("similar: filters, paging and facets work as for search") {
  IndexedBundled box;
  json all = box.similar({"groups/eigel", "--limit", "100"});
  json fu = box.similar({"groups/eigel", "--institution", "fu berlin", "--limit", "100"});
  REQUIRE(!fu["results"].empty());
  for (const json& h : fu["results"]) {
    INFO(h["id"]);
    CHECK(has(h["institutions"].get<std::vector<std::string>>(), "FU Berlin"));
  }
  CHECK(fu["total"].get<size_t>() < all["total"].get<size_t>());
  json area = box.similar({"groups/eigel", "--area", "Optimization for AI", "--limit", "100"});
  for (const json& h : area["results"])
    CHECK(has(h["areas"].get<std::vector<std::string>>(), "Optimization for AI"));
  // Facet counts cover every match, as for search.
  size_t fu_count = 0;
  for (const json& c : all["facets"]["institution"])
    if (c["value"] == "FU Berlin") fu_count = c["count"];
  CHECK(fu_count == fu["total"].get<size_t>());
  // A page is the slice of the whole ranking.
  json page = box.similar({"groups/eigel", "--offset", "2", "--limit", "2"});
  std::vector<std::string> whole = ids(all);
  REQUIRE(whole.size() >= 4);
  CHECK(ids(page) == std::vector<std::string>{whole[2], whole[3]});
  CHECK(page["results"][0]["rank"] == 3);
}

TEST_CASE("similar: text output is search's, with highlighted snippets") {
  IndexedBundled box;
  Run r = box.resdex({"similar", "groups/eigel", "--limit", "2"});
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.out, "  1. Claudia Schillings \u2014 Numercial analysis of (random) pdes\n"));
  CHECK(contains(r.out, "[groups/schillings]"));
  CHECK(contains(r.out, "matches, showing 1\u20132.\n"));
  CHECK(contains(r.out, "Institution: "));
  Run color = box.resdex({"similar", "groups/eigel", "--limit", "1", "--color", "always"});
  CHECK(contains(color.out, "\033[1;33m"));
}

TEST_CASE("similar: an unknown id exits 1 with a message, a missing one 2") {
  IndexedFixture box;
  Run r = box.resdex({"similar", "groups/nobody"});
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK(contains(r.err, "resdex: no document with id 'groups/nobody'"));
  Run none = box.resdex({"similar"});
  CHECK(none.exit_code == 2);
  Run no_index = box.resdex({"similar", "--index", "nowhere", "groups/mueller"});
  CHECK(no_index.exit_code == 1);
  CHECK(contains(no_index.err, "no index at 'nowhere'"));
}

}  // namespace
}  // namespace e2e
