// The web page in a real browser: headless Chromium (Debian's chromium)
// driven over the DevTools protocol loads the page of a real `resdex
// serve`, types a query, clicks Search and a facet box, and the screenshot
// it takes is decoded and checked.
//
// The protocol runs over a pair of pipes (--remote-debugging-pipe: the
// browser reads commands from fd 3 and writes replies to fd 4, each a JSON
// text ended by NUL), which needs no WebSocket client and no port.
#include <fcntl.h>
#include <poll.h>
#include <zlib.h>

#include <array>
#include <set>

#include "e2e/support.h"

namespace e2e {
namespace {

// ---------------------------------------------------------------------------
// Images

std::string base64_decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (char c : in) {
    int v = value(c);
    if (v < 0) continue;  // '=' padding, line breaks
    bits = (bits << 6) | static_cast<unsigned>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xFF);
    }
  }
  return out;
}

struct Image {
  uint32_t width = 0, height = 0;
  std::vector<std::array<uint8_t, 3>> pixels;  // RGB, row by row
};

uint32_t be32(const std::string& s, size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) |
         (uint32_t(uint8_t(s[at + 2])) << 8) | uint32_t(uint8_t(s[at + 3]));
}

// Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes);
// REQUIREs that it is one, with valid chunks and zlib data.
Image decode_png(const std::string& png) {
  REQUIRE(png.size() > 33);
  REQUIRE(png.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
  Image img;
  int channels = 0;
  std::string idat;
  for (size_t at = 8; at + 12 <= png.size();) {
    const uint32_t len = be32(png, at);
    const std::string type = png.substr(at + 4, 4);
    REQUIRE(at + 12 + len <= png.size());
    const std::string data = png.substr(at + 8, len);
    const uLong crc = crc32(crc32(0, nullptr, 0), reinterpret_cast<const Bytef*>(png.data() + at + 4), len + 4);
    REQUIRE_MESSAGE(crc == be32(png, at + 8 + len), "bad CRC in chunk " << type);
    if (type == "IHDR") {
      img.width = be32(data, 0);
      img.height = be32(data, 4);
      REQUIRE(uint8_t(data[8]) == 8);                          // bit depth
      REQUIRE((uint8_t(data[9]) == 2 || uint8_t(data[9]) == 6));  // RGB or RGBA
      REQUIRE(uint8_t(data[12]) == 0);                         // not interlaced
      channels = uint8_t(data[9]) == 2 ? 3 : 4;
    } else if (type == "IDAT") {
      idat += data;
    } else if (type == "IEND") {
      break;
    }
    at += 12 + len;
  }
  REQUIRE(channels > 0);
  const size_t stride = size_t(img.width) * channels;
  std::string raw((stride + 1) * img.height, '\0');
  uLongf raw_len = raw.size();
  REQUIRE(uncompress(reinterpret_cast<Bytef*>(raw.data()), &raw_len,
                     reinterpret_cast<const Bytef*>(idat.data()), idat.size()) == Z_OK);
  REQUIRE(raw_len == raw.size());
  std::vector<uint8_t> prev(stride, 0), row(stride);
  img.pixels.reserve(size_t(img.width) * img.height);
  for (uint32_t y = 0; y < img.height; ++y) {
    const uint8_t filter = uint8_t(raw[y * (stride + 1)]);
    const uint8_t* in = reinterpret_cast<const uint8_t*>(raw.data()) + y * (stride + 1) + 1;
    for (size_t x = 0; x < stride; ++x) {
      const int a = x >= size_t(channels) ? row[x - channels] : 0;
      const int b = prev[x];
      const int c = x >= size_t(channels) ? prev[x - channels] : 0;
      int predictor = 0;
      switch (filter) {
        case 0: predictor = 0; break;
        case 1: predictor = a; break;
        case 2: predictor = b; break;
        case 3: predictor = (a + b) / 2; break;
        case 4: {
          const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: FAIL("bad PNG filter type " << int(filter));
      }
      row[x] = uint8_t(in[x] + predictor);
    }
    for (size_t x = 0; x < img.width; ++x)
      img.pixels.push_back({row[x * channels], row[x * channels + 1], row[x * channels + 2]});
    prev.swap(row);
  }
  return img;
}

// ---------------------------------------------------------------------------
// Chromium over the DevTools protocol

class Browser {
 public:
  // Starts headless Chromium with a fresh profile under `dir`, attached to
  // its first page.
  explicit Browser(const fs::path& dir) {
    const std::string chromium = find_program("chromium");
    REQUIRE_MESSAGE(!chromium.empty(),
                    "chromium is not installed: tools/install-deps.sh --with-test-tools installs it");
    int to_browser[2], from_browser[2];
    REQUIRE(::pipe2(to_browser, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(from_browser, O_CLOEXEC) == 0);
    std::vector<std::string> args{chromium,
                                  "--headless",
                                  "--no-sandbox",
                                  "--disable-gpu",
                                  "--disable-background-networking",
                                  "--disable-extensions",
                                  "--disable-sync",
                                  "--no-first-run",
                                  "--hide-scrollbars",
                                  "--mute-audio",
                                  "--remote-debugging-pipe",
                                  "--user-data-dir=" + (dir / "chromium-profile").string(),
                                  "about:blank"};
    std::vector<std::string> env{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + dir.string(),
                                 "LC_ALL=C.UTF-8"};
    std::vector<char*> argv, envp;
    for (std::string& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    for (std::string& s : env) envp.push_back(s.data());
    envp.push_back(nullptr);
    const std::string log = (dir / "chromium.log").string();
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      // A process group of its own: the browser's helper processes end
      // with it (~Browser kills the group).
      ::setpgid(0, 0);
      int null_in = ::open("/dev/null", O_RDONLY);
      int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      // fds 3 and 4 as the protocol wants them; dup2 clears O_CLOEXEC.
      int in = ::dup(to_browser[0]), out = ::dup(from_browser[1]);
      if (null_in < 0 || log_fd < 0 || in < 0 || out < 0 || ::dup2(null_in, 0) < 0 ||
          ::dup2(log_fd, 1) < 0 || ::dup2(log_fd, 2) < 0 || ::dup2(in, 3) < 0 || ::dup2(out, 4) < 0)
        ::_exit(126);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(to_browser[0]);
    ::close(from_browser[1]);
    out_ = to_browser[1];
    in_ = from_browser[0];
    json targets = call("Target.getTargets");
    std::string page;
    for (const json& t : targets["targetInfos"])
      if (t["type"] == "page") page = t["targetId"];
    REQUIRE_MESSAGE(!page.empty(), "no page target: " << targets.dump());
    session_ = call("Target.attachToTarget", {{"targetId", page}, {"flatten", true}})["sessionId"];
    page_call("Page.enable");
  }

  ~Browser() {
    if (out_ >= 0) ::close(out_);
    if (in_ >= 0) ::close(in_);
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }

  // A command to the browser; returns its result, FAILs on an error reply
  // or after 60 s without one.
  json call(const std::string& method, const json& params = json::object(), const std::string& session = "") {
    const int id = ++next_id_;
    json message = {{"id", id}, {"method", method}, {"params", params}};
    if (!session.empty()) message["sessionId"] = session;
    std::string bytes = message.dump();
    bytes += '\0';
    for (size_t sent = 0; sent < bytes.size();) {
      ssize_t n = ::write(out_, bytes.data() + sent, bytes.size() - sent);
      if (n < 0 && errno == EINTR) continue;
      REQUIRE_MESSAGE(n > 0, "cannot write to chromium: " << std::strerror(errno));
      sent += static_cast<size_t>(n);
    }
    const auto start = Clock::now();
    for (;;) {
      for (size_t end; (end = buffer_.find('\0')) != std::string::npos;) {
        json reply = json::parse(buffer_.substr(0, end));
        buffer_.erase(0, end + 1);
        if (!reply.contains("id") || reply["id"] != id) continue;  // an event
        INFO(method << " " << params.dump().substr(0, 300));
        REQUIRE_MESSAGE(!reply.contains("error"), "chromium: " << reply["error"].dump());
        return reply["result"];
      }
      pollfd p{in_, POLLIN, 0};
      const double left = 60 - seconds_since(start);
      REQUIRE_MESSAGE(left > 0, "chromium did not answer " << method << " within 60 s");
      if (::poll(&p, 1, static_cast<int>(left * 1000)) <= 0) continue;
      char buf[65536];
      ssize_t n = ::read(in_, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      REQUIRE_MESSAGE(n > 0, "chromium closed the protocol pipe");
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }

  json page_call(const std::string& method, const json& params = json::object()) {
    return call(method, params, session_);
  }

  // The value of a JavaScript expression in the page.
  json eval(const std::string& expression) {
    json r = page_call("Runtime.evaluate", {{"expression", expression}, {"returnByValue", true}});
    REQUIRE_MESSAGE(!r.contains("exceptionDetails"), expression << ": " << r["exceptionDetails"].dump());
    return r["result"].contains("value") ? r["result"]["value"] : json();
  }

  // Waits (up to 30 s) until the page at a URL containing `url_part` has
  // loaded.
  void wait_for_page(const std::string& url_part) {
    const auto start = Clock::now();
    for (;;) {
      json state = eval("[location.href, document.readyState]");
      if (contains(state[0].get<std::string>(), url_part) && state[1] == "complete") return;
      REQUIRE_MESSAGE(seconds_since(start) < 30, "page " << url_part << " not loaded; at " << state.dump());
      sleep_seconds(0.05);
    }
  }

  // A real click (mouse pressed and released) at the centre of the element
  // `selector` selects, which must be visible.
  void click(const std::string& selector) {
    json box = eval("(function(){var e=document.querySelector(" + json(selector).dump() +
                    ");if(!e)return null;e.scrollIntoView({block:'center'});"
                    "var r=e.getBoundingClientRect();return [r.left+r.width/2,r.top+r.height/2,r.width,r.height];})()");
    REQUIRE_MESSAGE(box.is_array(), "no element " << selector);
    REQUIRE_MESSAGE(box[2].get<double>() > 0, selector << " is not visible");
    for (const char* type : {"mouseMoved", "mousePressed", "mouseReleased"})
      page_call("Input.dispatchMouseEvent", {{"type", type},
                                             {"x", box[0]},
                                             {"y", box[1]},
                                             {"button", "left"},
                                             {"buttons", std::string(type) == "mousePressed" ? 1 : 0},
                                             {"clickCount", 1}});
  }

  void set_viewport(int width, int height, bool mobile) {
    page_call("Emulation.setDeviceMetricsOverride",
              {{"width", width}, {"height", height}, {"deviceScaleFactor", 1}, {"mobile", mobile}});
  }

  std::string screenshot() {
    return base64_decode(page_call("Page.captureScreenshot", {{"format", "png"}})["data"].get<std::string>());
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1, in_ = -1;
  int next_id_ = 0;
  std::string session_;
  std::string buffer_;
};

TEST_CASE("browser: headless Chromium searches, clicks a facet, and the screenshot shows the hits") {
  IndexedFixture box;
  const int port = free_port();
  std::unique_ptr<Child> server = box.start({"serve", "--port", std::to_string(port)});
  wait_until_serving(*server, port);
  const std::string base = "http://127.0.0.1:" + std::to_string(port);

  Browser browser(box.dir());
  browser.set_viewport(1000, 800, false);
  browser.page_call("Page.navigate", {{"url", base + "/"}});
  browser.wait_for_page(base + "/");
  CHECK(browser.eval("document.title") == "resdex");

  // Type a query and click Search.
  browser.eval("document.querySelector('input[name=q]').focus()");
  browser.page_call("Input.insertText", {{"text", "data"}});
  browser.click("header button[type=submit]");
  browser.wait_for_page("q=data");
  CHECK(browser.eval("document.querySelector('.summary').textContent") == "4 matches, showing 1\u20134.");
  CHECK(browser.eval("document.querySelectorAll('li.hit').length") == 4);
  CHECK(browser.eval("document.querySelectorAll('li.hit mark').length").get<int>() >= 3);
  CHECK(browser.eval("document.querySelector('input[name=institution][value=\"HU Berlin\"]').checked") == false);

  // Click the HU Berlin facet box: its change handler submits the form.
  browser.click("input[name=institution][value=\"HU Berlin\"]");
  browser.wait_for_page("institution=HU");
  CHECK(browser.eval("location.search") == "?q=data&institution=HU+Berlin");
  CHECK(browser.eval("document.querySelector('input[name=institution][value=\"HU Berlin\"]').checked") == true);
  CHECK(browser.eval("document.querySelector('input[name=q]').value") == "data");
  CHECK(browser.eval("document.querySelector('.summary').textContent") == "2 matches, showing 1\u20132.");
  json hits = browser.eval("Array.from(document.querySelectorAll('li.hit .meta')).map(function(e){return e.textContent})");
  REQUIRE(hits.size() == 2);
  for (const json& h : hits) CHECK(contains(h.get<std::string>(), "HU Berlin"));

  // The screenshot: a PNG of the viewport's size, not blank, with the
  // highlight colour of <mark> (#ffe27a) and the header's (#1d2f4f).
  Image shot = decode_png(browser.screenshot());
  CHECK(shot.width == 1000);
  CHECK(shot.height == 800);
  std::set<std::array<uint8_t, 3>> colours(shot.pixels.begin(), shot.pixels.end());
  CHECK(colours.size() > 50);
  CHECK(colours.count({0xff, 0xe2, 0x7a}) == 1);
  CHECK(colours.count({0x1d, 0x2f, 0x4f}) == 1);

  // The seminar's <script> shows as text, and does not run.
  browser.page_call("Page.navigate", {{"url", base + "/?q=alert"}});
  browser.wait_for_page("q=alert");
  CHECK(contains(browser.eval("document.querySelector('li.hit .snippet').textContent").get<std::string>(),
                 "<script>alert(1)</script>"));
  CHECK(browser.eval("document.querySelectorAll('script').length") == 1);  // our own

  // On a phone-sized screen nothing is wider than the screen.
  browser.set_viewport(390, 844, true);
  browser.page_call("Page.navigate", {{"url", base + "/?q=data"}});
  browser.wait_for_page("q=data");
  CHECK(browser.eval("document.documentElement.scrollWidth").get<int>() <= 390);
  Image phone = decode_png(browser.screenshot());
  CHECK(phone.width == 390);
}

}  // namespace
}  // namespace e2e
