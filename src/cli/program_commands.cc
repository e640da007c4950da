// resdex serve: runs the program resdex-serve (serve_main.cc) in place of
// this process, with the same arguments, as `git` runs its sub-programs.
// The server is a program of its own so that every other command starts
// without loading the HTTP library and the TLS library it links.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

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

}  // namespace

Runner add_serve_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("serve");
  // Every argument, --help too, is the server program's to read.
  cmd->prefix_command();
  cmd->set_help_flag();
  cmd->allow_extras();
  return [cmd]() -> int {
    const std::string program = own_directory() + "/resdex-serve";
    std::vector<std::string> args = cmd->remaining();
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(program.c_str(), argv.data());
    throw Error(Error::Kind::kIo, "cannot run '" + program + "', the program behind `resdex serve`: " +
                                      std::strerror(errno) +
                                      "; it is built and installed next to resdex (cmake target resdex-serve)");
  };
}

}  // namespace resdex::cli
