// resdex: full-text search over research descriptions.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "core/error.h"

namespace resdex::cli {

namespace {

struct CommandInfo {
  const char* name;
  const char* description;
  Runner (*add)(CLI::App&, const CommandLine&);
};

// One row per subcommand.
const CommandInfo kCommands[] = {
    {"index", kIndexDescription, add_index_launcher},
    {"search", "Search the index: ranked hits, snippets and facet counts", add_search_command},
    {"show", "Print one whole document", add_show_command},
    {"similar", "The documents most like one document", add_similar_command},
    {"serve", kServeDescription, add_serve_command},
    {"eval", "Score the ranking against judged queries (nDCG@10, MAP, Recall@100, MRR)",
     add_eval_command},
};

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

int unknown_command(std::string_view name) {
  const CommandInfo* best = nullptr;
  size_t best_distance = 3;
  for (const CommandInfo& c : kCommands) {
    size_t d = edit_distance(name, c.name);
    if (d < best_distance || std::string_view(c.name).rfind(name, 0) == 0) {
      best = &c;
      best_distance = std::min(d, best_distance);
    }
  }
  fmt::print(stderr, "resdex: unknown command '{}'", name);
  if (best) fmt::print(stderr, "; did you mean '{}'?", best->name);
  fmt::print(stderr, "\nRun 'resdex --help' for the list of commands.\n");
  return kExitUsage;
}

}  // namespace

bool CommandLine::names(std::string_view name) const {
  for (int i = 1; i < argc_; ++i) {
    const std::string_view arg = argv_[i];
    if (arg == "--") break;  // the rest are operands
    if (arg == "-h" || arg == "--help") return true;
    if (arg.substr(0, arg.find('=')) == name) return true;
  }
  return false;
}

void add_result_options(CLI::App& cmd, SearchOptions& options, const CommandLine& line) {
  if (line.names("--institution"))
    cmd.add_option("--institution", options.institutions,
                   "Only documents of this institution, short or full name (repeatable: any of them)")
        ->type_name("NAME")
        ->allow_extra_args(false);  // one value per --institution; what follows is the query
  if (line.names("--area"))
    cmd.add_option("--area", options.areas, "Only documents in this research area (repeatable)")
        ->type_name("NAME")
        ->allow_extra_args(false);
  if (line.names("--type"))
    cmd.add_option("--type", options.types, "Only documents of this type: group, area, researcher, course")
        ->type_name("T")
        ->allow_extra_args(false);
  if (line.names("--limit"))
    cmd.add_option("--limit", options.limit, "Number of hits to show")
        ->capture_default_str()
        ->check(CLI::Range(0, 100000));
  if (line.names("--offset"))
    cmd.add_option("--offset", options.offset, "Number of hits to skip")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
  if (line.names("--no-facets"))
    cmd.add_flag("!--no-facets", options.facets,
                 "Skip facet counts (and the exact total they need): faster on large indexes");
  if (line.names("--exact-counts"))
    cmd.add_flag("--exact-counts", options.exact_counts,
                 "Count every match for the total and facets; by default, past ~2,000 matches they "
                 "are estimated from a sample");
  if (line.names("--no-snippets")) cmd.add_flag("!--no-snippets", options.snippets, "Skip snippets");
  if (line.names("--facet-limit"))
    cmd.add_option("--facet-limit", options.facet_limit,
                   "Values listed per facet, the most frequent first (0: all)")
        ->capture_default_str();
}

void add_ranking_options(CLI::App& cmd, RankingOptions& r, const CommandLine& line) {
  // A ranking option with its default shown, declared when the line names
  // it; null when it does not.
  auto ranking = [&](const std::string& name, auto& value, const std::string& help) -> CLI::Option* {
    if (!line.names(name)) return nullptr;
    return cmd.add_option(name, value, help)->capture_default_str()->group("Ranking");
  };
  if (CLI::Option* o = ranking("--weighting", r.scheme, "Weighting scheme"))
    o->check(CLI::IsMember({"bm25", "bm25+", "pl2", "dlh", "lm"}));
  ranking("--exact-weight", r.exact_weight,
          "Weight of exact (unstemmed) word matches on top of stems (plain syntax; 0: off)");
  ranking("--title-weight", r.title_weight, "Weight of the title matched as a field of its own (plain syntax; 0: off)");
  if (line.names("--stopwords"))
    cmd.add_flag("--stopwords", r.stopwords, "Drop English stop words from plain-words queries")
        ->group("Ranking");
  ranking("--bm25-k1", r.k1, "BM25 term-frequency saturation");
  if (CLI::Option* o = ranking("--bm25-b", r.b, "BM25 length normalisation (0..1)")) o->check(CLI::Range(0.0, 1.0));
  ranking("--proximity-weight", r.proximity_weight,
          "Weight of neighbouring query words found close together (plain syntax; 0: off)");
  ranking("--proximity-window", r.proximity_window, "Window, in words, for --proximity-weight");
  ranking("--feedback-docs", r.feedback_docs,
          "Pseudo-relevance feedback: expand the query from this many top hits (0: off)");
  ranking("--feedback-terms", r.feedback_terms, "Expansion terms taken from them");
  ranking("--feedback-weight", r.feedback_weight, "Weight of the expansion terms");
}

bool use_color(const std::string& when) {
  if (when == "always") return true;
  if (when == "never") return false;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color && *no_color) return false;
  const char* term = std::getenv("TERM");
  if (term && std::strcmp(term, "dumb") == 0) return false;
  return ::isatty(STDOUT_FILENO);
}

int main(int argc, char** argv) {
  set_terminate_message();
  CLI::App app("resdex: full-text search over research descriptions: who works on what, where,\n"
               "and with whom.",
               "resdex");
  app.set_version_flag("--version", "resdex " RESDEX_VERSION);
  app.require_subcommand(1);
  app.footer("Run 'resdex COMMAND --help' for a command's options and examples.");

  // An unknown subcommand gets a hint rather than CLI11's generic message.
  if (argc > 1 && argv[1][0] != '-') {
    bool known = std::any_of(std::begin(kCommands), std::end(kCommands),
                             [&](const CommandInfo& c) { return std::strcmp(c.name, argv[1]) == 0; });
    if (!known) return unknown_command(argv[1]);
  }

  // The options of a command are declared only when it runs, or for the
  // list of commands: declaring all of them costs a search of a small
  // index about a tenth of its time.
  const bool one = argc > 1 && argv[1][0] != '-';
  const CommandLine line(argc, argv);
  std::vector<std::pair<CLI::App*, Runner>> runners;
  for (const CommandInfo& c : kCommands) {
    if (one && std::strcmp(c.name, argv[1]) != 0) continue;
    Runner run = c.add(app, line);
    runners.emplace_back(app.get_subcommand(c.name), std::move(run));
  }
  for (auto& [sub, run] : runners) {
    (void)run;
    sub->description(std::find_if(std::begin(kCommands), std::end(kCommands), [&](const CommandInfo& c) {
                       return sub->get_name() == c.name;
                     })->description);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  for (auto& [sub, run] : runners)
    if (sub->parsed()) return guarded(run);
  return kExitUsage;
}

}  // namespace resdex::cli

int main(int argc, char** argv) { return resdex::cli::main(argc, argv); }
