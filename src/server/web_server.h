// resdex serve: an HTTP server (cpp-httplib) over one index.
//
//   GET /                 the search page (web_page.h)
//   GET /doc?id=ID        one document and the groups most like it
//   GET /api/search?...   what `resdex search --json` prints
//   GET /api/similar?id=  what `resdex similar --json` prints
//
// Parameters are read by web_params.h; a bad one gets 400 and a message
// (JSON {"error": ...} for /api/, an HTML page otherwise), an unknown id
// 404, an unreadable index 500.
#pragma once

#include <memory>
#include <string>

#include "server/web_params.h"

namespace resdex::web {

struct ServerOptions {
  std::string index_dir = "index";
  // The address to listen on; the loopback address keeps the server to
  // this machine.
  std::string bind = "127.0.0.1";
  // 0: any free port (bind() says which).
  int port = 8080;
  // Worker threads, each answering one connection at a time with a
  // Searcher of its own (Xapian databases are not shared across threads).
  unsigned threads = 8;
};

// A response before it goes on the wire.
struct Response {
  int status = 200;
  std::string content_type;
  std::string body;
};

class Server {
 public:
  // Opens the index once to fail early: throws Error(kNotFound) or
  // Error(kCorrupt) as Searcher does.
  explicit Server(ServerOptions options);
  ~Server();

  // The answer to GET `path` with `params`, whatever the transport; never
  // throws. Each request sees the index as last committed.
  Response respond(const std::string& path, const Params& params);

  // Binds the listening socket and returns its port. Throws Error(kIo) if
  // the address cannot be bound (in use, not this machine's).
  int bind();

  // Answers requests until stop(); returns false if the server failed.
  bool run();

  // Stops run() after the requests being answered; safe from any thread
  // (not from a signal handler).
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace resdex::web
