// Reliability under failure, end to end (docs/reliability.md): resdex index
// killed with SIGKILL mid-write, searches in other processes while an index
// is rebuilt or updated, a second writer, hostile queries on a large index,
// damaged indexes and a full disk.
//
// Children that run in the background (a writer to kill, a search loop)
// are e2e::Child processes (support.h). Large corpora are synthetic JSONL: records rec-<i> whose title and text
// carry a marker word, "alphamark" in the old version of the corpus and
// "betamark" in the new one, so that a document count and two searches
// tell the old state of an index from the new one, and either from a mix.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "e2e/support.h"

using namespace e2e;

// The time budgets below are for a normal build. In a sanitizer build
// (RESDEX_SANITIZE: ASan + UBSan, docs/reliability.md) resdex runs 2-4x
// slower, so they are scaled; what those runs check is that nothing breaks.
#if defined(__SANITIZE_ADDRESS__)
constexpr double kTimeScale = 4;
#else
constexpr double kTimeScale = 1;
#endif

namespace {

// ---------------------------------------------------------------------------
// Index directories and corpora

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// The index directory holds the stub and one generation, nothing else.
void check_one_generation(const fs::path& index) {
  std::vector<std::string> names = entries(index);
  INFO("index directory: " << describe(names));
  REQUIRE(names.size() == 2);
  CHECK(names[0] == "XAPIANDB");
  CHECK(std::regex_match(names[1], std::regex("db-[0-9]+")));
}

// A synthetic JSONL corpus: records rec-<first> .. rec-<last - 1>, each
// with `words` random words from a fixed vocabulary and `marker` in its
// title and text.
std::string synthetic_corpus(size_t first, size_t last, const std::string& marker,
                             unsigned seed, size_t words = 40) {
  static const std::vector<std::string> vocabulary = [] {
    std::mt19937 rng(7);
    const std::string consonants = "bcdfghjklmnprstvz", vowels = "aeiou";
    std::vector<std::string> v;
    for (int i = 0; i < 3000; ++i) {
      std::string w;
      int syllables = 2 + static_cast<int>(rng() % 3);
      for (int s = 0; s < syllables; ++s) {
        w += consonants[rng() % consonants.size()];
        w += vowels[rng() % vowels.size()];
      }
      v.push_back(w);
    }
    return v;
  }();
  std::mt19937 rng(seed);
  std::string out;
  for (size_t i = first; i < last; ++i) {
    std::string text;
    for (size_t w = 0; w < words; ++w) text += vocabulary[rng() % vocabulary.size()] + " ";
    text += marker;
    out += json{{"_id", "rec-" + std::to_string(i)},
                {"title", "record " + std::to_string(i) + " " + marker},
                {"text", text}}
               .dump() +
           "\n";
  }
  return out;
}

// The old and the new version of a corpus of `n` records: the new one drops
// the first n/10 records, changes every other and adds 2n/10, so it has
// n + n/10 documents.
struct TwoCorpora {
  size_t n;
  size_t old_docs() const { return n; }
  size_t new_docs() const { return n + n / 10; }
  void write(const Sandbox& box) const {
    write_file(box / "old.jsonl", synthetic_corpus(0, n, "alphamark", 1));
    write_file(box / "new.jsonl", synthetic_corpus(n / 10, n + 2 * (n / 10), "betamark", 2));
  }
};

// What an index answers: its document count and the matches of the two
// marker words; or, when no search works, the exit code and message.
struct State {
  int exit_code = 0;
  std::string err;
  long docs = -1, alpha = -1, beta = -1;

