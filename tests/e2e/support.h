// Helpers shared by the end-to-end tests: running the real resdex binary
// (RESDEX_BINARY) in the foreground or the background, temporary sandbox
// directories holding copies of the fixtures, and small file and network
// utilities. Failures are doctest REQUIREs in the calling test case.
//
// Children are started with fork/execve: arguments go to the program
// verbatim (no shell), with a small fixed environment (PATH, HOME set to the
// working directory, LC_ALL=C.UTF-8, plus what a caller adds); no TERM, no
// NO_COLOR.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace e2e {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// tests/fixtures
extern const fs::path kFixtures;

double seconds_since(Clock::time_point t);
void sleep_seconds(double s);

// The whole file; REQUIREs that it can be read.
std::string read_file(const fs::path& path);
// Creates the parent directories, replaces the file.
void write_file(const fs::path& path, std::string_view contents);
// Replaces `to` with a copy of the tree `from`.
void copy_tree(const fs::path& from, const fs::path& to);

bool contains(std::string_view haystack, std::string_view needle);
// ASCII lower case.
std::string lower(std::string s);
// A command line for messages, long arguments shortened.
std::string describe(const std::vector<std::string>& args);

// The path of an installed program in /usr/local/bin, /usr/bin or /bin, or
// "" when there is none.
std::string find_program(const std::string& name);

// A port on 127.0.0.1 that was free a moment ago.
int free_port();
// Whether something accepts TCP connections on 127.0.0.1:port.
bool accepts_connections(int port);
// A TCP socket connected to 127.0.0.1:port, or -1.
int connect_loopback(int port);

// ---------------------------------------------------------------------------
// Running resdex in the foreground

struct Run {
  int exit_code = -1;  // -1 when the process did not exit normally
  int signal = 0;      // the signal that ended it, or 0
  std::string out;
  std::string err;
  double seconds = 0;  // wall time
};

struct RunOptions {
  fs::path cwd;                  // working directory of the child
  std::vector<std::string> env;  // extra NAME=value entries
  bool tty = false;              // stdout is a pseudo terminal
  // Bytes fed to the child's standard input through a pipe; without it,
  // standard input is /dev/null.
  std::optional<std::string> input;
  // Seconds without output after which the child is killed and the case
  // fails.
  double timeout = 120;
};

// Runs RESDEX_BINARY with `args` and waits for it; stdout and stderr are
// captured separately.
Run run_resdex(const std::vector<std::string>& args, const RunOptions& options);

// ---------------------------------------------------------------------------
// Running a program in the background

