#include "core/watcher.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

#include "core/corpus_reader.h"
#include "core/file_system.h"
#include "core/index_location.h"

namespace fs = std::filesystem;

namespace resdex {

namespace {

// What makes a directory's contents change, for a file or a subdirectory:
// written (in place or by rename into place), created, deleted, moved,
// made unreadable. IN_EXCL_UNLINK: no events for files already unlinked.
constexpr uint32_t kMask = IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM |
                           IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR |
                           IN_EXCL_UNLINK;

std::string normal(const std::string& path) { return fs::path(path).lexically_normal().string(); }

bool is_markdown(const std::string& name) {
  return name.size() > 3 && name[0] != '.' && name.compare(name.size() - 3, 3, ".md") == 0;
}

// Thrown from the indexer's progress callback when the stop descriptor is
// readable: the pass ends without committing.
struct Stopped {};

bool readable(int fd) {
  if (fd < 0) return false;
  pollfd p{fd, POLLIN, 0};
  while (true) {
    int n = ::poll(&p, 1, 0);
    if (n >= 0) return n > 0;
    if (errno != EINTR) return false;
  }
}

// The index's writer lock, waiting for another writer as update_index
// does when index.wait is set.
WriterLock lock_index(const IndexOptions& index) {
  IndexLocation location(index.index_dir);
  const auto deadline = std::chrono::steady_clock::now() + index.wait_timeout;
  std::chrono::milliseconds pause(10);
  for (;;) {
    try {
      return location.lock_for_writing();
    } catch (const Error& e) {
      if (e.kind() != Error::Kind::kLocked || !index.wait || std::chrono::steady_clock::now() >= deadline)
        throw;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(1000));
  }
}

}  // namespace

CorpusWatcher::CorpusWatcher(std::vector<std::string> dirs, std::vector<std::string> files)
    : dirs_(std::move(dirs)) {
  fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0)
    throw Error(Error::Kind::kIo, std::string("cannot watch the corpus (inotify: ") + std::strerror(errno) + ")");
  try {
    for (const std::string& dir : dirs_) {
      std::error_code ec;
      if (!fs::is_directory(dir, ec))
        throw Error(Error::Kind::kNotFound, "corpus path '" + dir + "' does not exist");
      add_tree(dir);
    }
    for (const std::string& file : files) {
      files_.insert(normal(file));
      std::string parent = fs::path(file).parent_path().string();
      add_watch(parent.empty() ? "." : parent, false);
    }
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

CorpusWatcher::~CorpusWatcher() {
  if (fd_ >= 0) ::close(fd_);
}

int CorpusWatcher::add_watch(const std::string& dir, bool recursive) {
  int wd = ::inotify_add_watch(fd_, dir.c_str(), kMask);
  if (wd < 0) {
    if (errno == ENOSPC || errno == ENOMEM)
      throw Error(Error::Kind::kIo, "cannot watch '" + dir + "': " + std::strerror(errno) +
                                        " (too many directories for fs.inotify.max_user_watches?)");
    return -1;  // gone meanwhile, or unreadable: nothing to watch
  }
  // The same directory reached twice (a root and a file's directory)
  // keeps one watch, recursive if either asks.
  Watched& w = watches_[wd];
  if (w.path.empty() || recursive) w.path = dir;
  w.recursive = w.recursive || recursive;
  return wd;
}

// Watches `dir` and its subdirectories but hidden ones. Watching a
// directory again is harmless, so a rescan after lost events is too.
void CorpusWatcher::add_tree(const std::string& dir) {
  if (add_watch(dir, true) < 0) return;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::error_code kind_ec;
    if (!it->is_directory(kind_ec)) continue;
    if (it->path().filename().string()[0] == '.') {
      it.disable_recursion_pending();
      continue;
    }
    add_watch(it->path().string(), true);
  }
}

size_t CorpusWatcher::read_events() {
  alignas(inotify_event) char buf[64 * 1024];
  size_t relevant = 0;
  for (;;) {
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EAGAIN: all read
    for (char* p = buf; p < buf + n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(p);
      p += sizeof(inotify_event) + ev->len;
      if (ev->mask & IN_Q_OVERFLOW) {
        // Events were lost: anything may have changed, and new directories
        // may be unwatched.
        for (const std::string& dir : dirs_) add_tree(dir);
        changed_.insert("");
        ++relevant;
        continue;
      }
      auto w = watches_.find(ev->wd);
      if (w == watches_.end()) continue;
      if (ev->mask & IN_IGNORED) {
        watches_.erase(w);
        continue;
      }
      const Watched& dir = w->second;
      if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
        // A subdirectory's removal shows in its parent; a root's only here.
        if (std::find(dirs_.begin(), dirs_.end(), dir.path) != dirs_.end()) {
          changed_.insert(dir.path);
          ++relevant;
        }
        continue;
      }
      if (ev->len == 0) continue;
      const std::string name = ev->name;
      const std::string path = dir.path + "/" + name;
      bool hit = false;
      if (ev->mask & IN_ISDIR) {
        if (!dir.recursive || name[0] == '.') continue;
        if (ev->mask & (IN_CREATE | IN_MOVED_TO)) add_tree(path);
        hit = ev->mask & (IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM);
      } else {
        hit = files_.count(normal(path)) || (dir.recursive && is_markdown(name));
      }
      if (hit) {
        changed_.insert(normal(path));
        ++relevant;
      }
    }
  }
  return relevant;
}