  bool missing() const { return exit_code == 1 && contains(err, "no index at"); }
  bool is(long d, long a, long b) const { return exit_code == 0 && docs == d && alpha == a && beta == b; }
  std::string str() const {
    if (exit_code != 0) return fmt::format("exit {}: {}", exit_code, err);
    return fmt::format("{} documents, alphamark {}, betamark {}", docs, alpha, beta);
  }
};

long total(const Run& r) {
  json j = json::parse(r.out);  // throws (and fails the case) on invalid JSON
  return j.at("total").get<long>();
}

State observe(const Sandbox& box, const std::string& index) {
  State s;
  for (const char* query : {"", "alphamark", "betamark"}) {
    std::vector<std::string> args{"search", "--json", "--limit", "0", "--index", index};
    if (*query) args.push_back(query);
    Run r = box.resdex(args);
    INFO(describe(args));
    REQUIRE(r.signal == 0);
    if (r.exit_code != 0) {
      s.exit_code = r.exit_code;
      s.err = r.err;
      return s;
    }
    long t = 0;
    REQUIRE_NOTHROW(t = total(r));
    (std::string(query).empty() ? s.docs : std::string(query) == "alphamark" ? s.alpha : s.beta) = t;
  }
  return s;
}

// xapian-check on the current generation, when the tool is there.
void check_with_xapian_check(const fs::path& index, const fs::path& cwd) {
  static const std::string program = find_program("xapian-check");
  if (program.empty()) return;
  std::istringstream stub(read_file(index / "XAPIANDB"));
  std::string type, generation;
  stub >> type >> generation;
  REQUIRE_FALSE(generation.empty());
  Run r = Child(program, {(index / generation).string()}, cwd).wait();
  INFO("xapian-check " << generation << ": " << r.out << r.err);
  CHECK(r.exit_code == 0);
}

// ---------------------------------------------------------------------------
// Crash safety: SIGKILL at several moments of a run.

struct CrashMode {
  std::string name;
  std::vector<std::string> command;  // the run that is killed
  bool fresh = false;                // no index before the run
  std::vector<std::string> follow_up;
  size_t final_docs;                 // documents after the follow-up
  // The generation a build compacts its shards into, whose appearance is
  // one more moment to kill it at; empty for an update.
  std::string new_generation;
};

// Kills `mode.command` after 10%, 30%, 50%, 70%, 90% and 100% of its
// measured run time, and for a build also as soon as it starts merging its
// shards into the new generation, each time from the same starting state
// (`base`, or no index); checks that the index holds the old or the new
// state, and that the follow-up run then completes and counts every record.
void crash_trials(const Sandbox& box, const TwoCorpora& corpora, const CrashMode& mode,
                  const std::optional<fs::path>& base, const State& old_state,
                  const State& new_state) {
  const fs::path index = box / "idx";
  auto reset = [&] {
    std::error_code ec;
    fs::remove_all(index, ec);
    if (base) copy_tree(*base, index);
  };
  // The full run, timed.
  reset();
  Run full = box.start(mode.command)->wait();
  INFO("stderr: " << full.err);
  REQUIRE(full.exit_code == 0);
  const double t = full.seconds;
  CHECK(observe(box, "idx").str() == new_state.str());

  int old_seen = 0, new_seen = 0;
  std::vector<std::string> figures;
  std::vector<double> fractions = {0.1, 0.3, 0.5, 0.7, 0.9, 1.0};
  if (!mode.new_generation.empty()) fractions.push_back(-1);  // when merging starts
  for (double fraction : fractions) {
    const double delay = fraction * t;
    CAPTURE(mode.name);
    CAPTURE(delay);
    reset();
    auto child = box.start(mode.command);
    const auto started = Clock::now();
    if (fraction >= 0) {
      sleep_seconds(delay);
    } else {
      while (!fs::exists(index / mode.new_generation) && !child->done() && seconds_since(started) < 30)
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    const double at = seconds_since(started);
    child->kill9();
    Run killed = child->wait();
    const bool finished = killed.signal == 0;
    State s = observe(box, "idx");
    INFO("after the kill: " << s.str() << "; index directory: " << describe(entries(index)));
    const bool old_one = mode.fresh ? s.missing() : s.is(old_state.docs, old_state.alpha, old_state.beta);
    const bool new_one = s.is(new_state.docs, new_state.alpha, new_state.beta);
    CHECK((old_one || new_one));
    CHECK_FALSE(contains(s.err, "internal error"));
    if (!mode.fresh || new_one) check_with_xapian_check(index, box.dir());
    old_seen += old_one;
    new_seen += new_one;
    figures.push_back(fmt::format("{:.2f}s{}:{}{}", at, fraction < 0 ? "(merging)" : "",
                                  old_one ? "old" : new_one ? "new" : "MIX", finished ? "(finished)" : ""));

    // The next run completes and counts every record, whatever the killed
    // run left behind; the leftovers are gone.
    Run next = box.resdex(mode.follow_up);
    INFO("follow-up stderr: " << next.err);
    REQUIRE(next.exit_code == 0);
    json report = json::parse(next.out);
    CHECK(report.at("documents") == mode.final_docs);
    CHECK(report.at("failed") == json::array());
    check_one_generation(index);
    State after = observe(box, "idx");
    CHECK(after.exit_code == 0);
    CHECK(after.docs == static_cast<long>(mode.final_docs));
  }
  MESSAGE(fmt::format("{}: {} records, full run {:.2f} s; killed at {}; old state {}x, new {}x",
                      mode.name, corpora.n, t, describe(figures), old_seen, new_seen));
}

constexpr size_t kCrashRecords = 2000;

TEST_CASE("reliability: kill -9 of a fresh build leaves no index or the whole one") {
  Sandbox box;
  TwoCorpora corpora{kCrashRecords};
  corpora.write(box);
  const long n = static_cast<long>(corpora.old_docs());
  CrashMode mode{"fresh build",
                 {"index", "--corpus", "old.jsonl", "--index", "idx", "--quiet"},
                 true,
                 {"index", "--json", "--corpus", "old.jsonl", "--index", "idx"},
                 corpora.old_docs(),
                 "db-1"};
  State none;
  State whole{0, "", n, n, 0};
  crash_trials(box, corpora, mode, std::nullopt, none, whole);
}

TEST_CASE("reliability: kill -9 of an incremental update leaves the old or the new index, never a mix") {
  Sandbox box;
  TwoCorpora corpora{kCrashRecords};
  corpora.write(box);
  box.index({"--corpus", "old.jsonl", "--index", "base"});
  const long n_old = static_cast<long>(corpora.old_docs()), n_new = static_cast<long>(corpora.new_docs());
  CrashMode mode{"incremental update",
                 {"index", "--corpus", "new.jsonl", "--index", "idx", "--quiet"},
                 false,
                 {"index", "--json", "--corpus", "new.jsonl", "--index", "idx"},
                 corpora.new_docs(),
                 ""};
  crash_trials(box, corpora, mode, box / "base", State{0, "", n_old, n_old, 0},
               State{0, "", n_new, 0, n_new});
}

TEST_CASE("reliability: kill -9 of a rebuild leaves the old or the new index and no leftovers after the next run") {
  Sandbox box;
  TwoCorpora corpora{kCrashRecords};
  corpora.write(box);
  box.index({"--corpus", "old.jsonl", "--index", "base"});
  const long n_old = static_cast<long>(corpora.old_docs()), n_new = static_cast<long>(corpora.new_docs());
  CrashMode mode{"rebuild",
                 {"index", "--corpus", "new.jsonl", "--index", "idx", "--rebuild", "--quiet"},
                 false,
                 {"index", "--json", "--corpus", "new.jsonl", "--index", "idx"},
                 corpora.new_docs(),
                 "db-2"};
  crash_trials(box, corpora, mode, box / "base", State{0, "", n_old, n_old, 0},
               State{0, "", n_new, 0, n_new});
}

// ---------------------------------------------------------------------------
// Concurrent readers and writers

// Runs `resdex search --json` in a loop, cycling through `queries`, until
// `writer` ends; every search must succeed with valid JSON, and `check`
// sees each result. Returns the number of searches.
int search_while(const Sandbox& box, Child& writer, const std::vector<std::vector<std::string>>& queries,
                 const std::function<void(size_t, const json&)>& check) {
  int searches = 0;
  int failures = 0;
  do {
    size_t q = static_cast<size_t>(searches) % queries.size();
    std::vector<std::string> args{"search", "--json"};
    args.insert(args.end(), queries[q].begin(), queries[q].end());
    Run r = box.resdex(args);
    ++searches;
    INFO(describe(args));
    INFO("stderr: " << r.err);
    CHECK(r.signal == 0);
    if (r.exit_code != 0) {
      ++failures;
      CHECK(r.exit_code == 0);
      continue;
    }
    json j;
    REQUIRE_NOTHROW(j = json::parse(r.out));
    check(q, j);
  } while (!writer.done() && failures < 5);
  return searches;
}

TEST_CASE("reliability: searches in another process all succeed during a large rebuild and a large update") {
  Sandbox box;
  TwoCorpora corpora{4000};
  corpora.write(box);
  const long n_old = static_cast<long>(corpora.old_docs()), n_new = static_cast<long>(corpora.new_docs());
  box.index({"--corpus", "old.jsonl", "--index", "idx"});
  const std::vector<std::vector<std::string>> queries = {
      {"--index", "idx", "--limit", "0", "alphamark"},
      {"--index", "idx", "--limit", "0", "betamark"},
      {"--index", "idx", "--limit", "0"},
      {"--index", "idx", "--limit", "3", "record 1000"},
  };
  // Each answer is one of the old or the new state's.
  auto check = [&](size_t q, const json& j) {
    long t = j.at("total").get<long>();
    INFO("query " << q << ": " << t);
    if (q == 0) CHECK((t == 0 || t == n_old));
    if (q == 1) CHECK((t == 0 || t == n_new));
    if (q == 2) CHECK((t == n_old || t == n_new));
    if (q == 3) CHECK(j.at("results").size() == 3);
  };

  auto rebuild = box.start({"index", "--corpus", "new.jsonl", "--index", "idx", "--rebuild", "--quiet"});
  int during_rebuild = search_while(box, *rebuild, queries, check);
  Run r = rebuild->wait();
  REQUIRE(r.exit_code == 0);
  CHECK(observe(box, "idx").is(n_new, 0, n_new));

  auto update = box.start({"index", "--corpus", "old.jsonl", "--index", "idx", "--quiet"});
  int during_update = search_while(box, *update, queries, check);
  Run u = update->wait();
  REQUIRE(u.exit_code == 0);
  CHECK(observe(box, "idx").is(n_old, n_old, 0));
  CHECK(during_rebuild >= 3);
  CHECK(during_update >= 3);
  MESSAGE(fmt::format("{} records: {} searches during a {:.2f} s rebuild, {} during a {:.2f} s update",
                      corpora.n, during_rebuild, r.seconds, during_update, u.seconds));
}

// A long-lived reader keeps one Searcher open while writers commit: after
// two commits Xapian may reuse the blocks of the revision it reads, and
// the search meets DatabaseModifiedError, on which the Searcher must
// reopen and search again. One `resdex search --batch` is such a reader.
TEST_CASE("reliability: a long batch search answers every query while updates commit under it") {
  Sandbox box;
  TwoCorpora corpora{2000};
  corpora.write(box);
  box.index({"--corpus", "old.jsonl", "--index", "idx"});
  // Enough queries for the batch to outlast several updates (5 measured).
  constexpr int kQueries = 30000;
  std::string queries;
  for (int i = 0; i < kQueries; ++i)
    queries += fmt::format("{{\"_id\": \"q{}\", \"text\": \"alphamark betamark record {}\"}}\n", i, i % 5000);
  write_file(box / "queries.jsonl", queries);

  auto batch = box.start({"search", "--batch", "queries.jsonl", "--format", "trec", "--limit", "3",
                          "--index", "idx"});
  int updates = 0;
  for (; updates < 12 && !batch->done(); ++updates) {
    const char* corpus = updates % 2 == 0 ? "new.jsonl" : "old.jsonl";
    Run u = box.resdex({"index", "--corpus", corpus, "--index", "idx", "--quiet"});
    INFO("stderr: " << u.err);
    REQUIRE(u.exit_code == 0);
  }
  Run r = batch->wait(600);
  INFO("stderr: " << r.err.substr(0, 2000));
  CHECK(r.signal == 0);
  REQUIRE(r.exit_code == 0);
  std::set<std::string> answered;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) answered.insert(line.substr(0, line.find(' ')));
  CHECK(answered.size() == kQueries);
  MESSAGE(fmt::format("{} queries answered in {:.1f} s while {} updates committed", answered.size(),
                      r.seconds, updates));
  CHECK(updates >= 2);
}

TEST_CASE("reliability: searches keep answering while rebuilds switch generations and remove the old ones") {
  // Each rebuild removes the generation the stub named before: a search
  // that read the old stub may open a removed directory, and must open the
  // new generation instead. The window is small; the next case forces it.
  Sandbox box;
  write_file(box / "small.jsonl", synthetic_corpus(0, 50, "alphamark", 3, 10));
  box.index({"--corpus", "small.jsonl", "--index", "idx"});
  const int rebuilds = 40;
  Child loop("/bin/sh",
             {"-c", fmt::format("i=0; while [ $i -lt {} ]; do '{}' index --corpus small.jsonl --index idx "
                                "--rebuild --quiet || exit 1; i=$((i+1)); done",
                                rebuilds, RESDEX_BINARY)},
             box.dir());
  const std::vector<std::vector<std::string>> queries = {
      {"--index", "idx", "alphamark", "--limit", "1"},
      {"--index", "idx", "record"},
  };
  int searches = search_while(box, loop, queries, [](size_t, const json& j) {
    CHECK(j.at("total").get<long>() == 50);
  });
  Run loop_run = loop.wait();
  CHECK(loop_run.exit_code == 0);
  check_one_generation(box / "idx");
  MESSAGE(fmt::format("{} searches during {} back-to-back rebuilds ({:.2f} s)", searches, rebuilds,
                      loop_run.seconds));
}

TEST_CASE("reliability: a reader whose generation is removed after it read the stub opens the new one") {
  // The fault shim holds the reader between its reading the stub (db-1)
  // and its opening db-1, while a rebuild switches the stub to db-2 and
  // removes db-1.
  Sandbox box;
  write_file(box / "small.jsonl", synthetic_corpus(0, 50, "alphamark", 3, 10));
  box.index({"--corpus", "small.jsonl", "--index", "idx"});
  REQUIRE(fs::exists(box / "idx/db-1"));
  const std::vector<std::vector<std::string>> readers = {
      {"search", "--json", "--index", "idx", "alphamark"},
      {"show", "--json", "--index", "idx", "rec-7"},
  };
  int generation = 1;
  for (const auto& args : readers) {
    CAPTURE(describe(args));
    const std::string current = "db-" + std::to_string(generation);
    auto reader = box.start(args, {"LD_PRELOAD=" RESDEX_FAULT_SHIM, "RESDEX_SLOW_OPEN=" + current + "/iamglass",
                                   "RESDEX_SLOW_OPEN_MS=3000", "ASAN_OPTIONS=verify_asan_link_order=0"});
    sleep_seconds(0.5);
    Run rebuild = box.resdex({"index", "--corpus", "small.jsonl", "--index", "idx", "--rebuild", "--quiet"});
    REQUIRE(rebuild.exit_code == 0);
    ++generation;
    CHECK_FALSE(fs::exists(box / "idx" / current));
    Run r = reader->wait();
    INFO("stderr: " << r.err);
    if (rebuild.seconds > 2.5) {
      WARN_MESSAGE(false, "the rebuild took " << rebuild.seconds << " s: the reader may not have waited for it");
      continue;
    }
    CHECK(r.seconds >= 3.0);  // it did wait in the shim
    CHECK(r.exit_code == 0);
    if (r.exit_code != 0) continue;
    json j;
    CHECK_NOTHROW(j = json::parse(r.out));
    if (args[0] == "search") CHECK(j.at("total") == 50);
    if (args[0] == "show") CHECK(j.at("id") == "rec-7");
  }
}

// ---------------------------------------------------------------------------
// A second writer

// Waits until some process holds an flock on `dir` (resdex's writer lock),
// as /proc/locks lists it: "1: FLOCK ADVISORY WRITE <pid> <maj>:<min>:<inode> 0 EOF".
void wait_for_writer_lock(const fs::path& dir) {
  const auto start = Clock::now();
  while (seconds_since(start) < 20) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) {
      std::istringstream locks(read_file("/proc/locks"));
      std::string line;
      const std::string inode = ":" + std::to_string(st.st_ino) + " ";
      while (std::getline(locks, line))
        if (contains(line, "FLOCK") && contains(line, inode)) return;
    }
    sleep_seconds(0.005);
  }
  FAIL("no process took the writer lock on " << dir.string() << " within 20 s");
}

