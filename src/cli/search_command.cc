// resdex search: ranked hits with snippets and facet counts; --batch runs a
// file of queries in one process.
#include <malloc.h>

#include <fmt/format.h>

#include "cli/commands.h"
#include "core/error.h"
#include "core/evaluation.h"
#include "core/file_system.h"
#include "core/searcher.h"
#include "output/result_printer.h"

namespace resdex::cli {

Runner add_search_command(CLI::App& app, const CommandLine& line) {
  struct Args {
    std::string index_dir = "index";
    SearchOptions options;
    std::vector<std::string> words;
    bool json = false;
    std::string color = "auto";
    std::string batch;
    std::string format = "trec";
    std::string syntax;
    std::string run_tag = "resdex";
    RankingOptions ranking;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("search");
  cmd->add_option("--index", args->index_dir, "Index directory")->type_name("DIR")->capture_default_str();
  // Each other option only for a command line that names it or asks for
  // help (CommandLine::names); otherwise Args keeps its default.
  add_result_options(*cmd, args->options, line);
  if (line.names("--json")) cmd->add_flag("--json", args->json, "Print one JSON object");
  if (line.names("--color"))
    cmd->add_option("--color", args->color, "Highlight in colour: auto (on a terminal, unless NO_COLOR is set), always, never")
        ->capture_default_str()
        ->check(CLI::IsMember({"auto", "always", "never"}));
  if (line.names("--syntax"))
    cmd->add_option("--syntax", args->syntax,
                    "How to read queries: query (operators, phrases, fields; the default) or plain "
                    "(a bag of words; the default for --batch)")
        ->check(CLI::IsMember({"query", "plain"}));
  if (line.names("--batch"))
    cmd->add_option("--batch", args->batch,
                    "Run every query of a JSONL file ({\"_id\", \"text\"} lines) in one process")
        ->type_name("QUERIES.jsonl");
  if (line.names("--format"))
    cmd->add_option("--format", args->format,
                    "Output of --batch: trec (qid Q0 docid rank score tag) or json (one object per query)")
        ->capture_default_str()
        ->check(CLI::IsMember({"trec", "json"}));
  add_ranking_options(*cmd, args->ranking, line);
  if (line.names("--tag")) cmd->add_option("--tag", args->run_tag, "Run tag in TREC output")->capture_default_str();
  cmd->add_option("query", args->words, "Query words; several arguments are joined with spaces")
      ->type_name("QUERY...");
  cmd->footer(
      "Query language: words, \"phrases\", AND/OR/NOT, +required, -excluded, wildcards (biomark*),\n"
      "fields name:, title:, institution:, area:, type:. Accents and case do not matter\n"
      "(muller, mueller and Müller find Müller). An empty query lists every document.\n\n"
      "Examples:\n"
      "  resdex search inverse problems\n"
      "  resdex search '\"inverse problems\"'          # the exact phrase\n"
      "  resdex search --institution \"FU Berlin\" stochastic\n"
      "  resdex search --institution zib --institution wias --area \"Foundations of AI\"\n"
      "  resdex search name:muller\n"
      "  resdex search 'optimi* AND NOT quantum' --json\n"
      "  resdex search --index idx --batch queries.jsonl --format trec --limit 100 > run.trec");

  return [args]() {
    if (!args->batch.empty()) {
      if (!args->words.empty())
        throw Error(Error::Kind::kUsage, "give either --batch or a query, not both");
      SearchOptions opt = args->options;
      opt.syntax = args->syntax == "query" ? SearchOptions::Syntax::kQueryLanguage
                                           : SearchOptions::Syntax::kPlainWords;
      opt.facets = args->format == "json";
      opt.exact_total = args->format == "json";
      opt.snippets = args->format == "json";
      opt.documents = args->format == "json";
      DiskFileSystem fs;
      std::vector<BatchQuery> queries = read_queries(fs, args->batch);
      Searcher searcher(args->index_dir, args->ranking, SearcherOptions{opt.facets || opt.exact_total});
      auto printer = make_json_printer(stdout);
      std::string out;
      for (const BatchQuery& q : queries) {
        opt.query = q.text;
        SearchResult result;
        try {
          result = searcher.search(opt);
        } catch (const Error& e) {
          // Name the query of the batch that was refused (too long).
          if (e.kind() != Error::Kind::kUsage) throw;
          throw Error(Error::Kind::kUsage, args->batch + ": query '" + q.id + "': " + e.what());
        }
        if (args->format == "json") {
          result.query = q.id;
          printer->search(result);
          continue;
        }
        for (const Hit& h : result.hits)
          out += fmt::format("{} Q0 {} {} {:.6f} {}\n", q.id, h.doc.id, h.rank, h.score, args->run_tag);
        if (out.size() > (1 << 16)) {
          std::fwrite(out.data(), 1, out.size(), stdout);
          out.clear();
        }
      }
      std::fwrite(out.data(), 1, out.size(), stdout);
      return kExitOk;
    }
    if (args->syntax == "plain") args->options.syntax = SearchOptions::Syntax::kPlainWords;
    std::string query;
    for (const std::string& w : args->words) query += (query.empty() ? "" : " ") + w;
    args->options.query = query;
    args->options.exact_total = args->options.facets;
    // The heap grows by 8 MB at a time rather than glibc's 128 KB: the
    // counting thread's arena otherwise grows by one mprotect call per
    // step, ~0.3 ms of a ~5 ms search. Address space only: pages are
    // still taken as they are first touched.
    mallopt(M_TOP_PAD, 8 << 20);
    Searcher searcher(args->index_dir, args->ranking, SearcherOptions{args->options.facets});
    SearchResult result = searcher.search(args->options);
    auto printer = args->json ? make_json_printer(stdout)
                              : make_text_printer(stdout, TextStyle{use_color(args->color)});
    printer->search(result);
    // Nothing is left to do but free: the system takes the index's caches,
    // the result and the counting thread's arena back faster than their
    // destructors give them up (~0.2 ms of a ~6 ms search).
    exit_now(kExitOk);
  };
}

}  // namespace resdex::cli