CorpusWatcher::Wait CorpusWatcher::wait(int stop_fd, std::chrono::milliseconds settle,
                                        std::chrono::milliseconds max_delay) {
  using Clock = std::chrono::steady_clock;
  changed_.clear();
  bool pending = false;
  Clock::time_point first{}, last{};
  for (;;) {
    int timeout = -1;
    if (pending) {
      Clock::time_point due = std::min(last + settle, first + max_delay);
      auto left = std::chrono::ceil<std::chrono::milliseconds>(due - Clock::now()).count();
      timeout = static_cast<int>(std::max<long long>(0, left));
    }
    pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_fd, POLLIN, 0}};
    int n = ::poll(fds, stop_fd >= 0 ? 2 : 1, timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(Error::Kind::kIo, std::string("cannot watch the corpus (poll: ") + std::strerror(errno) + ")");
    }
    if (stop_fd >= 0 && fds[1].revents) return Wait::kStopped;
    if (n == 0) {
      if (!pending) continue;
      first_change_ = first;
      return Wait::kChanged;
    }
    if ((fds[0].revents & POLLIN) && read_events() > 0) {
      last = Clock::now();
      if (!pending) first = last;
      pending = true;
    }
  }
}

void watch_index(const IndexOptions& index, const WatchOptions& options, const FileSystem& fs,
                 const std::function<void(const WatchPass&)>& on_pass,
                 const std::function<void(const Error&)>& on_error) {
  std::vector<std::string> dirs, files;
  for (const std::string& path : index.corpus_paths) {
    if (path == "-")
      throw Error(Error::Kind::kUsage,
                  "--watch cannot watch standard input; give a corpus directory or a JSONL file");
    if (is_jsonl_path(path) || fs.stat(path) == FileSystem::Kind::kFile)
      files.push_back(path);
    else
      dirs.push_back(path);
  }
  for (const std::string& path : synonyms_paths(index)) files.push_back(path);

  // Set up before the first pass, so that no change made during it is missed.
  CorpusWatcher watcher(dirs, files);
  WriterLock lock = lock_index(index);
  IndexOptions opts = index;
  opts.lock_held = true;
  opts.wait = false;
  const auto progress = index.progress;
  opts.progress = [&](const IndexProgress& p) {
    if (readable(options.stop_fd)) throw Stopped{};
    if (progress) progress(p);
  };

  try {
    WatchPass first;
    first.first = true;
    first.report = update_index(opts, fs);
    on_pass(first);
  } catch (const Stopped&) {
    return;
  }
  // Later passes update what is there; a progress line would only flicker.
  opts.rebuild = false;
  opts.shards = 0;
  opts.progress = [&](const IndexProgress&) {
    if (readable(options.stop_fd)) throw Stopped{};
  };
  while (watcher.wait(options.stop_fd, options.settle, options.max_delay) == CorpusWatcher::Wait::kChanged) {
    WatchPass pass;
    pass.changes = watcher.changed().size();
    try {
      pass.report = update_index(opts, fs);
    } catch (const Stopped&) {
      return;
    } catch (const Error& e) {
      on_error(e);
      continue;
    }
    pass.latency = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                         watcher.first_change());
    on_pass(pass);
  }
}

}  // namespace resdex
