// Helpers shared by the end-to-end tests (see support.h).
#include "e2e/support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace e2e {

const fs::path kFixtures = RESDEX_FIXTURES;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

void sleep_seconds(double s) {
  std::this_thread::sleep_for(std::chrono::duration<double>(s));
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& path, std::string_view contents) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  REQUIRE_MESSAGE(out.good(), "cannot write " << path.string());
}

void copy_tree(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::remove_all(to, ec);
  fs::copy(from, to, fs::copy_options::recursive);
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::string find_program(const std::string& name) {
  for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"}) {
    std::string path = std::string(dir) + "/" + name;
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

int connect_loopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool accepts_connections(int port) {
  const int fd = connect_loopback(port);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

void wait_until_serving(Child& server, int port, double timeout) {
  const auto start = Clock::now();
  while (!accepts_connections(port)) {
    if (server.done()) {
      Run r = server.wait();
      FAIL("resdex serve exited with " << r.exit_code << ": " << r.err);
    }
    REQUIRE_MESSAGE(seconds_since(start) < timeout, "resdex serve did not listen within " << timeout << " s");
    sleep_seconds(0.02);
  }
}

std::string describe(const std::vector<std::string>& args) {
  std::string s = "resdex";
  for (const std::string& a : args) s += " [" + (a.size() > 80 ? a.substr(0, 80) + "..." : a) + "]";
  return s;
}

// Runs RESDEX_BINARY with `args`. The environment is PATH, HOME (the working
// directory) and LC_ALL=C.UTF-8 plus `options.env`; no TERM, no NO_COLOR.
Run run_resdex(const std::vector<std::string>& args, const RunOptions& options) {
  std::vector<std::string> argv_s{RESDEX_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<std::string> env_s{"PATH=/usr/local/bin:/usr/bin:/bin",
                                 "HOME=" + options.cwd.string(), "LC_ALL=C.UTF-8"};
  env_s.insert(env_s.end(), options.env.begin(), options.env.end());
  std::vector<char*> argv, envp;
  for (std::string& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  for (std::string& s : env_s) envp.push_back(s.data());
  envp.push_back(nullptr);
  const std::string cwd = options.cwd.string();

  int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  REQUIRE(::pipe2(err_pipe, O_CLOEXEC) == 0);
  int out_read = -1, out_write = -1;
  if (options.tty) {
    int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    REQUIRE(master >= 0);
    REQUIRE(::grantpt(master) == 0);
    REQUIRE(::unlockpt(master) == 0);
    const char* name = ::ptsname(master);
    REQUIRE(name != nullptr);
    int slave = ::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    REQUIRE(slave >= 0);
    termios t{};
    REQUIRE(::tcgetattr(slave, &t) == 0);
    t.c_oflag &= ~static_cast<tcflag_t>(OPOST);  // no "\n" -> "\r\n"
    REQUIRE(::tcsetattr(slave, TCSANOW, &t) == 0);
    out_read = master;
    out_write = slave;
  } else {
    REQUIRE(::pipe2(out_pipe, O_CLOEXEC) == 0);
    out_read = out_pipe[0];
    out_write = out_pipe[1];
  }
  int dev_null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(dev_null >= 0);
  int in_pipe[2] = {-1, -1};
  if (options.input) {
    REQUIRE(::pipe2(in_pipe, O_CLOEXEC) == 0);
    REQUIRE(::fcntl(in_pipe[1], F_SETFL, O_NONBLOCK) == 0);
  }
  const int child_stdin = options.input ? in_pipe[0] : dev_null;

  // Writing input to a child that has stopped reading must not kill the
  // test with SIGPIPE; the child gets the default disposition back.
  static const bool sigpipe_ignored = [] {
    ::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)sigpipe_ignored;

  const Clock::time_point start = Clock::now();
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Only async-signal-safe calls from here on.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGPIPE, &dfl, nullptr);
    if (::dup2(child_stdin, 0) < 0 || ::dup2(out_write, 1) < 0 || ::dup2(err_pipe[1], 2) < 0)
      ::_exit(126);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(out_write);
  ::close(err_pipe[1]);
  ::close(dev_null);
  if (options.input) ::close(in_pipe[0]);
  // The input is written as the child reads it, between reads of its output.
  int in_fd = options.input ? in_pipe[1] : -1;
  size_t in_written = 0;
  auto feed_input = [&] {
    while (in_fd >= 0) {
      if (in_written == options.input->size()) {
        ::close(in_fd);
        in_fd = -1;
        break;
      }
      ssize_t n = ::write(in_fd, options.input->data() + in_written, options.input->size() - in_written);
      if (n > 0) {
        in_written += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        if (n < 0 && errno != EAGAIN) {  // EPIPE: the child stopped reading
          ::close(in_fd);
          in_fd = -1;
        }
        break;
      }
    }
  };
  feed_input();

  Run run;
  pollfd fds[2] = {{out_read, POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&run.out, &run.err};
  int open_fds = 2;
  bool timed_out = false;
  char buf[65536];
  while (open_fds > 0) {
    feed_input();
    pollfd all[3] = {fds[0], fds[1], {in_fd, POLLOUT, 0}};
    int n = ::poll(all, in_fd >= 0 ? 3 : 2, static_cast<int>(options.timeout * 1000));
    fds[0].revents = all[0].revents;
    fds[1].revents = all[1].revents;
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    REQUIRE(n > 0);
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<size_t>(got));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        // EOF, or EIO from a pty master once the child has closed it.
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (pollfd& p : fds)
    if (p.fd >= 0) ::close(p.fd);
  if (in_fd >= 0) ::close(in_fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  run.seconds = seconds_since(start);
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) run.signal = WTERMSIG(status);
  INFO(describe(args));
  REQUIRE_MESSAGE(!timed_out, "resdex printed nothing for " << options.timeout << " s and was killed");
  REQUIRE_MESSAGE(run.exit_code != 127, "cannot execute " RESDEX_BINARY);
  return run;
}


}  // namespace e2e
