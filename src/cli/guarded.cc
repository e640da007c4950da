// guarded(): where the CLI programs (resdex, resdex-serve) turn errors into
// messages and exit codes.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

#include <fmt/format.h>

#include "cli/commands.h"
#include "core/error.h"

namespace resdex::cli {

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
