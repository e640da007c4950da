// resdex show: print one whole document.
#include "cli/commands.h"
#include "core/searcher.h"
#include "output/result_printer.h"

namespace resdex::cli {

Runner add_show_command(CLI::App& app, const CommandLine& /*line*/) {
  struct Args {
    std::string index_dir = "index";
    std::string id;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("show");
  cmd->add_option("--index", args->index_dir, "Index directory")->type_name("DIR")->capture_default_str();
  cmd->add_flag("--json", args->json, "Print one JSON object");
  cmd->add_option("id", args->id, "Document id, e.g. groups/conrad")->required()->type_name("ID");
  cmd->footer("Example:\n  resdex show groups/conrad");
  return [args]() {
    Searcher searcher(args->index_dir);
    Document doc = searcher.get(args->id);
    auto printer = args->json ? make_json_printer(stdout) : make_text_printer(stdout, TextStyle{use_color("auto")});
    printer->document(doc);
    return kExitOk;
  };
}

}  // namespace resdex::cli
