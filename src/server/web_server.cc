#include "server/web_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <mutex>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/searcher.h"
#include "output/result_printer.h"
#include "server/web_page.h"

namespace resdex::web {

namespace {

constexpr const char* kJson = "application/json";
constexpr const char* kHtml = "text/html; charset=utf-8";

// Hits in the "similar groups" list of a document page.
constexpr size_t kSimilarOnPage = 5;

// Searchers for the worker threads: one per request being answered, kept
// for the next. A Searcher is not thread-safe, and opening one per request
// would cost more than most searches.
class SearcherPool {
 public:
  explicit SearcherPool(std::string dir) : dir_(std::move(dir)) { give_back(std::make_unique<Searcher>(dir_)); }

  class Lease {
   public:
    Lease(SearcherPool& pool, std::unique_ptr<Searcher> s) : pool_(pool), searcher_(std::move(s)) {}
    ~Lease() { pool_.give_back(std::move(searcher_)); }
    Searcher& operator*() { return *searcher_; }
    Searcher* operator->() { return searcher_.get(); }

   private:
    SearcherPool& pool_;
    std::unique_ptr<Searcher> searcher_;
  };

  // The index cannot be opened or read (removed, damaged, a remote shard
  // down): the server's fault, not the request's, so 503 rather than 404.
  struct Unavailable : std::runtime_error {
    using std::runtime_error::runtime_error;
  };

  // A searcher that sees the index as last committed. Throws Unavailable.
  Lease take() {
    std::unique_ptr<Searcher> s;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!idle_.empty()) {
        s = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    try {
      if (s) s->refresh();
      else s = std::make_unique<Searcher>(dir_);
    } catch (const Error& e) {
      if (e.kind() == Error::Kind::kUsage) throw;
      throw Unavailable(e.what());
    }
    return Lease(*this, std::move(s));
  }

 private:
  void give_back(std::unique_ptr<Searcher> s) {
    if (!s) return;
    std::lock_guard<std::mutex> lock(mutex_);
    idle_.push_back(std::move(s));
  }

  std::string dir_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Searcher>> idle_;
};

int status_of(const Error& e) {
  switch (e.kind()) {
    case Error::Kind::kUsage: return 400;
    case Error::Kind::kNotFound: return 404;
    default: return 500;
  }
}

Response json_error(int status, const std::string& message) {
  nlohmann::json j = {{"error", message}};
  return {status, kJson, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"};
}

// The facet counts the page offers: for a facet the request filters on,
// the counts without that facet's filter (so that the other values can be
// added, ORed); for the others, those of the result itself.
std::vector<FacetCounts> offered_facets(Searcher& searcher, const SearchOptions& request,
                                        const SearchResult& result) {
  std::vector<FacetCounts> out = result.facets;
  for (FacetCounts& f : out) {
    const bool institution = f.name == "institution";
    if (!(institution ? !request.institutions.empty() : f.name == "area" && !request.areas.empty()))
      continue;
    SearchOptions wider = request;
    (institution ? wider.institutions : wider.areas).clear();
    wider.offset = 0;
    wider.limit = 0;
    wider.snippets = false;
    wider.documents = false;
    for (FacetCounts& g : searcher.search(wider).facets)
      if (g.name == f.name) f = std::move(g);
  }
  return out;
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  SearcherPool searchers;
  httplib::Server http;

  explicit Impl(ServerOptions o) : options(std::move(o)), searchers(options.index_dir) {}

  Response api_search(const Params& params) {
    SearchOptions o = search_options(params);
    o.exact_total = o.facets;
    auto s = searchers.take();
    return {200, kJson, search_json(s->search(o))};
  }

  Response api_similar(const Params& params) {
    std::string id = document_id(params);
    SearchOptions o = search_options(params);
    o.exact_total = o.facets;
    auto s = searchers.take();
    return {200, kJson, search_json(s->similar(id, o))};
  }

  Response page(const Params& params) {
    SearchOptions o = search_options(params);
    o.exact_total = o.facets;
    auto s = searchers.take();
    SearchResult result = s->search(o);
    return {200, kHtml, search_page(o, result, offered_facets(*s, o, result))};
  }

  Response document(const Params& params) {
    std::string id = document_id(params);
    auto s = searchers.take();
    Document doc = s->get(id);
    SearchOptions o;
    o.types = {"group"};
    o.limit = kSimilarOnPage;
    o.facets = false;
    o.exact_total = false;
    return {200, kHtml, document_page(doc, s->similar(id, o))};
  }
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  httplib::Server& http = impl_->http;
  const unsigned threads = std::max(1u, impl_->options.threads);
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // A keep-alive connection holds its worker: let one serve many requests,
  // but not sit idle long.
  // Without it, a reply written in two parts waits for the client's delayed
  // ACK (Nagle): 40 ms a request.
  http.set_tcp_nodelay(true);
  http.set_keep_alive_max_count(1000);
  http.set_keep_alive_timeout(2);
  http.set_read_timeout(5);
  http.set_write_timeout(5);
  http.set_payload_max_length(64 * 1024);
  // httplib's default also sets SO_REUSEPORT, with which a second server
  // would share the port instead of being told it is taken.
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  http.set_default_headers({{"X-Content-Type-Options", "nosniff"}});
  for (const char* path : {"/", "/doc", "/api/search", "/api/similar"}) {
    http.Get(path, [this, path = std::string(path)](const httplib::Request& req, httplib::Response& res) {
      Response r = respond(path, req.params);
      res.status = r.status;
      res.set_content(r.body, r.content_type.c_str());
    });
  }
  // What no route answers (another path, another method, a request httplib
  // rejects) gets a short text rather than an empty body.
  http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    const int st = res.status;
    const char* what = st == 404 ? "not found" : st == 405 ? "method not allowed" : st == 414 ? "URI too long"
                                                : st < 500 ? "bad request" : "server error";
    res.set_content(std::to_string(st) + " " + what + "\n", "text/plain; charset=utf-8");
    return httplib::Server::HandlerResponse::Handled;
  }));
}

Server::~Server() = default;

Response Server::respond(const std::string& path, const Params& params) {
  const bool api = path.rfind("/api/", 0) == 0;
  try {
    if (path == "/api/search") return impl_->api_search(params);
    if (path == "/api/similar") return impl_->api_similar(params);
    if (path == "/") return impl_->page(params);
    if (path == "/doc") return impl_->document(params);
    return api ? json_error(404, "no such path: " + path) : Response{404, kHtml, error_page(404, "No such page.")};
  } catch (const SearcherPool::Unavailable& e) {
    return api ? json_error(503, e.what()) : Response{503, kHtml, error_page(503, e.what())};
  } catch (const Error& e) {
    int status = status_of(e);
    return api ? json_error(status, e.what()) : Response{status, kHtml, error_page(status, e.what())};
  } catch (const std::exception& e) {
    std::string message = std::string("internal error: ") + e.what();
    return api ? json_error(500, message) : Response{500, kHtml, error_page(500, message)};
  }
}

int Server::bind() {
  httplib::Server& http = impl_->http;
  const std::string& host = impl_->options.bind;
  int port = impl_->options.port;
  if (port == 0) port = http.bind_to_any_port(host);
  else if (!http.bind_to_port(host, port)) port = -1;
  if (port <= 0)
    throw Error(Error::Kind::kIo, "cannot listen on " + host + " port " + std::to_string(impl_->options.port) +
                                      ": the port is in use, or the address is not one of this machine's");
  return port;
}

bool Server::run() { return impl_->http.listen_after_bind(); }

void Server::stop() { impl_->http.stop(); }

}  // namespace resdex::web
