// An LD_PRELOAD shim that injects faults into resdex for
// reliability_test.cc:
//
// - A full disk: once a process has written RESDEX_ENOSPC_AFTER bytes to
//   files under RESDEX_ENOSPC_DIR, write, pwrite, fsync and fdatasync on
//   such files fail with ENOSPC (next to a real small tmpfs, when mounting
//   one is allowed).
// - A slow open: the first open of a path ending in RESDEX_SLOW_OPEN waits
//   RESDEX_SLOW_OPEN_MS milliseconds before opening, so that a test can
//   change the index between a reader's reading the stub and its opening
//   the generation the stub named.
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

namespace {

std::atomic<long long> written{0};

const char* limit_dir() {
  static const char* dir = getenv("RESDEX_ENOSPC_DIR");
  return dir;
}

long long limit_bytes() {
  static const long long n = [] {
    const char* s = getenv("RESDEX_ENOSPC_AFTER");
    return s ? atoll(s) : -1;
  }();
  return n;
}

// Whether `fd` is a file under RESDEX_ENOSPC_DIR.
bool limited(int fd) {
  const char* dir = limit_dir();
  if (!dir || !*dir || limit_bytes() < 0) return false;
  char link[64], target[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n <= 0) return false;
  target[n] = '\0';
  size_t len = strlen(dir);
  return strncmp(target, dir, len) == 0 && (target[len] == '/' || target[len] == '\0');
}

// Counts `n` more bytes for `fd`; false (errno ENOSPC) once over the limit.
bool charge(int fd, size_t n) {
  if (!limited(fd)) return true;
  if (written.fetch_add(static_cast<long long>(n)) + static_cast<long long>(n) > limit_bytes()) {
    errno = ENOSPC;
    return false;
  }
  return true;
}

bool full(int fd) {
  static const bool sync_fails = !getenv("RESDEX_ENOSPC_SYNC_OK");
  if (!sync_fails || !limited(fd) || written.load() <= limit_bytes()) return false;
  errno = ENOSPC;
  return true;
}

template <typename F>
F real(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C" {

ssize_t write(int fd, const void* buf, size_t n) {
  static auto next = real<ssize_t (*)(int, const void*, size_t)>("write");
  if (!charge(fd, n)) return -1;
  return next(fd, buf, n);
}

ssize_t pwrite(int fd, const void* buf, size_t n, off_t off) {
  static auto next = real<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite");
  if (!charge(fd, n)) return -1;
  return next(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void* buf, size_t n, off_t off) {
  static auto next = real<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite64");
  if (!charge(fd, n)) return -1;
  return next(fd, buf, n, off);
}

static void maybe_wait(const char* path) {
  static std::atomic<bool> waited{false};
  const char* suffix = getenv("RESDEX_SLOW_OPEN");
  if (!suffix || !*suffix || !path) return;
  size_t n = strlen(path), m = strlen(suffix);
  if (n < m || strcmp(path + n - m, suffix) != 0 || waited.exchange(true)) return;
  const char* ms = getenv("RESDEX_SLOW_OPEN_MS");
  usleep(static_cast<useconds_t>((ms ? atoi(ms) : 1000) * 1000));
}

using OpenFn = int (*)(const char*, int, ...);

// open() and open64() after maybe_wait(); `ap` holds the mode, which
// follows `flags` only with O_CREAT or O_TMPFILE.
static int open_with(OpenFn next, const char* path, int flags, va_list ap) {
  const mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? static_cast<mode_t>(va_arg(ap, int)) : 0;
  maybe_wait(path);
  return next(path, flags, mode);
}

int open(const char* path, int flags, ...) {
  static auto next = real<OpenFn>("open");
  va_list ap;
  va_start(ap, flags);
  const int fd = open_with(next, path, flags, ap);
  va_end(ap);
  return fd;
}

int open64(const char* path, int flags, ...) {
  static auto next = real<OpenFn>("open64");
  va_list ap;
  va_start(ap, flags);
  const int fd = open_with(next, path, flags, ap);
  va_end(ap);
  return fd;
}

int fsync(int fd) {
  static auto next = real<int (*)(int)>("fsync");
  if (full(fd)) return -1;
  return next(fd);
}

int fdatasync(int fd) {
  static auto next = real<int (*)(int)>("fdatasync");
  if (full(fd)) return -1;
  return next(fd);
}

}  // extern "C"
