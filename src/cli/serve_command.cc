// resdex serve: the web page and JSON API (server/web_server.h) until
// SIGINT or SIGTERM.
#include <signal.h>

#include <atomic>
#include <thread>

#include <fmt/format.h>

#include "cli/commands.h"
#include "server/web_server.h"

namespace resdex::cli {

Runner add_serve_command(CLI::App& app) {
  auto options = std::make_shared<web::ServerOptions>();
  CLI::App* cmd = app.add_subcommand("serve");
  cmd->add_option("--index", options->index_dir, "Index directory")->type_name("DIR")->capture_default_str();
  cmd->add_option("--port", options->port, "TCP port (0: any free one)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--bind", options->bind,
                  "Address to listen on; the default keeps the server to this machine")
      ->type_name("ADDR")
      ->capture_default_str();
  cmd->add_option("--threads", options->threads, "Worker threads (connections answered at once)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->footer(
      "Pages: / (search, facets, pages of hits), /doc?id=ID (a document and similar groups).\n"
      "API:   /api/search?q=&institution=&area=&type=&limit=&offset= (as search --json),\n"
      "       /api/similar?id=ID (as similar --json). Bad parameters get 400.\n"
      "Runs until SIGINT (Ctrl-C) or SIGTERM.\n\n"
      "Examples:\n"
      "  resdex serve                     # http://127.0.0.1:8080/\n"
      "  resdex serve --port 0 --index /tmp/idx");
  return [options]() {
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

    web::Server server(*options);
    const int port = server.bind();
    fmt::print(stderr, "resdex: serving the index at '{}' on http://{}:{}/ (Ctrl-C stops)\n",
               options->index_dir, options->bind.find(':') != std::string::npos ? "[" + options->bind + "]" : options->bind,
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
  };
}

}  // namespace resdex::cli
