// End-to-end tests of `resdex serve`: the real binary listening on a free
// port of 127.0.0.1, asked over real TCP connections.
#include <atomic>
#include <thread>

#include "e2e/http_client.h"
#include "e2e/support.h"

namespace e2e {
namespace {

// The fixture corpus indexed, and `resdex serve` on it.
class Served : public IndexedFixture {
 public:
  explicit Served(std::vector<std::string> extra = {}) : port_(free_port()) {
    std::vector<std::string> args{"serve", "--port", std::to_string(port_)};
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = start(args);
    wait_until_serving(*server_, port_);
  }

  int port() const { return port_; }
  Child& server() { return *server_; }

  HttpReply get(const std::string& target) const {
    HttpReply r = http_get(port_, target);
    INFO("GET " << target);
    REQUIRE_MESSAGE(r.status != 0, "no reply");
    return r;
  }

  // GET an API target; requires 200 and returns the body.
  std::string api(const std::string& target) const {
    HttpReply r = get(target);
    INFO("GET " << target << " body: " << r.body);
    REQUIRE(r.status == 200);
    CHECK(contains(r.headers, "Content-Type: application/json"));
    return r.body;
  }

  // What `resdex ARGS` prints; requires exit 0.
  std::string cli(const std::vector<std::string>& args) const {
    Run r = resdex(args);
    INFO(describe(args) << " stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
  }

 private:
  int port_;
  std::unique_ptr<Child> server_;
};

TEST_CASE("serve: /api/search answers exactly what search --json prints") {
  Served box;
  struct Case {
    std::string target;
    std::vector<std::string> args;
  };
  const Case cases[] = {
      {"/api/search?q=learning", {"learning"}},
      {"/api/search?q=muller", {"muller"}},
      {"/api/search?q=%22dynamical+systems%22", {"\"dynamical systems\""}},
      {"/api/search?q=optimi*+AND+NOT+quantum&limit=2&offset=1",
       {"optimi* AND NOT quantum", "--limit", "2", "--offset", "1"}},
      {"/api/search?q=ai&institution=zib&institution=wias",
       {"ai", "--institution", "zib", "--institution", "wias"}},
      {"/api/search?q=&area=AI-based%20Data%20Analysis", {"--area", "AI-based Data Analysis"}},
      {"/api/search", {}},
      {"/api/search?q=stochstic", {"stochstic"}},
      {"/api/search?q=groups&type=group&limit=0", {"groups", "--type", "group", "--limit", "0"}},
  };
  for (const Case& c : cases) {
    INFO(c.target);
    std::vector<std::string> args{"search", "--json"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    CHECK(box.api(c.target) == box.cli(args));
  }
}

TEST_CASE("serve: /api/similar answers exactly what similar --json prints") {
  Served box;
  CHECK(box.api("/api/similar?id=groups/noe") == box.cli({"similar", "--json", "groups/noe"}));
  CHECK(box.api("/api/similar?id=groups%2Fmueller&institution=FU+Berlin&limit=1") ==
        box.cli({"similar", "--json", "--institution", "FU Berlin", "--limit", "1", "groups/mueller"}));
  HttpReply unknown = box.get("/api/similar?id=groups/nobody");
  CHECK(unknown.status == 404);
  CHECK(json::parse(unknown.body)["error"] == "no document with id 'groups/nobody' in the index at 'index'");
}

TEST_CASE("serve: text from the index is HTML-escaped on every page") {
  Served box;
  // The seminar's text holds <script>alert(1)</script>.
  HttpReply page = box.get("/?q=alert");
  REQUIRE(page.status == 200);
  CHECK(contains(page.headers, "Content-Type: text/html; charset=utf-8"));
  CHECK(contains(page.body, "&lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt;"));
  CHECK_FALSE(contains(page.body, "<script>alert"));
  HttpReply doc = box.get("/doc?id=courses/seminar");
  REQUIRE(doc.status == 200);
  CHECK(contains(doc.body, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  CHECK_FALSE(contains(doc.body, "<script"));
  // What the request brings is escaped too.
  HttpReply echo = box.get("/?q=%22%3E%3Cscript%3Ex()%3C/script%3E");
  CHECK(echo.status == 200);
  CHECK_FALSE(contains(echo.body, "<script>x()"));
  CHECK(contains(echo.body, "value=\"&quot;&gt;&lt;script&gt;x()&lt;/script&gt;\""));
}

TEST_CASE("serve: bad parameters get 400 with a message, and the server goes on") {
  Served box;
  struct Case {
    std::string target;
    std::string message;
  };
  const Case cases[] = {
      {"/api/search?q=x&limit=abc", "parameter 'limit' must be a whole number from 0 to 100, not 'abc'"},
      {"/api/search?limit=-5", "parameter 'limit'"},
      {"/api/search?limit=1000", "parameter 'limit' must be a whole number from 0 to 100, not 1000"},
      {"/api/search?offset=99999999999999999999999999", "parameter 'offset'"},
      {"/api/search?q=%FF%FEabc", "parameter 'q' is not valid UTF-8"},
      {"/api/search?institution=%C0%AF", "parameter 'institution' is not valid UTF-8"},
      {"/api/search?q=" + std::string(5000, 'x'), "parameter 'q' is 5000 bytes long"},
      {"/api/search?q=a&q=b", "parameter 'q' is given 2 times"},
      {"/api/similar", "parameter 'id'"},
      {"/api/similar?id=", "parameter 'id'"},
  };
  for (const Case& c : cases) {
    INFO(c.target.substr(0, 100));
    HttpReply r = box.get(c.target);
    CHECK(r.status == 400);
    json j;
    REQUIRE_NOTHROW(j = json::parse(r.body));
    CHECK(contains(j["error"].get<std::string>(), c.message));
  }
  // The page answers the same with an HTML page.
  HttpReply page = box.get("/?limit=abc");
  CHECK(page.status == 400);
  CHECK(contains(page.body, "parameter &#39;limit&#39; must be a whole number"));
  CHECK(box.get("/doc?id=%FF").status == 400);
  CHECK(box.get("/doc?id=groups/nobody").status == 404);
  // A request line longer than the HTTP layer reads is refused before us.
  HttpReply huge = box.get("/api/search?q=" + std::string(20000, 'y'));
  CHECK(huge.status >= 400);
  CHECK(huge.status < 500);
  // Garbage instead of HTTP, a wrong method, an unknown path.
  HttpReply garbage = http_raw(box.port(), std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 16));
  CHECK(garbage.status != 200);
  CHECK(http_raw(box.port(), "POST /api/search HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").status >= 400);
  CHECK(box.get("/etc/passwd").status == 404);
  // Still serving, still alive.
  CHECK(box.get("/api/search?q=learning").status == 200);
  CHECK_FALSE(box.server().done());
}

TEST_CASE("serve: facet boxes filter, ORed within a facet, and keep the query") {
  Served box;
  HttpReply all = box.get("/?q=ai");
  REQUIRE(all.status == 200);
  CHECK(contains(all.body, "name=\"institution\" value=\"ZIB\">"));
  HttpReply zib = box.get("/?q=ai&institution=ZIB");
  REQUIRE(zib.status == 200);
  CHECK(contains(zib.body, "name=\"institution\" value=\"ZIB\" checked>"));
  CHECK(contains(zib.body, "value=\"ai\""));
  // Hits: only Kowalski is at ZIB.
  CHECK(contains(zib.body, "1 match, showing 1\u20131."));
  CHECK(contains(zib.body, "/doc?id=groups%2Fkowalski"));
  CHECK_FALSE(contains(zib.body, "/doc?id=groups%2Fmueller"));
  // Other institutions stay on offer, to be added.
  CHECK(contains(zib.body, "name=\"institution\" value=\"FU Berlin\">"));
  HttpReply two = box.get("/?q=ai&institution=ZIB&institution=WIAS");
  CHECK(contains(two.body, "2 matches, showing 1\u20132."));
  // The API filters the same way as the CLI.
  CHECK(box.api("/api/search?q=ai&area=Optimization+for+AI&institution=tu+berlin") ==
        box.cli({"search", "--json", "ai", "--area", "Optimization for AI", "--institution", "tu berlin"}));
}

TEST_CASE("serve: pages of hits link to each other and to the documents") {
  Served box;
  HttpReply first = box.get("/?q=&limit=4");
  REQUIRE(first.status == 200);
  CHECK(contains(first.body, "9 matches, showing 1\u20134."));
  CHECK(contains(first.body, "Page 1 of 3"));
  CHECK(contains(first.body, "rel=\"next\" href=\"/?q=&amp;offset=4&amp;limit=4\""));
  HttpReply second = box.get("/?q=&offset=4&limit=4");
  CHECK(contains(second.body, "showing 5\u20138."));
  CHECK(contains(second.body, "rel=\"prev\" href=\"/?q=&amp;limit=4\""));
  HttpReply doc = box.get("/doc?id=groups/mueller");
  REQUIRE(doc.status == 200);
  CHECK(contains(doc.body, "<h1>Jana M\u00fcller</h1>"));
  CHECK(contains(doc.body, "<h2>Similar groups</h2>"));
}

TEST_CASE("serve: listens on 127.0.0.1 only by default") {
  Served box;
  // /proc/net/tcp lists listening sockets (state 0A) by hex address:port.
  const std::string tcp = read_file("/proc/net/tcp");
  const std::string port_hex = fmt::format(":{:04X} ", box.port());
  bool loopback = false, other = false;
  std::istringstream lines(tcp);
  for (std::string line; std::getline(lines, line);) {
    if (!contains(line, port_hex) || !contains(line, " 0A ")) continue;
    std::istringstream fields(line);
    std::string slot, local;
    fields >> slot >> local;
    if (!local.ends_with(port_hex.substr(0, port_hex.size() - 1))) continue;
    (local.rfind("0100007F:", 0) == 0 ? loopback : other) = true;
  }
  CHECK(loopback);
  CHECK_FALSE(other);
  CHECK(contains(read_file("/proc/net/tcp6"), fmt::format(":{:04X} ", box.port())) == false);
}

TEST_CASE("serve: SIGTERM and SIGINT end it cleanly with exit code 0") {
  for (int sig : {SIGTERM, SIGINT}) {
    INFO("signal " << sig);
    Served box;
    CHECK(box.get("/api/search?q=ai").status == 200);
    REQUIRE(::kill(box.server().pid(), sig) == 0);
    Run r = box.server().wait(30);
    CHECK(r.signal == 0);
    CHECK(r.exit_code == 0);
    CHECK(contains(r.err, "resdex: stopped"));
    CHECK_FALSE(accepts_connections(box.port()));
  }
}

TEST_CASE("serve: answers see index updates without a restart") {
  Served box;
  CHECK(json::parse(box.api("/api/search?q=zebrafish"))["total"] == 0);
  write_file(box / "corpus/groups/fish.md",
             "---\ntype: group\nname: Fish Lab\ntitle: Zebrafish\ninstitutions: [WIAS]\n---\nZebrafish genetics.\n");
  box.index();
  CHECK(json::parse(box.api("/api/search?q=zebrafish"))["total"] == 1);
  box.index({"--rebuild"});  // a new generation; the old one is removed
  CHECK(json::parse(box.api("/api/search?q=zebrafish"))["total"] == 1);
  CHECK(box.api("/api/search?q=zebrafish") == box.cli({"search", "--json", "zebrafish"}));
}

TEST_CASE("serve: concurrent clients all get the same right answers") {
  Served box({"--threads", "4"});
  const std::string expected = box.cli({"search", "--json", "learning"});
  const std::string expected_similar = box.cli({"similar", "--json", "groups/noe"});
  std::atomic<int> wrong{0}, done{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t)
    clients.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        HttpReply r = http_get(box.port(), (t + i) % 2 ? "/api/search?q=learning" : "/api/similar?id=groups/noe");
        if (r.status != 200 || r.body != ((t + i) % 2 ? expected : expected_similar)) ++wrong;
        ++done;
      }
    });
  for (std::thread& c : clients) c.join();
  CHECK(done == 200);
  CHECK(wrong == 0);
}

TEST_CASE("serve: a missing index, a port in use and a bad address exit 1 with a message") {
  Sandbox box;
  Run none = box.resdex({"serve", "--port", std::to_string(free_port())});
  CHECK(none.exit_code == 1);
  CHECK(contains(none.err, "no index at 'index'"));

  Served served;
  Run busy = served.resdex({"serve", "--port", std::to_string(served.port())});
  CHECK(busy.exit_code == 1);
  CHECK(contains(busy.err, "cannot listen on 127.0.0.1 port " + std::to_string(served.port())));
  Run bad = served.resdex({"serve", "--port", "0", "--bind", "192.0.2.1"});
  CHECK(bad.exit_code == 1);
  CHECK(contains(bad.err, "cannot listen on 192.0.2.1"));
  Run usage = served.resdex({"serve", "--port", "70000"});
  CHECK(usage.exit_code == 2);
}

}  // namespace
}  // namespace e2e