TEST_CASE("reliability: a second writer is refused at once, --wait waits for the first") {
  Sandbox box;
  write_file(box / "old.jsonl", synthetic_corpus(0, 300, "alphamark", 1, 10));
  write_file(box / "new.jsonl", synthetic_corpus(0, 300, "betamark", 2, 10));
  const std::string first_half = synthetic_corpus(0, 150, "betamark", 4, 10);
  const std::string second_half = synthetic_corpus(150, 300, "betamark", 5, 10);

  auto refused = [&](const std::vector<std::string>& args) {
    Run r = box.resdex(args);
    INFO(describe(args));
    INFO("stderr: " << r.err);
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "another process is updating the index"));
    CHECK(r.seconds < 2.0 * kTimeScale);
    return r.seconds;
  };

  SUBCASE("on a new index") {
    // The first writer reads its corpus from standard input and holds the
    // index until the test closes it.
    auto first = box.start({"index", "--corpus", "-", "--index", "idx", "--json"}, {}, true);
    first->feed(first_half);
    wait_for_writer_lock(box / "idx");
    double t = refused({"index", "--corpus", "old.jsonl", "--index", "idx"});
    refused({"index", "--corpus", "old.jsonl", "--index", "idx", "--rebuild"});
    first->feed(second_half);
    first->close_stdin();
    Run r = first->wait();
    REQUIRE(r.exit_code == 0);
    CHECK(json::parse(r.out).at("documents") == 300);
    CHECK(observe(box, "idx").is(300, 0, 300));
    MESSAGE(fmt::format("a second writer on a new index was refused in {:.3f} s", t));
  }

  SUBCASE("on an existing index, with --wait and --wait-timeout") {
    box.index({"--corpus", "old.jsonl", "--index", "idx"});
    auto first = box.start({"index", "--corpus", "-", "--index", "idx", "--json"}, {}, true);
    first->feed(first_half);
    wait_for_writer_lock(box / "idx");
    double t = refused({"index", "--corpus", "new.jsonl", "--index", "idx"});
    refused({"index", "--corpus", "new.jsonl", "--index", "idx", "--rebuild"});
    // Searches go on meanwhile.
    CHECK(observe(box, "idx").is(300, 300, 0));

    Run gave_up = box.resdex({"index", "--corpus", "new.jsonl", "--index", "idx", "--wait-timeout", "0.5"});
    INFO("stderr: " << gave_up.err);
    CHECK(gave_up.exit_code == 1);
    CHECK(contains(gave_up.err, "gave up after waiting"));
    CHECK(gave_up.seconds >= 0.5);
    CHECK(gave_up.seconds < 5 * kTimeScale);

    auto waiting = box.start({"index", "--corpus", "new.jsonl", "--index", "idx", "--wait", "--json"});
    sleep_seconds(0.5);
    CHECK_FALSE(waiting->done());
    first->feed(second_half);
    first->close_stdin();
    Run r = first->wait();
    REQUIRE(r.exit_code == 0);
    Run w = waiting->wait();
    INFO("stderr: " << w.err);
    REQUIRE(w.exit_code == 0);
    // The waiting run came second: it found the first one's documents.
    json report = json::parse(w.out);
    CHECK(report.at("documents") == 300);
    CHECK(report.at("updated") == 300);
    CHECK(observe(box, "idx").is(300, 0, 300));
    // Xapian's own lock file stays where it is.
    std::istringstream stub(read_file(box / "idx/XAPIANDB"));
    std::string type, generation;
    stub >> type >> generation;
    CHECK(fs::exists(box / "idx" / generation / "flintlock"));
    MESSAGE(fmt::format("a second writer was refused in {:.3f} s; --wait-timeout 0.5 gave up after "
                        "{:.3f} s; --wait finished {:.3f} s after it started",
                        t, gave_up.seconds, w.seconds));
  }
}

