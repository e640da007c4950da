// resdex similar: the documents most like one document, printed as search
// results (hits, snippets, facet counts).
#include "cli/commands.h"
#include "core/searcher.h"
#include "output/result_printer.h"

namespace resdex::cli {

Runner add_similar_command(CLI::App& app, const CommandLine& line) {
  struct Args {
    std::string index_dir = "index";
    std::string id;
    SearchOptions options;
    bool json = false;
    std::string color = "auto";
    RankingOptions ranking;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("similar");
  cmd->add_option("--index", args->index_dir, "Index directory")->type_name("DIR")->capture_default_str();
  add_result_options(*cmd, args->options, line);
  cmd->add_flag("--json", args->json, "Print one JSON object (as search --json; \"query\" is the id)");
  cmd->add_option("--color", args->color, "Highlight in colour: auto (on a terminal, unless NO_COLOR is set), always, never")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "always", "never"}));
  cmd->add_option("--weighting", args->ranking.scheme, "Weighting scheme")
      ->capture_default_str()
      ->check(CLI::IsMember({"bm25", "bm25+", "pl2", "dlh", "lm"}))
      ->group("Ranking");
  cmd->add_option("id", args->id, "Document id, e.g. groups/eigel")->required()->type_name("ID");
  cmd->footer(
      "The most telling words of the document (relevance feedback over its text) are searched\n"
      "for; the document itself is left out. Filters and output as for search.\n\n"
      "Examples:\n"
      "  resdex similar groups/eigel\n"
      "  resdex similar --institution \"FU Berlin\" --limit 3 groups/eigel\n"
      "  resdex similar --json groups/schillings");
  return [args]() {
    args->options.exact_total = args->options.facets;
    Searcher searcher(args->index_dir, args->ranking);
    SearchResult result = searcher.similar(args->id, args->options);
    auto printer = args->json ? make_json_printer(stdout)
                              : make_text_printer(stdout, TextStyle{use_color(args->color)});
    printer->search(result);
    return kExitOk;
  };
}

}  // namespace resdex::cli
