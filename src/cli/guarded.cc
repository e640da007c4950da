// guarded() and set_terminate_message(): where the CLI programs (resdex,
// resdex-index, resdex-serve) turn errors into messages and exit codes.
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

#include <fmt/format.h>
#include <xapian.h>

#include "cli/commands.h"
#include "core/error.h"

namespace resdex::cli {

namespace {

// Xapian 1.4 can end the process with std::terminate when a write fails
// at some points of a commit (seen with ENOSPC: a destructor inside
// libxapian that writes; docs/reliability.md). Like a kill, that leaves the
// index as the last commit or stub switch made it: say so instead of
// "terminate called after ...", and exit 1.
[[noreturn]] void on_terminate() {
  // Writer threads may fail at once: the first one reports.
  static std::atomic<bool> reporting{false};
  if (reporting.exchange(true))
    for (;;) ::pause();
  std::string what;
  if (std::exception_ptr e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const Xapian::Error& x) {
      what = x.get_description();
    } catch (const std::exception& x) {
      what = x.what();
    } catch (...) {
    }
  }
  // An exception still unwinding is not current; a nearly full disk under
  // the index being written tells what it was.
  struct statvfs st {};
  if (what.empty() && !g_index_being_written.empty() &&
      ::statvfs(g_index_being_written.c_str(), &st) == 0 &&
      static_cast<unsigned long long>(st.f_bavail) * st.f_frsize < (1ull << 20))
    what = std::strerror(ENOSPC);
  if (g_index_being_written.empty())
    fmt::print(stderr, "resdex: internal error: {}\n", what.empty() ? "an unexpected exception" : what);
  else if (what.find(std::strerror(ENOSPC)) != std::string::npos)
    fmt::print(stderr,
               "resdex: no space left on device while writing the index at '{}', and the Xapian "
               "library gave up ({}): the index is as it was before this run; free some space "
               "and run `resdex index` again, which also removes what this run left behind\n",
               g_index_being_written, what);
  else
    fmt::print(stderr,
               "resdex: the Xapian library gave up while writing the index at '{}' ({}): the index "
               "is as it was before this run; run `resdex index` again, which also removes what "
               "this run left behind\n",
               g_index_being_written, what.empty() ? "an exception it could not pass on" : what);
  std::fflush(stderr);
  std::_Exit(kExitFailure);
}

}  // namespace

void set_terminate_message() { std::set_terminate(on_terminate); }

int guarded(const std::function<int()>& body) {
  try {
    return body();
  } catch (const Error& e) {
    fmt::print(stderr, "resdex: {}\n", e.what());
    return e.kind() == Error::Kind::kUsage ? kExitUsage : kExitFailure;
  } catch (const std::exception& e) {
    fmt::print(stderr, "resdex: internal error: {}\n", e.what());
    return kExitFailure;
  } catch (...) {
    // The library turns Xapian's exceptions (which are no std::exception)
    // into resdex::Error; one that slips through must not abort.
    fmt::print(stderr, "resdex: internal error: an unexpected exception\n");
    return kExitFailure;
  }
}

void exit_now(int code) {
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    const int err = errno;
    fmt::print(stderr, "resdex: cannot write the output: {}\n", err ? std::strerror(err) : "write error");
    code = kExitFailure;
  }
  std::fflush(stderr);
  std::_Exit(code);
}

}  // namespace resdex::cli