// ---------------------------------------------------------------------------
// Hostile queries on a large index

TEST_CASE("reliability: hostile queries on a large index are answered or refused within 2 s") {
  Sandbox box;
  // 5000 records; many words start with "a", so that a* has thousands of
  // expansions to choose from.
  std::string corpus = synthetic_corpus(0, 5000, "alphamark", 9, 30);
  {
    std::mt19937 rng(11);
    std::string extra;
    for (int i = 0; i < 5000; ++i) {
      std::string text;
      for (int w = 0; w < 10; ++w) text += "a" + std::to_string(rng() % 20000) + "x ";
      extra += json{{"_id", "a-" + std::to_string(i)}, {"title", "awords"}, {"text", text}}.dump() + "\n";
    }
    corpus += extra;
  }
  write_file(box / "big.jsonl", corpus);
  box.index({"--corpus", "big.jsonl", "--index", "idx"});

  auto repeat = [](const std::string& unit, size_t bytes) {
    std::string s;
    while (s.size() + unit.size() <= bytes) s += unit;
    return s;
  };
  std::string soup;
  {
    std::mt19937 rng(5);
    const std::vector<std::string> parts = {"alphamark", "record", "AND", "OR", "NOT", "(", ")", "\"",
                                            "title:", "name:", "institution:", "area:", "type:", "-",
                                            "+", "NEAR/3", "ADJ/999999999", "a*", "*", ":", "XOR"};
    while (soup.size() < 16000) soup += parts[rng() % parts.size()] + " ";
  }
  struct Case {
    std::string name;
    std::string query;
    int exit_code;  // expected
  };
  const std::vector<Case> cases = {
      {"100 kB of one word", repeat("alphamark ", 100 * 1024), 2},
      {"100 kB of one letter", std::string(100 * 1024, 'a'), 2},
      {"16 kB of words", repeat("record alphamark ", 16 * 1024), 0},
      {"16 kB of one short word", repeat("a ", 16 * 1024), 0},
      {"256 times a word of every other record", repeat("record ", 256 * 7), 0},
      {"a*", "a*", 0},
      {"a* alone in a field", "title:a*", 0},
      {"32 one-letter wildcards", repeat("a* ", 32 * 3), 0},
      {"32 different wildcards", [] {
         std::string s;
         for (char c = 'a'; c < 'a' + 26; ++c) s += std::string(1, c) + "* ";
         return s + "a1* a2* a3* a4* a5* a6*";
       }(), 0},
      {"5000 one-letter wildcards", repeat("a* ", 15000), 0},
      {"16 kB operator soup", soup, 0},
      {"empty prefixes", "title: name: institution: area: type: :: title:\"\" name:()", 0},
      {"stray operators", "AND OR NOT ( ) \" + - NEAR ADJ XOR", 0},
      {"invalid UTF-8", "\xff\xfe alphamark \xc3 \xed\xa0\x80 \xf4\x90\x80\x80", 0},
      {"control characters", "\x01\x02\x1b[31m alphamark \x7f", 0},
  };
  double slowest = 0;
  std::string slowest_name;
  std::vector<std::string> times;
  for (const Case& c : cases) {
    CAPTURE(c.name);
    Run r = box.resdex({"search", "--json", "--index", "idx", c.query});
    INFO("stderr: " << r.err.substr(0, 300));
    CHECK(r.signal == 0);
    CHECK(r.exit_code == c.exit_code);
    CHECK(r.seconds < 2.0 * kTimeScale);
    CHECK_FALSE(contains(r.err, "internal error"));
    if (r.exit_code == 0) CHECK_NOTHROW(json::parse(r.out));
    if (r.exit_code == 2) CHECK(contains(r.err, "bytes long; resdex reads queries of at most 16384 bytes"));
    times.push_back(fmt::format("{} {:.3f} s", c.name, r.seconds));
    if (r.seconds > slowest) {
      slowest = r.seconds;
      slowest_name = c.name;
    }
  }
  // NUL bytes cannot be passed as an argument; a --batch file has them.
  json nul_query = {{"_id", "q1"}, {"text", std::string("alpha\0mark", 10) + " \x01"}};
  json nul_only = {{"_id", "q2"}, {"text", std::string(3, '\0')}};
  write_file(box / "queries.jsonl", nul_query.dump() + "\n" + nul_only.dump() + "\n");
  for (const char* syntax : {"query", "plain"}) {
    Run r = box.resdex({"search", "--index", "idx", "--batch", "queries.jsonl", "--syntax", syntax,
                        "--format", "json"});
    INFO("stderr: " << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.seconds < 2.0 * kTimeScale);
  }
  // A batch with an over-long query names it.
  write_file(box / "long.jsonl", json{{"_id", "huge"}, {"text", std::string(20000, 'a')}}.dump() + "\n");
  Run r = box.resdex({"search", "--index", "idx", "--batch", "long.jsonl"});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "huge"));
  MESSAGE(fmt::format("10000 records; slowest hostile query: {} in {:.3f} s; all: {}", slowest_name, slowest,
                      fmt::join(times, "; ")));
}

