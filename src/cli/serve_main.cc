// resdex-serve: the program behind `resdex serve` (program_commands.cc runs it
// in its place). The web page and JSON API (server/web_server.h) until
// SIGINT or SIGTERM.
//
// It is a program of its own so that the HTTP library, and the TLS and
// compression libraries it brings, are loaded only by the server: linked
// into `resdex`, loading them and running their initialisers cost more
// than a whole search of a large index (docs/performance.md).
#include <signal.h>

#include <atomic>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "server/web_server.h"

namespace resdex::cli {
namespace {

int serve(const web::ServerOptions& options) {
  // SIGINT and SIGTERM are taken by a thread of their own (sigwait), so
  // that stopping the server is not done inside a signal handler. Blocked
  // before any thread starts, they stay blocked in all of them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  // A client closing its connection early must not end the process.
  signal(SIGPIPE, SIG_IGN);

  web::Server server(options);
  const int port = server.bind();
  fmt::print(stderr, "resdex: serving the index at '{}' on http://{}:{}/ (Ctrl-C stops)\n",
             options.index_dir, options.bind.find(':') != std::string::npos ? "[" + options.bind + "]" : options.bind,
             port);
  std::fflush(stderr);

  std::atomic<bool> done{false};
  std::thread waiter([&] {
    const timespec tick{0, 200 * 1000 * 1000};
    while (!done) {
      if (sigtimedwait(&stop_signals, nullptr, &tick) > 0) {
        server.stop();
        return;
      }
    }
  });
  const bool ok = server.run();
  done = true;
  waiter.join();
  if (!ok) {
    fmt::print(stderr, "resdex: the server stopped on an error\n");
    return kExitFailure;
  }
  fmt::print(stderr, "resdex: stopped\n");
  return kExitOk;
}

int main(int argc, char** argv) {
  web::ServerOptions options;
  CLI::App app(kServeDescription, "resdex serve");
  app.add_option("--index", options.index_dir, "Index directory")->type_name("DIR")->capture_default_str();
  app.add_option("--port", options.port, "TCP port (0: any free one)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  app.add_option("--bind", options.bind, "Address to listen on; the default keeps the server to this machine")
      ->type_name("ADDR")
      ->capture_default_str();
  app.add_option("--threads", options.threads, "Worker threads (connections answered at once)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.footer(
      "Pages: / (search, facets, pages of hits), /doc?id=ID (a document and similar groups).\n"
      "API:   /api/search?q=&institution=&area=&type=&limit=&offset=&exact= (as search --json),\n"
      "       /api/similar?id=ID (as similar --json). Bad parameters get 400.\n"
      "Runs until SIGINT (Ctrl-C) or SIGTERM.\n\n"
      "Examples:\n"
      "  resdex serve                     # http://127.0.0.1:8080/\n"
      "  resdex serve --port 0 --index /tmp/idx");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return guarded([&] { return serve(options); });
}

}  // namespace
}  // namespace resdex::cli

int main(int argc, char** argv) { return resdex::cli::main(argc, argv); }
