// The commands that are programs of their own: `resdex serve` runs
// resdex-serve (serve_main.cc) and `resdex index` runs resdex-index
// (index_main.cc) in place of this process, with the same arguments, as
// `git` runs its sub-programs. Each is built and installed next to resdex.
//
// - resdex-serve, so that every other command starts without loading the
//   HTTP library and the TLS library it links.
// - resdex-index, so that indexing can use an allocator of its own
//   (jemalloc, where the build found it): a full build spends its time in
//   Xapian's write buffers, std::maps of every term and position that are
//   filled and freed every few hundred documents, which take ~10% less
//   time with jemalloc than with the C library's malloc. Linked into
//   resdex, jemalloc would slow every search (~0.4 ms more for its start
//   and the fresh pages its layout touches; docs/performance.md).
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/error.h"

namespace resdex::cli {

namespace {

// The directory of the running resdex binary.
std::string own_directory() {
  std::string path(4096, '\0');
  const ssize_t n = ::readlink("/proc/self/exe", path.data(), path.size());
  if (n <= 0 || static_cast<size_t>(n) >= path.size())
    throw Error(Error::Kind::kIo, std::string("cannot find the resdex program's own path: ") + std::strerror(errno));
  path.resize(static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
}

// Registers `name` as a command whose every argument, --help too, is for
// `program` (next to resdex) to read; the command's runner replaces this
// process with `program`, given those arguments.
Runner add_program_command(CLI::App& app, const char* name, const char* program) {
  CLI::App* cmd = app.add_subcommand(name);
  cmd->prefix_command();
  cmd->set_help_flag();
  cmd->allow_extras();
  return [cmd, name, program]() -> int {
    const std::string path = own_directory() + "/" + program;
    std::vector<std::string> args = cmd->remaining();
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(path.c_str()));
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(path.c_str(), argv.data());
    throw Error(Error::Kind::kIo, "cannot run '" + path + "', the program behind `resdex " + name +
                                      "`: " + std::strerror(errno) + "; it is built and installed next to resdex (cmake target " +
                                      program + ")");
  };
}

}  // namespace

Runner add_serve_command(CLI::App& app, const CommandLine& /*line*/) {
  return add_program_command(app, "serve", "resdex-serve");
}

Runner add_index_launcher(CLI::App& app, const CommandLine& /*line*/) {
  return add_program_command(app, "index", "resdex-index");
}

}  // namespace resdex::cli