// ---------------------------------------------------------------------------
// Damaged indexes

struct Damage {
  std::string name;
  std::function<void(const fs::path& index, const fs::path& generation)> apply;
};

void truncate_half(const fs::path& file) {
  REQUIRE(fs::exists(file));
  fs::resize_file(file, fs::file_size(file) / 2);
}

std::string random_bytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// The first bytes of an SQLite database, then a page of zeros.
std::string sqlite_file() {
  std::string s("SQLite format 3\0", 16);
  s += std::string(4096 - 16, '\0');
  return s;
}

TEST_CASE("reliability: a damaged index gives a clear message naming resdex index --rebuild, which repairs it") {
  Sandbox box;
  fs::copy(fs::path(RESDEX_FIXTURES) / "corpus", box / "corpus", fs::copy_options::recursive);
  // Enough documents for tables of several blocks.
  std::string many;
  for (int i = 0; i < 400; ++i)
    many += json{{"_id", "extra/" + std::to_string(i)},
                 {"title", "stochastic record " + std::to_string(i)},
                 {"text", synthetic_corpus(0, 1, "stochastic", static_cast<unsigned>(i), 60)}}
                .dump() +
            "\n";
  write_file(box / "extra.jsonl", many);
  const std::vector<std::string> corpus_args = {"--corpus", "corpus", "--corpus", "extra.jsonl"};
  std::vector<std::string> build{"--index", "pristine"};
  build.insert(build.end(), corpus_args.begin(), corpus_args.end());
  const long docs = box.index(build).at("documents").get<long>();
  REQUIRE(docs == 409);

  const std::vector<Damage> damages = {
      {"postlist.glass truncated to half", [](const fs::path&, const fs::path& g) { truncate_half(g / "postlist.glass"); }},
      {"position.glass truncated to half", [](const fs::path&, const fs::path& g) { truncate_half(g / "position.glass"); }},
      {"termlist.glass truncated to half", [](const fs::path&, const fs::path& g) { truncate_half(g / "termlist.glass"); }},
      {"termlist.glass deleted", [](const fs::path&, const fs::path& g) { fs::remove(g / "termlist.glass"); }},
      {"postlist.glass deleted", [](const fs::path&, const fs::path& g) { fs::remove(g / "postlist.glass"); }},
      {"iamglass deleted", [](const fs::path&, const fs::path& g) { fs::remove(g / "iamglass"); }},
      {"the generation directory deleted", [](const fs::path&, const fs::path& g) { fs::remove_all(g); }},
      {"a stub naming a missing generation", [](const fs::path& i, const fs::path&) { write_file(i / "XAPIANDB", "auto db-99\n"); }},
      {"garbage in XAPIANDB", [](const fs::path& i, const fs::path&) { write_file(i / "XAPIANDB", random_bytes(300, 1)); }},
      {"an empty XAPIANDB", [](const fs::path& i, const fs::path&) { write_file(i / "XAPIANDB", ""); }},
      {"an SQLite file as XAPIANDB", [](const fs::path& i, const fs::path&) { write_file(i / "XAPIANDB", sqlite_file()); }},
      {"random bytes as iamglass", [](const fs::path&, const fs::path& g) { write_file(g / "iamglass", random_bytes(200, 2)); }},
      {"random bytes as postlist.glass", [](const fs::path&, const fs::path& g) { write_file(g / "postlist.glass", random_bytes(32768, 3)); }},
      {"random bytes as position.glass", [](const fs::path&, const fs::path& g) { write_file(g / "position.glass", random_bytes(32768, 4)); }},
      {"random bytes as every table", [](const fs::path&, const fs::path& g) {
         for (const char* t : {"postlist", "termlist", "position", "spelling"})
           write_file(g / (std::string(t) + ".glass"), random_bytes(16384, 5));
       }},
  };
  const std::vector<std::vector<std::string>> commands = {
      {"search", "--json", "--index", "idx", "stochastic"},
      {"search", "--index", "idx", "--limit", "500"},
      {"search", "--json", "--index", "idx", "\"stochastic record\""},
      {"search", "--json", "--index", "idx", "stochstic"},
      {"show", "--index", "idx", "groups/mueller"},
      {"show", "--json", "--index", "idx", "extra/7"},
      // Reads the term list table, which a search does not need.
      {"similar", "--json", "--index", "idx", "groups/mueller"},
  };
  int refused = 0, answered = 0;
  std::vector<std::string> unaffected;
  for (const Damage& d : damages) {
    CAPTURE(d.name);
    copy_tree(box / "pristine", box / "idx");
    std::istringstream stub(read_file(box / "idx/XAPIANDB"));
    std::string type, generation;
    stub >> type >> generation;
    d.apply(box / "idx", box / "idx" / generation);

    bool any_refused = false;
    std::vector<std::vector<std::string>> to_run = commands;
    // Only `similar` reads a document's term list, and which documents a
    // term list table cut in half has lost depends on how the writer
    // threads shared them out: ask for documents until one is lost.
    const bool termlist_only = d.name.rfind("termlist.glass", 0) == 0;
    for (int i = 399; termlist_only && i >= 0; --i)
      to_run.push_back({"similar", "--json", "--index", "idx", "extra/" + std::to_string(i)});
    for (const auto& args : to_run) {
      if (termlist_only && any_refused && args[0] == "similar") break;
      Run r = box.resdex(args);
      INFO(describe(args));
      INFO("stdout: " << r.out.substr(0, 200));
      INFO("stderr: " << r.err);
      CHECK(r.signal == 0);
      CHECK_FALSE(contains(r.err, "internal error"));
      if (r.exit_code == 0) {
        // Only a damage this command does not touch: whatever it prints
        // must then be whole.
        if (args[1] == "--json") CHECK_NOTHROW(json::parse(r.out));
        ++answered;
        unaffected.push_back(d.name + ": " + describe(args));
        continue;
      }
      any_refused = true;
      ++refused;
      CHECK(r.exit_code == 1);
      CHECK(contains(r.err, "resdex index --rebuild"));
    }
    CHECK(any_refused);
    // A plain update does not write over a damaged index either.
    std::vector<std::string> update{"index", "--index", "idx"};
    update.insert(update.end(), corpus_args.begin(), corpus_args.end());
    Run u = box.resdex(update);
    INFO("resdex index: " << u.err);
    CHECK(u.signal == 0);
    CHECK_FALSE(contains(u.err, "internal error"));
    if (u.exit_code != 0) {
      CHECK(u.exit_code == 1);
      CHECK(contains(u.err, "resdex index --rebuild"));
    }
    // Only --rebuild writes over a stub that is not resdex's.
    if (d.name == "an SQLite file as XAPIANDB") {
      CHECK(u.exit_code == 1);
      CHECK(read_file(box / "idx/XAPIANDB") == sqlite_file());
    }
    // The rebuild repairs it.
    std::vector<std::string> rebuild{"--index", "idx", "--rebuild"};
    rebuild.insert(rebuild.end(), corpus_args.begin(), corpus_args.end());
    json report = box.index(rebuild);
    CHECK(report.at("documents") == docs);
    check_one_generation(box / "idx");
    for (const auto& args : commands) {
      Run r = box.resdex(args);
      INFO(describe(args) << ": " << r.err);
      CHECK(r.exit_code == 0);
    }
  }
  MESSAGE(fmt::format("{} damages x {} commands: {} refused with the way out, {} unaffected ({})",
                      damages.size(), commands.size(), refused, answered, fmt::join(unaffected, "; ")));
}

