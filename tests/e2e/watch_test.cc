// Watch mode end to end: `resdex index --watch` runs in the background on a
// copy of the fixture corpus while the test edits, adds, deletes and
// renames files and polls `resdex search --json` until each change shows.
// The time each took is printed (not asserted); a change that has not shown
// after kPatience seconds fails the case.
#include <doctest/doctest.h>

#include <signal.h>

#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "e2e/support.h"

namespace e2e {
namespace {

constexpr double kPatience = 10;

std::set<std::string> ids(const json& result) {
  std::set<std::string> out;
  for (const json& hit : result.at("results")) out.insert(hit.at("id").get<std::string>());
  return out;
}

// Polls `shows` until it holds; returns the seconds it took.
double until(const std::string& what, const std::function<bool()>& shows) {
  const Clock::time_point start = Clock::now();
  while (!shows()) {
    REQUIRE_MESSAGE(seconds_since(start) < kPatience, what << ": not searchable after " << kPatience << " s");
    sleep_seconds(0.02);
  }
  double took = seconds_since(start);
  MESSAGE(what << ": searchable after " << static_cast<int>(took * 1000) << " ms");
  return took;
}

bool finds(const Sandbox& box, const std::string& query, const std::string& id) {
  return ids(box.search({"--limit", "100", query})).count(id) > 0;
}

// A sandbox with the fixture corpus and `resdex index --watch` running on
// it, past its first pass.
struct Watching : Sandbox {
  std::unique_ptr<Child> child;
  explicit Watching(std::vector<std::string> extra = {}) {
    copy_corpus();
    std::vector<std::string> args{"index", "--watch"};
    args.insert(args.end(), extra.begin(), extra.end());
    child = start(args);
    const Clock::time_point start = Clock::now();
    while (!fs::exists(dir() / "index/XAPIANDB") || resdex({"search", "--json", "--limit", "1"}).exit_code != 0) {
      REQUIRE_MESSAGE(!child->done(), "resdex index --watch ended early");
      REQUIRE_MESSAGE(seconds_since(start) < kPatience, "no index after " << kPatience << " s");
      sleep_seconds(0.02);
    }
  }
  Run stop(int signal) {
    REQUIRE(::kill(child->pid(), signal) == 0);
    return child->wait(kPatience);
  }
};

TEST_CASE("watch: edits, additions, deletions and renames into place become searchable") {
  Watching box;
  const std::string becker = read_file(box / "corpus/groups/becker.md");
  write_file(box / "corpus/groups/becker.md", becker + "We also run zyxwatch trials.\n");
  until("an edit", [&] { return finds(box, "zyxwatch", "groups/becker"); });

  // A file in a new subdirectory.
  write_file(box / "corpus/groups/new/deep/okafor.md",
             "---\ntype: researcher\nname: Ada Okafor\n---\nQuasiwatch lattices.\n");
  until("a file in a new directory", [&] { return finds(box, "quasiwatch", "groups/new/deep/okafor"); });

  fs::remove(box / "corpus/groups/noe.md");
  until("a deletion", [&] { return !finds(box, "molecular", "groups/noe"); });

  // An editor's save: a temporary file renamed over the document.
  const std::string reiss = read_file(box / "corpus/groups/reiss.md");
  write_file(box / "corpus/groups/.reiss.md.swp", reiss + "Renamewatch estimators.\n");
  fs::rename(box / "corpus/groups/.reiss.md.swp", box / "corpus/groups/reiss.md");
  until("a rename into place", [&] { return finds(box, "renamewatch", "groups/reiss"); });

  // The synonyms file is watched too.
  write_file(box / "corpus/synonyms.txt", "ZW = zyxwatch\n");
  until("a synonyms edit", [&] { return finds(box, "ZW", "groups/becker"); });

  // A broken edit keeps the last good version; watching goes on.
  write_file(box / "corpus/groups/kowalski.md", "no front matter any more\n");
  write_file(box / "corpus/groups/schmidt.md",
             read_file(box / "corpus/groups/schmidt.md") + "Afterbroken cohorts.\n");
  until("an edit after a broken one", [&] { return finds(box, "afterbroken", "groups/schmidt"); });
  CHECK(finds(box, "scheduling", "groups/kowalski"));

  // The writer lock is held all along.
  Run second = box.resdex({"index"});
  CHECK(second.exit_code == 1);
  CHECK(contains(second.err, "another process is updating the index"));

  Run r = box.stop(SIGTERM);
  CHECK(r.signal == 0);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.err, "kowalski.md:1: "));
  CHECK(contains(r.err, "resdex: applied 1 added, 0 updated, 0 removed"));
  CHECK(contains(r.err, "stopped watching"));