// A child process writing its stdout and stderr to files.
class Child {
 public:
  // Starts `program` with `args` in `cwd`. The environment is PATH, HOME,
  // LC_ALL=C.UTF-8 and `env`. With `stdin_pipe`, standard input is a pipe
  // the test writes with feed() and closes with close_stdin(); otherwise
  // /dev/null.
  Child(const std::string& program, const std::vector<std::string>& args, const fs::path& cwd,
        const std::vector<std::string>& env = {}, bool stdin_pipe = false)
      : args_(args) {
    static int counter = 0;
    const fs::path logs = cwd / "logs";
    fs::create_directories(logs);
    out_path_ = logs / fmt::format("{}.out", counter);
    err_path_ = logs / fmt::format("{}.err", counter);
    ++counter;
    std::vector<std::string> argv_s{program};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<std::string> env_s{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + cwd.string(),
                                   "LC_ALL=C.UTF-8"};
    env_s.insert(env_s.end(), env.begin(), env.end());
    std::vector<char*> argv, envp;
    for (std::string& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    for (std::string& s : env_s) envp.push_back(s.data());
    envp.push_back(nullptr);
    int in_pipe[2] = {-1, -1};
    if (stdin_pipe) REQUIRE(::pipe2(in_pipe, O_CLOEXEC) == 0);
    int in_fd = stdin_pipe ? in_pipe[0] : ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int out_fd = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int err_fd = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    REQUIRE(in_fd >= 0);
    REQUIRE(out_fd >= 0);
    REQUIRE(err_fd >= 0);
    static const bool sigpipe_ignored = [] {
      ::signal(SIGPIPE, SIG_IGN);
      return true;
    }();
    (void)sigpipe_ignored;
    const std::string dir = cwd.string();
    start_ = Clock::now();
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      ::sigaction(SIGPIPE, &dfl, nullptr);
      if (::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) ::_exit(126);
      if (::chdir(dir.c_str()) != 0) ::_exit(126);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(in_fd);
    ::close(out_fd);
    ::close(err_fd);
    stdin_ = stdin_pipe ? in_pipe[1] : -1;
  }
  ~Child() {
    close_stdin();
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }

  void feed(std::string_view bytes) {
    REQUIRE(stdin_ >= 0);
    while (!bytes.empty()) {
      ssize_t n = ::write(stdin_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      REQUIRE_MESSAGE(n > 0, "cannot write to the child's standard input: " << std::strerror(errno));
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  }
  void close_stdin() {
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
  }

  // Whether the child has ended (and then reaps it).
  bool done() {
    if (pid_ <= 0) return true;
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      record(status);
      return true;
    }
    return false;
  }

  void kill9() {
    if (pid_ > 0) ::kill(pid_, SIGKILL);
  }

  // Waits for the child (killing it after `timeout` seconds) and returns
  // what it did.
  Run wait(double timeout = 120) {
    while (!done()) {
      if (seconds_since(start_) > timeout) {
        ::kill(pid_, SIGKILL);
        timed_out_ = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    close_stdin();
    run_.out = read_file(out_path_);
    run_.err = read_file(err_path_);
    INFO(describe(args_));
    REQUIRE_MESSAGE(!timed_out_, "did not finish within " << timeout << " s");
    REQUIRE_MESSAGE(run_.exit_code != 127, "cannot execute the program");
    return run_;
  }

 private:
  void record(int status) {
    run_.seconds = seconds_since(start_);
    if (WIFEXITED(status)) run_.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) run_.signal = WTERMSIG(status);
    pid_ = -1;
  }

  std::vector<std::string> args_;
  fs::path out_path_, err_path_;
  pid_t pid_ = -1;
  int stdin_ = -1;
  bool timed_out_ = false;
  Clock::time_point start_;
  Run run_;
};

// ---------------------------------------------------------------------------
// Sandboxes

// A fresh temporary directory, removed again at the end of the case.
class Sandbox {
 public:
  Sandbox() {
    std::string templ = (fs::temp_directory_path() / "resdex-e2e-XXXXXX").string();
    REQUIRE(::mkdtemp(templ.data()) != nullptr);
    dir_ = fs::canonical(templ);
  }
  ~Sandbox() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  const fs::path& dir() const { return dir_; }
  fs::path operator/(const std::string& rel) const { return dir_ / rel; }

  // Copies tests/fixtures/corpus to ./corpus.
  void copy_corpus() {
    fs::copy(kFixtures / "corpus", dir_ / "corpus", fs::copy_options::recursive);
  }

  Run resdex(const std::vector<std::string>& args, std::vector<std::string> env = {},
             bool tty = false) const {
    return run_resdex(args, RunOptions{dir_, std::move(env), tty, std::nullopt});
  }

  // Starts resdex in the background in the sandbox (see Child).
  std::unique_ptr<Child> start(const std::vector<std::string>& args,
                               const std::vector<std::string>& env = {}, bool stdin_pipe = false) const {
    return std::make_unique<Child>(RESDEX_BINARY, args, dir_, env, stdin_pipe);
  }

  // Runs resdex with `input` on its standard input (a pipe).
  Run resdex_with_input(const std::vector<std::string>& args, std::string input) const {
    return run_resdex(args, RunOptions{dir_, {}, false, std::move(input)});
  }

  // `resdex COMMAND --json ARGS`; requires that exit code and parses stdout.
  json json_command(const std::string& command, const std::vector<std::string>& args,
                    int expected_exit = 0) const {
    std::vector<std::string> all{command, "--json"};
    all.insert(all.end(), args.begin(), args.end());
    Run r = resdex(all);
    INFO(describe(all));
    INFO("stderr: " << r.err);
    REQUIRE(r.signal == 0);
    REQUIRE(r.exit_code == expected_exit);
    return parse_json(r.out);
  }

  // `resdex index --json ARGS`; checks the exit code and parses stdout.
  json index(const std::vector<std::string>& args = {}, int expected_exit = 0) const {
    return json_command("index", args, expected_exit);
  }

  // `resdex search --json ARGS`; requires exit 0.
  json search(const std::vector<std::string>& args) const { return json_command("search", args); }

  // `resdex search ARGS` as text; requires exit 0.
  std::string search_text(const std::vector<std::string>& args, std::vector<std::string> env = {},
                          bool tty = false) const {
    std::vector<std::string> all{"search"};
    all.insert(all.end(), args.begin(), args.end());
    Run r = resdex(all, std::move(env), tty);
    INFO(describe(all));
    INFO("stderr: " << r.err);
    REQUIRE(r.signal == 0);
    REQUIRE(r.exit_code == 0);
    return r.out;
  }

  static json parse_json(const std::string& text) {
    INFO("output: " << text);
    REQUIRE_MESSAGE(!text.empty(), "no output");
    CHECK_MESSAGE(text.back() == '\n', "JSON output ends without a newline");
    CHECK_MESSAGE(std::count(text.begin(), text.end(), '\n') == 1, "JSON output is not one line");
    json j;
    REQUIRE_NOTHROW(j = json::parse(text));
    return j;
  }

 private:
  fs::path dir_;
};

// A sandbox holding the fixture corpus, indexed into ./index.
class IndexedFixture : public Sandbox {
 public:
  IndexedFixture() {
    copy_corpus();
    Run r = resdex({"index", "--quiet"});
    INFO("stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
  }
};


// Waits until `server` (a resdex serve) accepts connections on `port`;
// fails the case, with the server's stderr, if it exits first or takes
// more than `timeout` seconds.
void wait_until_serving(Child& server, int port, double timeout = 30);

}  // namespace e2e