// ---------------------------------------------------------------------------
// Disk full

// A small tmpfs mounted on `dir` for the life of the object, if this
// process may mount one.
class Tmpfs {
 public:
  Tmpfs(const fs::path& dir, size_t bytes) : dir_(dir) {
    fs::create_directories(dir);
    const std::string options = "size=" + std::to_string(bytes);
    mounted_ = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~Tmpfs() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  fs::path dir_;
  bool mounted_ = false;
  std::string error_;
};

// The bytes of the files under `dir`.
size_t directory_size(const fs::path& dir) {
  size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) n += e.file_size();
  return n;
}

// Leaves about `free_bytes` free on the file system of `dir` with a filler
// file, which is returned.
fs::path fill(const fs::path& dir, size_t free_bytes) {
  const fs::path filler = dir / "filler";
  fs::space_info space = fs::space(dir);
  size_t size = space.available > free_bytes ? space.available - free_bytes : 0;
  std::ofstream out(filler, std::ios::binary);
  std::string block(1 << 16, 'x');
  while (size > 0) {
    size_t n = std::min(size, block.size());
    out.write(block.data(), static_cast<std::streamsize>(n));
    size -= n;
  }
  out.close();
  return filler;
}

// In a sanitizer build: Xapian's own leaks on its ENOSPC error paths are
// not reported (see the file).
const std::string kXapianLeaks =
    "LSAN_OPTIONS=suppressions=" RESDEX_SOURCE_DIR "/tests/e2e/xapian_enospc.supp:print_suppressions=0";

