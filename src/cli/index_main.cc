// resdex-index: the program behind `resdex index` (program_commands.cc runs
// it in its place, with the arguments that followed "index"). Its command
// line, help and exit codes are those of `resdex index` (index_command.cc).
//
// It is a program of its own so that it can be linked with an allocator
// that suits a build (jemalloc; see program_commands.cc and
// CMakeLists.txt), which would slow every search if resdex were.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace resdex::cli {
namespace {

int main(int argc, char** argv) {
  set_terminate_message();
  // Every command line is read as `resdex index ARGS`, so only the index
  // subcommand's help and errors are ever shown, never this app's.
  CLI::App app("", "resdex");
  Runner run = add_index_command(app);
  app.get_subcommand("index")->description(kIndexDescription);

  std::vector<std::string> args{"resdex", "index"};
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  std::vector<char*> full;
  for (std::string& a : args) full.push_back(a.data());
  full.push_back(nullptr);
  try {
    app.parse(static_cast<int>(args.size()), full.data());
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return guarded(run);
}

}  // namespace
}  // namespace resdex::cli

int main(int argc, char** argv) { return resdex::cli::main(argc, argv); }