  // Consistent, and in line with the corpus.
  const std::string check = find_program("xapian-check");
  if (!check.empty()) {
    std::string stub = read_file(box / "index/XAPIANDB");
    std::string generation = stub.substr(stub.find("db-"));
    generation.erase(generation.find_last_not_of("\n ") + 1);
    Child xc(check, {(box / "index" / generation).string()}, box.dir());
    Run c = xc.wait(60);
    INFO(c.out << c.err);
    CHECK(c.exit_code == 0);
    CHECK(contains(c.out, "No errors found"));
  }
  json all = box.search({"--limit", "100", ""});
  CHECK(all.at("total") == 9);  // 9 - noe + okafor
  json after = box.index({}, 1);  // kowalski is still broken
  CHECK(after.at("added") == 0);
  CHECK(after.at("updated") == 0);
  CHECK(after.at("removed") == 0);
}

TEST_CASE("watch: SIGINT while idle ends it at once with exit 0 and the lock released") {
  Watching box({"--json"});
  sleep_seconds(0.3);
  const Clock::time_point sent = Clock::now();
  Run r = box.stop(SIGINT);
  MESSAGE("ended " << static_cast<int>(seconds_since(sent) * 1000) << " ms after SIGINT");
  CHECK(r.signal == 0);
  CHECK(r.exit_code == 0);
  // --json: the first pass's report on stdout.
  CHECK(Sandbox::parse_json(r.out).at("added") == 9);
  Run next = box.resdex({"index"});
  CHECK(next.exit_code == 0);
}

TEST_CASE("watch: SIGINT ends it also when started in the background by a script") {
  // sh starts `cmd &` with SIGINT ignored; watch mode still ends on it, as
  // the signal is blocked and read from a signalfd.
  Sandbox box;
  box.copy_corpus();
  const std::string sh = find_program("sh");
  REQUIRE(!sh.empty());
  Child script(sh, {"-c", "\"$0\" index --watch & echo $! > watch.pid; wait $!", RESDEX_BINARY}, box.dir());
  const Clock::time_point start = Clock::now();
  while (!fs::exists(box / "index/XAPIANDB") || !fs::exists(box / "watch.pid") ||
         !contains(read_file(box / "watch.pid"), "\n")) {
    REQUIRE_MESSAGE(seconds_since(start) < kPatience, "no index after " << kPatience << " s");
    sleep_seconds(0.02);
  }
  sleep_seconds(0.3);
  REQUIRE(::kill(std::stoi(read_file(box / "watch.pid")), SIGINT) == 0);
  Run r = script.wait(kPatience);
  CHECK(r.exit_code == 0);  // sh passes on the status of resdex
  CHECK(contains(r.err, "stopped watching"));
}

TEST_CASE("watch: --json prints one report per applied batch") {
  Watching box({"--json", "--quiet"});
  Run second = box.resdex({"index", "--watch"});  // a second watcher is a second writer
  CHECK(second.exit_code == 1);
  CHECK(contains(second.err, "another process is updating the index"));
  fs::remove(box / "corpus/groups/becker.md");
  fs::remove(box / "corpus/groups/schmidt.md");
  until("two deletions", [&] { return box.search({"--limit", "100", ""}).at("total") == 7; });
  Run r = box.stop(SIGTERM);
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  std::vector<json> reports;
  size_t start = 0;
  for (size_t nl; (nl = r.out.find('\n', start)) != std::string::npos; start = nl + 1)
    reports.push_back(json::parse(r.out.substr(start, nl - start)));
  REQUIRE(reports.size() >= 2);
  CHECK(reports.front().at("added") == 9);
  size_t removed = 0;
  for (size_t i = 1; i < reports.size(); ++i) removed += reports[i].at("removed").get<size_t>();
  CHECK(removed == 2);
  CHECK(reports.back().at("documents") == 7);
}

TEST_CASE("watch: standard input cannot be watched") {
  Sandbox box;
  Run r = box.resdex_with_input({"index", "--watch", "--corpus", "-"}, "{\"_id\": \"a\", \"text\": \"x\"}\n");
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "--watch cannot watch standard input"));
}

}  // namespace
}  // namespace e2e