// `real`: the disk is really full (a tmpfs), not just failing writes.
void check_disk_full(const Run& r, bool real) {
  INFO("stderr: " << r.err);
  CHECK(r.signal == 0);
  CHECK(r.exit_code == 1);
  // When Xapian ends the process from inside a commit, the exception may be
  // gone; a disk that is really full still tells what happened.
  if (real || !contains(r.err, "the Xapian library gave up"))
    CHECK(contains(lower(r.err), "no space left on device"));
  // What happened and what to do, not a rebuild the index does not need.
  CHECK(contains(r.err, "the index is as it was before this run"));
  CHECK_FALSE(contains(r.err, "--rebuild"));
  CHECK_FALSE(contains(r.err, "internal error"));
}

// The three disk-full cases over one way of filling the disk: `limit(index,
// bytes)` returns the environment a run gets to find about `bytes` of room
// under `index`, and `unlimit()` makes room again.
void disk_full_cases(const Sandbox& box, const fs::path& root,
                     const std::function<std::vector<std::string>(const fs::path&, size_t)>& limit,
                     const std::function<void()>& unlimit, bool real, std::vector<std::string>* figures) {
  TwoCorpora corpora{1500};
  corpora.write(box);
  const long n_old = static_cast<long>(corpora.old_docs()), n_new = static_cast<long>(corpora.new_docs());
  const fs::path index = root / "idx";
  const std::string idx = index.string();

  // A fresh build with no room: no index, and nothing left behind.
  {
    std::vector<std::string> env = limit(index, 256 * 1024);
    Run r = box.resdex({"index", "--corpus", "old.jsonl", "--index", idx}, env);
    check_disk_full(r, real);
    figures->push_back("fresh build: " + r.err.substr(0, r.err.find('\n')));
    figures->push_back(fmt::format("index directory after it: [{}]", fmt::join(entries(index), " ")));
    unlimit();
    CHECK(observe(box, idx).missing());
    CHECK(entries(index).empty());
  }
  // The old index.
  box.index({"--corpus", "old.jsonl", "--index", idx});
  REQUIRE(observe(box, idx).is(n_old, n_old, 0));
  // A rebuild that runs out of room: the old index stays, the unfinished
  // generation is removed.
  // Rebuilds that run out of room at different points: while writing
  // the shards, while merging them into the new generation, while writing
  // the stub. Each leaves the old index (or, given room enough, the new
  // one) and no unfinished generation.
  const fs::path saved = box / "saved-idx";
  copy_tree(index, saved);
  const size_t size = directory_size(index);
  int failed = 0, succeeded = 0, xapian_gave_up = 0;
  std::vector<std::string> outcomes;
  for (double share : {0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0}) {
    CAPTURE(share);
    copy_tree(saved, index);
    const size_t room = static_cast<size_t>(share * static_cast<double>(size));
    std::vector<std::string> env = limit(index, room);
    Run r = box.resdex({"index", "--corpus", "new.jsonl", "--index", idx, "--rebuild", "--threads", "2"}, env);
    unlimit();
    if (r.exit_code == 0) {
      ++succeeded;
      outcomes.push_back(fmt::format("{} KiB: rebuilt", room / 1024));
      CHECK(observe(box, idx).is(n_new, 0, n_new));
    } else {
      ++failed;
      outcomes.push_back(fmt::format("{} KiB: failed", room / 1024));
      check_disk_full(r, real);
      if (failed == 1) figures->push_back("rebuild: " + r.err.substr(0, r.err.find('\n')));
      CHECK(observe(box, idx).is(n_old, n_old, 0));
      if (contains(r.err, "the Xapian library gave up")) {
        // Xapian ended the process from inside a commit, with no chance to
        // clean up: the next run does.
        ++xapian_gave_up;
        box.index({"--corpus", "old.jsonl", "--index", idx});
      }
    }
    check_one_generation(index);
    check_with_xapian_check(index, box.dir());
  }
  CHECK(failed >= 2);
  figures->push_back(fmt::format("rebuilds with room for {}{}; Xapian gave up {}x", fmt::join(outcomes, ", "),
                                 succeeded ? "" : " (none had room enough)", xapian_gave_up));
  copy_tree(saved, index);
  // An incremental update that runs out of room: the old index stays.
  {
    std::vector<std::string> env = limit(index, 64 * 1024);
    Run r = box.resdex({"index", "--corpus", "new.jsonl", "--index", idx}, env);
    check_disk_full(r, real);
    figures->push_back("update: " + r.err.substr(0, r.err.find('\n')));
    unlimit();
    CHECK(observe(box, idx).is(n_old, n_old, 0));
    check_with_xapian_check(index, box.dir());
  }
  // With room again, the update goes through.
  json report = box.index({"--corpus", "new.jsonl", "--index", idx});
  CHECK(report.at("documents") == n_new);
  CHECK(observe(box, idx).is(n_new, 0, n_new));
}

