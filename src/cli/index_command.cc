// resdex index: build or update the index from the corpus.
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "cli/commands.h"
#include "core/file_system.h"
#include "core/error.h"
#include "core/indexer.h"
#include "core/watcher.h"
#include "output/result_printer.h"

namespace resdex::cli {

namespace {

// Progress on a terminal's stderr, redrawn in place at most ten times a
// second: sources walked, rate, share done and time left.
class ProgressLine {
 public:
  void operator()(const IndexProgress& p) {
    auto now = std::chrono::steady_clock::now();
    if (p.done) {
      if (drawn_) fmt::print(stderr, "\r\033[K");
      drawn_ = false;
      return;
    }
    if (now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    double elapsed = std::chrono::duration<double>(now - start_).count();
    std::string line = fmt::format("indexing: {} sources", p.sources);
    if (elapsed > 0.5) line += fmt::format(", {:.0f}/s", static_cast<double>(p.sources) / elapsed);
    if (p.fraction >= 0) {
      line += fmt::format(", {:.0f}%", p.fraction * 100);
      if (p.fraction > 0.02 && elapsed > 1) {
        int left = static_cast<int>(elapsed * (1 - p.fraction) / p.fraction);
        line += fmt::format(", ETA {}:{:02}", left / 60, left % 60);
      }
    }
    fmt::print(stderr, "\r\033[K{}", line);
    std::fflush(stderr);
    drawn_ = true;
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_{};
  bool drawn_ = false;
};

void print_failures(const std::vector<ReadError>& failed) {
  for (const ReadError& e : failed) {
    if (e.line > 0)
      fmt::print(stderr, "{}:{}: {}\n", e.path, e.line, e.reason);
    else
      fmt::print(stderr, "{}: {}\n", e.path, e.reason);
  }
}

// --watch: the first pass reported as a plain run, then one report per
// applied batch (JSON on stdout with --json, else a line on stderr), until
// SIGINT or SIGTERM.
int watch(const IndexOptions& options, bool json, bool quiet) {
  // Blocked before anything else, so that a signal at any moment is read
  // from the signalfd instead of killing the process mid-commit. (Linux
  // queues a blocked signal even when its action is "ignore", as for
  // SIGINT in a command a script starts with '&'.)
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  if (::pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr) != 0)
    throw Error(Error::Kind::kIo, "cannot block SIGINT and SIGTERM for --watch");
  int stop_fd = ::signalfd(-1, &stop_signals, SFD_CLOEXEC);
  if (stop_fd < 0)
    throw Error(Error::Kind::kIo, std::string("cannot set up --watch (signalfd: ") + std::strerror(errno) + ")");

  using Failure = std::tuple<std::string, int, std::string>;
  std::set<Failure> reported;  // failures of the last pass, not repeated
  WatchOptions watch_options;
  watch_options.stop_fd = stop_fd;
  auto on_pass = [&](const WatchPass& pass) {
    const IndexReport& r = pass.report;
    std::set<Failure> now;
    std::vector<ReadError> fresh;
    for (const ReadError& e : r.failed) {
      Failure f{e.path, e.line, e.reason};
      if (!reported.count(f) || pass.first) fresh.push_back(e);
      now.insert(std::move(f));
    }
    reported = std::move(now);
    if (pass.first) {
      if (!r.rebuild_reason.empty() && !quiet) fmt::print(stderr, "resdex: {}\n", r.rebuild_reason);
      print_failures(fresh);
      if (json)
        make_json_printer(stdout)->index_report(r);
      else if (!quiet)
        make_text_printer(stdout, TextStyle{})->index_report(r);
      std::fflush(stdout);
      if (!quiet) fmt::print(stderr, "resdex: watching the corpus for changes (Ctrl-C to stop)\n");
      return;
    }
    print_failures(fresh);
    if (json) {
      make_json_printer(stdout)->index_report(r);
      std::fflush(stdout);
    } else if (!quiet && (r.added || r.updated || r.removed || r.synonyms_changed || !fresh.empty())) {
      std::string line = fmt::format("resdex: applied {} added, {} updated, {} removed", r.added, r.updated, r.removed);
      if (r.synonyms_changed)
        line += fmt::format(", synonyms updated ({} {})", r.synonym_groups, r.synonym_groups == 1 ? "group" : "groups");
      if (!r.failed.empty()) line += fmt::format(", {} failed", r.failed.size());
      fmt::print(stderr, "{}; {} documents in the index; {} ms after the first change\n", line, r.documents,
                 pass.latency.count());
    }
    std::fflush(stderr);
  };
  auto on_error = [](const Error& e) {
    fmt::print(stderr, "resdex: {} (still watching)\n", e.what());
    std::fflush(stderr);
  };
  DiskFileSystem fs;
  g_index_being_written = options.index_dir;
  watch_index(options, watch_options, fs, on_pass, on_error);
  g_index_being_written.clear();
  ::close(stop_fd);
  if (!quiet) fmt::print(stderr, "resdex: stopped watching; the index is consistent\n");
  return kExitOk;
}

}  // namespace

Runner add_index_command(CLI::App& app) {
  struct Args {
    IndexOptions options;
    std::vector<std::string> corpus;
    bool json = false;
    bool quiet = false;
    bool watch = false;
    double wait_timeout = 3600;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("index");
  cmd->add_option("--corpus", args->corpus,
                  "Corpus directory of *.md files, a .jsonl or .jsonl.gz file, or - for JSONL on "
                  "standard input (repeatable; default: corpus)")
      ->type_name("PATH");
  cmd->add_option("--index", args->options.index_dir, "Index directory")
      ->type_name("DIR")
      ->capture_default_str();
  cmd->add_option("--synonyms", args->options.synonyms_paths,
                  "Synonyms file stored in the index (repeatable; default: synonyms.txt at the top "
                  "of each corpus directory)")
      ->type_name("FILE");
  cmd->add_flag("--rebuild", args->options.rebuild,
                "Build a fresh index and swap it in, instead of updating the current one");
  cmd->add_option("--shards", args->options.shards,
                  "Write the index as N Xapian shards searched as one (0: keep the current count)")
      ->type_name("N")
      ->check(CLI::Range(0, 64));
  cmd->add_option("--threads", args->options.threads,
                  "Writer threads for a full build (0: one per core)")
      ->type_name("N")
      ->check(CLI::Range(0, 16));
  cmd->add_flag("--wait", args->options.wait,
                "If another process is updating the index, wait for it instead of failing at once");
  CLI::Option* wait_timeout = cmd->add_option("--wait-timeout", args->wait_timeout,
                  "Give up waiting after this many seconds (implies --wait)")
      ->type_name("SECONDS")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e7));
  cmd->add_flag("--watch", args->watch,
                "After indexing, keep running and apply each change under the corpus within about "
                "a second, until SIGINT or SIGTERM");
  cmd->add_flag("--json", args->json, "Print the summary as one JSON object");
  cmd->add_flag("-q,--quiet", args->quiet, "Print no summary; problems still go to stderr");
  cmd->footer(
      "Incremental by default: unchanged files are skipped, changed ones replaced, new ones\n"
      "added and deleted ones removed, all in one atomic commit. A broken file is reported as\n"
      "path:line: reason, its last good version stays searchable, and the exit code is 1.\n"
      "A run that is killed or fails (a full disk) leaves the index as it was. A second\n"
      "run on the same index is refused (exit 1) unless given --wait.\n\n"
      "--watch keeps the index in line with the corpus: each edit, addition, deletion or\n"
      "rename of a *.md file (and the synonyms file) is applied in one atomic commit within\n"
      "about a second and reported on stderr (with --json, one JSON object per batch on\n"
      "stdout). The writer lock is held meanwhile. SIGINT or SIGTERM ends it (exit 0).\n\n"
      "Examples:\n"
      "  resdex index\n"
      "  resdex index --corpus corpus --index /tmp/idx --json\n"
      "  resdex index --rebuild\n"
      "  resdex index --watch\n"
      "  resdex index --corpus abstracts.jsonl.gz --index abstracts\n"
      "  zcat part-*.jsonl.gz | resdex index --corpus - --index abstracts --shards 4");

  return [args, wait_timeout]() {
    if (!args->corpus.empty()) args->options.corpus_paths = args->corpus;
    if (wait_timeout->count() > 0) args->options.wait = true;
    args->options.wait_timeout =
        std::chrono::milliseconds(static_cast<long long>(args->wait_timeout * 1000));
    if (!args->quiet && ::isatty(STDERR_FILENO)) {
      auto line = std::make_shared<ProgressLine>();
      args->options.progress = [line](const IndexProgress& p) { (*line)(p); };
    }
    if (args->watch) return watch(args->options, args->json, args->quiet);
    DiskFileSystem fs;
    g_index_being_written = args->options.index_dir;
    IndexReport report = update_index(args->options, fs);
    g_index_being_written.clear();
    if (!report.rebuild_reason.empty() && !args->quiet)
      fmt::print(stderr, "resdex: {}\n", report.rebuild_reason);
    print_failures(report.failed);
    if (args->json)
      make_json_printer(stdout)->index_report(report);
    else if (!args->quiet)
      make_text_printer(stdout, TextStyle{})->index_report(report);
    return report.failed.empty() ? kExitOk : kExitFailure;
  };
}

}  // namespace resdex::cli
