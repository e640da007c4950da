// Synonyms and abbreviations end to end: a synonyms file in the corpus (or
// given with --synonyms) is stored by `resdex index` and applied by
// `resdex search`, on the fixture corpus, the bundled corpus and a sharded
// index.
#include <doctest/doctest.h>

#include <signal.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "e2e/http_client.h"
#include "e2e/support.h"

namespace e2e {
namespace {

using Ids = std::set<std::string>;

Ids ids(const json& result) {
  Ids out;
  for (const json& hit : result.at("results")) out.insert(hit.at("id").get<std::string>());
  return out;
}

// The highlighted words of the hit with `id`.
std::vector<std::string> marked(const json& result, const std::string& id) {
  std::vector<std::string> out;
  for (const json& hit : result.at("results")) {
    if (hit.at("id") != id) continue;
    const std::string snippet = hit.at("snippet");
    for (const json& h : hit.at("highlights"))
      out.push_back(snippet.substr(h[0].get<size_t>(), h[1].get<size_t>() - h[0].get<size_t>()));
  }
  return out;
}

TEST_CASE("synonyms: the fixture corpus's synonyms file applies to searches, bad lines fail alone") {
  Sandbox box;
  box.copy_corpus();
  write_file(box / "corpus/synonyms.txt",
             "# test synonyms\n"
             "ML = machine learning\n"
             "MD = molecular dynamics\n"
             "this line has no equals sign\n");
  Run r = box.resdex({"index"});
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "corpus/synonyms.txt:4: expected forms separated by '='"));
  CHECK(contains(r.out, "synonyms updated (2 groups)"));

  // The abbreviation finds the long form, as a phrase, and highlights it.
  json md = box.search({"--limit", "100", "MD"});
  CHECK(ids(md) == Ids{"groups/noe"});
  CHECK(marked(md, "groups/noe") == std::vector<std::string>{"molecular", "dynamics"});
  CHECK(ids(box.search({"--limit", "100", "ML"})) == Ids{"groups/becker", "groups/noe"});
  // The long form finds the same; quoted, "MD" means only itself.
  CHECK(ids(box.search({"--limit", "100", "molecular dynamics"})) == Ids{"groups/noe"});
  CHECK(ids(box.search({"--limit", "100", "\"MD\""})).empty());

  // An edit of the synonyms file alone is applied by the next run.
  write_file(box / "corpus/synonyms.txt", "ML = machine learning\n");
  Run again = box.resdex({"index"});
  CHECK(again.exit_code == 0);
  CHECK(contains(again.out, "0 added, 0 updated, 0 removed, 9 unchanged, synonyms updated (1 group)"));
  CHECK(ids(box.search({"--limit", "100", "MD"})).empty());
  Run same = box.resdex({"index"});
  CHECK_FALSE(contains(same.out, "synonyms"));
}

TEST_CASE("synonyms: the bundled corpus answers UQ and PDEs without the corpus at hand") {
  Sandbox box;
  copy_tree(fs::path(RESDEX_SOURCE_DIR) / "corpus", box / "corpus");
  json report = box.index();
  CHECK(report.at("failed").empty());
  fs::remove_all(box / "corpus");  // search reads the synonyms from the index

  const Ids uq = ids(box.search({"--limit", "100", "UQ"}));
  CHECK(uq.count("groups/eigel"));       // "Uncertainty Quantification"
  CHECK(uq.count("groups/schillings"));  // "uncertainty quantification"
  CHECK(ids(box.search({"--limit", "100", "uncertainty quantification"})) == uq);
  CHECK(marked(box.search({"UQ"}), "groups/eigel") ==
        std::vector<std::string>{"Uncertainty", "Quantification"});

  const Ids pdes = ids(box.search({"--limit", "100", "PDEs"}));
  CHECK(pdes.count("groups/eigel"));       // "PDEs"
  CHECK(pdes.count("groups/schillings"));  // "(random) pdes" in the title
  CHECK(pdes.count("groups/reiss"));       // "(partial) differential equations"
  CHECK(ids(box.search({"--limit", "100", "partial differential equations"})) == pdes);
  CHECK(ids(box.search({"--limit", "100", "PDE"})) == pdes);

  const Ids ml = ids(box.search({"--limit", "100", "ML"}));
  CHECK(ml.count("groups/pokutta"));  // writes "machine learning" only
  CHECK(ml.count("groups/mueller"));
}

TEST_CASE("synonyms: every shard of a sharded index gets them, and --synonyms serves a JSONL corpus") {
  Sandbox box;
  box.copy_corpus();
  write_file(box / "corpus/synonyms.txt", "MD = molecular dynamics\n");
  box.index({"--shards", "3"});
  CHECK(ids(box.search({"MD"})) == Ids{"groups/noe"});
  write_file(box / "corpus/synonyms.txt", "MD = molecular dynamics\nEW = early warning\n");
  box.index();
  CHECK(ids(box.search({"EW"})) == Ids{"groups/mueller"});
  CHECK(ids(box.search({"MD"})) == Ids{"groups/noe"});

  write_file(box / "abstracts.jsonl",
             "{\"_id\": \"a1\", \"title\": \"Gaussian processes\", \"text\": \"Markov chain Monte Carlo sampling.\"}\n"
             "{\"_id\": \"a2\", \"title\": \"Sampling\", \"text\": \"Markov chains and Monte Carlo, apart.\"}\n");
  write_file(box / "terms.txt", "MCMC = Markov chain Monte Carlo\n");
  box.index({"--corpus", "abstracts.jsonl", "--index", "abstracts", "--synonyms", "terms.txt"});
  CHECK(ids(box.search({"--index", "abstracts", "MCMC"})) == Ids{"a1"});

  Run missing = box.resdex({"index", "--corpus", "abstracts.jsonl", "--index", "abstracts",
                            "--synonyms", "nonexistent.txt"});
  CHECK(missing.exit_code == 1);
  CHECK(contains(missing.err, "synonyms file 'nonexistent.txt' does not exist"));
  CHECK(ids(box.search({"--index", "abstracts", "MCMC"})) == Ids{"a1"});
}

TEST_CASE("synonyms: a running resdex serve answers with the synonyms of the latest resdex index") {
  Sandbox box;
  box.copy_corpus();
  write_file(box / "corpus/synonyms.txt", "MD = molecular dynamics\n");
  box.index();
  const int port = free_port();
  std::unique_ptr<Child> server = box.start({"serve", "--port", std::to_string(port)});
  wait_until_serving(*server, port, 10);
  auto total = [&](const std::string& q) {
    HttpReply r = http_get(port, "/api/search?q=" + q);
    REQUIRE(r.status == 200);
    return json::parse(r.body).at("total").get<int>();
  };
  CHECK(total("MD") == 1);
  CHECK(total("EW") == 0);
  write_file(box / "corpus/synonyms.txt", "EW = early warning\n");
  box.index();
  CHECK(total("EW") == 1);
  CHECK(total("MD") == 0);
  REQUIRE(::kill(server->pid(), SIGTERM) == 0);
  CHECK(server->wait(30).exit_code == 0);
}

}  // namespace
}  // namespace e2e