TEST_CASE("reliability: a full disk (a small tmpfs) fails the run with a message and keeps the index") {
  Sandbox box;
  Tmpfs tmpfs(box / "mnt", 64 * 1024 * 1024);
  if (!tmpfs.mounted()) {
    MESSAGE("skipped: cannot mount a tmpfs here (" << tmpfs.error()
                                                   << "); the LD_PRELOAD case covers a full disk");
    return;
  }
  fs::path filler;
  std::vector<std::string> figures;
  disk_full_cases(
      box, box / "mnt",
      [&](const fs::path&, size_t bytes) {
        filler = fill(box / "mnt", bytes);
        return std::vector<std::string>{kXapianLeaks};
      },
      [&] { fs::remove(filler); }, true, &figures);
  MESSAGE("tmpfs of 64 MiB filled to leave 256 KiB, 512 KiB, 64 KiB: " << fmt::format("{}", fmt::join(figures, " | ")));
}

TEST_CASE("reliability: a full disk (an LD_PRELOAD shim failing writes with ENOSPC) fails the run and keeps the index") {
  Sandbox box;
  std::vector<std::string> figures;
  disk_full_cases(
      box, box.dir(),
      [](const fs::path& index, size_t bytes) {
        return std::vector<std::string>{"LD_PRELOAD=" RESDEX_FAULT_SHIM, "RESDEX_ENOSPC_DIR=" + index.string(),
                                        "RESDEX_ENOSPC_AFTER=" + std::to_string(bytes),
                                        "ASAN_OPTIONS=verify_asan_link_order=0", kXapianLeaks};
      },
      [] {}, false, &figures);
  MESSAGE("writes failing after 256 KiB, 512 KiB, 64 KiB: " << fmt::format("{}", fmt::join(figures, " | ")));
}

}  // namespace
