// resdex index: build or update the index from the corpus.
#include <fmt/format.h>

#include "cli/commands.h"
#include "core/file_system.h"
#include "core/indexer.h"
#include "output/result_printer.h"

namespace resdex::cli {

Runner add_index_command(CLI::App& app) {
  struct Args {
    IndexOptions options;
    std::vector<std::string> corpus;
    bool json = false;
    bool quiet = false;
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
  cmd->add_flag("--json", args->json, "Print the summary as one JSON object");
  cmd->add_flag("-q,--quiet", args->quiet, "Print no summary; problems still go to stderr");
  cmd->footer(
      "Incremental by default: unchanged files are skipped, changed ones replaced, new ones\n"
      "added and deleted ones removed, all in one atomic commit. A broken file is reported as\n"
      "path:line: reason, its last good version stays searchable, and the exit code is 1.\n\n"
      "Examples:\n"
      "  resdex index\n"
      "  resdex index --corpus corpus --index /tmp/idx --json\n"
      "  resdex index --rebuild\n"
      "  resdex index --corpus abstracts.jsonl.gz --index abstracts\n"
      "  zcat part-*.jsonl.gz | resdex index --corpus - --index abstracts --shards 4");

  return [args]() {
    if (!args->corpus.empty()) args->options.corpus_paths = args->corpus;
    DiskFileSystem fs;
    IndexReport report = update_index(args->options, fs);
    if (!report.rebuild_reason.empty() && !args->quiet)
      fmt::print(stderr, "resdex: {}\n", report.rebuild_reason);
    for (const ReadError& e : report.failed) {
      if (e.line > 0)
        fmt::print(stderr, "{}:{}: {}\n", e.path, e.line, e.reason);
      else
        fmt::print(stderr, "{}: {}\n", e.path, e.reason);
    }
    if (args->json)
      make_json_printer(stdout)->index_report(report);
    else if (!args->quiet)
      make_text_printer(stdout, TextStyle{})->index_report(report);
    return report.failed.empty() ? kExitOk : kExitFailure;
  };
}

}  // namespace resdex::cli
