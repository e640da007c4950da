// resdex eval: relevance of the index's ranking (or of a saved run) against
// judged queries.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "core/evaluation.h"
#include "core/file_system.h"
#include "core/searcher.h"

namespace resdex::cli {

Runner add_eval_command(CLI::App& app, const CommandLine& line) {
  struct Args {
    std::string index_dir = "index";
    std::string queries;
    std::string qrels;
    std::string run;
    size_t depth = 1000;
    bool per_query = false;
    bool json = false;
    std::string syntax = "plain";
    RankingOptions ranking;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("eval");
  cmd->add_option("--index", args->index_dir, "Index directory")->type_name("DIR")->capture_default_str();
  cmd->add_option("--queries", args->queries, "Queries, JSONL with \"_id\" and \"text\"")
      ->type_name("FILE");
  cmd->add_option("--qrels", args->qrels, "Judgments: query-id<TAB>doc-id<TAB>grade (header line allowed)")
      ->required()
      ->type_name("FILE");
  cmd->add_option("--run", args->run, "Evaluate this saved TREC run instead of searching")
      ->type_name("FILE");
  cmd->add_option("--depth", args->depth, "Documents retrieved per query")->capture_default_str();
  cmd->add_option("--syntax", args->syntax, "How to read queries: plain or query")
      ->capture_default_str()
      ->check(CLI::IsMember({"query", "plain"}));
  add_ranking_options(*cmd, args->ranking, line);
  cmd->add_flag("--per-query", args->per_query, "Also print each query's figures");
  cmd->add_flag("--json", args->json, "Print one JSON object");
  cmd->footer(
      "Metrics as trec_eval defines them: nDCG@10 (graded gains), MAP, Recall@100, MRR. Only\n"
      "judged queries count; a judged query with no results scores 0.\n\n"
      "Examples:\n"
      "  resdex eval --index sf --queries queries.jsonl --qrels qrels-test.tsv\n"
      "  resdex eval --qrels qrels-test.tsv --run run.trec --per-query");

  return [args]() {
    DiskFileSystem fs;
    Qrels qrels = read_qrels(fs, args->qrels);
    Run run;
    if (!args->run.empty()) {
      run = read_run(fs, args->run);
    } else {
      if (args->queries.empty())
        throw Error(Error::Kind::kUsage, "eval needs --queries (or a saved --run)");
      Searcher searcher(args->index_dir, args->ranking);
      SearchOptions opt;
      opt.syntax = args->syntax == "query" ? SearchOptions::Syntax::kQueryLanguage
                                           : SearchOptions::Syntax::kPlainWords;
      opt.limit = args->depth;
      opt.facets = false;
      opt.exact_total = false;
      opt.snippets = false;
      opt.documents = false;
      for (const BatchQuery& q : read_queries(fs, args->queries)) {
        if (!qrels.count(q.id)) continue;
        opt.query = q.text;
        auto& docs = run[q.id];
        for (const Hit& h : searcher.search(opt).hits) docs.push_back({h.doc.id, h.score});
      }
    }
    Evaluation ev = evaluate(qrels, run);
    auto row = [](const QueryMetrics& m) {
      return nlohmann::json{{"qid", m.qid},           {"ndcg@10", m.ndcg10}, {"map", m.ap},
                            {"recall@100", m.recall100}, {"mrr", m.rr},         {"relevant", m.relevant},
                            {"retrieved", m.retrieved}};
    };
    if (args->json) {
      nlohmann::json j = row(ev.mean);
      j["queries"] = ev.per_query.size();
      if (args->per_query) {
        j["per_query"] = nlohmann::json::array();
        for (const QueryMetrics& m : ev.per_query) j["per_query"].push_back(row(m));
      }
      // Query ids from the qrels may hold invalid UTF-8.
      fmt::print("{}\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      return kExitOk;
    }
    if (args->per_query) {
      fmt::print("{:<12} {:>8} {:>8} {:>10} {:>8}\n", "query", "nDCG@10", "AP", "Recall@100", "RR");
      for (const QueryMetrics& m : ev.per_query)
        fmt::print("{:<12} {:>8.4f} {:>8.4f} {:>10.4f} {:>8.4f}\n", m.qid, m.ndcg10, m.ap, m.recall100, m.rr);
      fmt::print("\n");
    }
    fmt::print("queries     {}\nnDCG@10     {:.4f}\nMAP         {:.4f}\nRecall@100  {:.4f}\nMRR         {:.4f}\n",
               ev.per_query.size(), ev.mean.ndcg10, ev.mean.ap, ev.mean.recall100, ev.mean.rr);
    return kExitOk;
  };
}

}  // namespace resdex::cli
