// The subcommands of the resdex binary. Each registers its options on a
// CLI11 subcommand and returns the function main() runs after parsing; the
// function returns the process exit code.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "core/searcher.h"

namespace resdex::cli {

// Exit codes (also in README and the man page).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // runtime error, or a document failed to index
inline constexpr int kExitUsage = 2;    // bad command line

using Runner = std::function<int()>;

// The arguments resdex was started with, so that a command declares only
// the options this run names. CLI11 checks each option it declares against
// every one declared before (~15,000 instructions an option): `search`
// declaring all of its 28 took ~0.1 ms of a ~2.5 ms search of the ACL
// abstracts (docs/performance.md).
class CommandLine {
 public:
  CommandLine(int argc, const char* const* argv) : argc_(argc), argv_(argv) {}

  // Whether the command line asks for help (-h, --help) or names the
  // option `name` ("--name" or "--name=value", before any "--"). An option
  // declared only then still reads as it always would: CLI11 refuses a
  // name that no declared option has, whether or not a command has it.
  bool names(std::string_view name) const;

 private:
  int argc_;
  const char* const* argv_;
};

// One line on `resdex serve`, for `resdex --help` and `resdex serve --help`.
inline constexpr const char* kServeDescription = "A local web page and JSON API over the index";
// One line on `resdex index`, for `resdex --help` and `resdex index --help`.
inline constexpr const char* kIndexDescription = "Build or update the index from the corpus";

// The index directory `resdex index` is writing, for the message of a
// failure that ends the process (set_terminate_message); empty otherwise.
inline std::string g_index_being_written;

Runner add_search_command(CLI::App& app, const CommandLine& line);
Runner add_show_command(CLI::App& app, const CommandLine& line);
Runner add_eval_command(CLI::App& app, const CommandLine& line);
Runner add_similar_command(CLI::App& app, const CommandLine& line);

// Commands of resdex that run a program of their own in its place, passing
// every argument on (program_commands.cc): `resdex serve` runs
// resdex-serve, `resdex index` runs resdex-index.
Runner add_serve_command(CLI::App& app, const CommandLine& line);
Runner add_index_launcher(CLI::App& app, const CommandLine& line);

// The index command itself, which resdex-index runs (index_main.cc).
Runner add_index_command(CLI::App& app);

// Makes a std::terminate (which Xapian 1.4 may call when a write fails
// mid-commit) end the process with a message on what became of the index
// being written and exit code 1, instead of an abort.
void set_terminate_message();

// Runs `body`, turning resdex::Error and any other exception into a message
// on stderr and an exit code.
int guarded(const std::function<int()>& body);

// Ends the process with `code` once stdout is written out, without
// running destructors: for a command that has nothing left to do but free
// memory. Output that cannot be written ends it with kExitFailure and a
// message instead.
[[noreturn]] void exit_now(int code);

// --bm25-k1, --bm25-b and the pseudo-relevance feedback options, those
// `line` names.
void add_ranking_options(CLI::App& cmd, RankingOptions& ranking, const CommandLine& line);

// What search and similar share, those `line` names: the filters
// (--institution, --area, --type), the page (--limit, --offset) and the
// parts of a result (--no-facets, --facet-limit, --no-snippets).
void add_result_options(CLI::App& cmd, SearchOptions& options, const CommandLine& line);

// Whether to colour output on stdout for --color auto|always|never.
bool use_color(const std::string& when);

}  // namespace resdex::cli
