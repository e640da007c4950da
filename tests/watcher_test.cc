#include "core/watcher.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "core/error.h"
#include "test_support.h"

namespace resdex {
namespace {

using namespace std::chrono_literals;
using test::TempDir;

void write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

// A pipe whose read end becomes readable `after` from now: a stop signal
// that also bounds how long a test waits for a change that must not come.
class StopLater {
 public:
  explicit StopLater(std::chrono::milliseconds after) {
    REQUIRE(::pipe(fds_) == 0);
    thread_ = std::thread([this, after] {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, after, [this] { return done_; });
      (void)!::write(fds_[1], "x", 1);
    });
  }
  ~StopLater() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_one();
    thread_.join();
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  int fd() const { return fds_[0]; }

 private:
  int fds_[2];
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

TEST_CASE("watcher: a Markdown file written, renamed into place or deleted is a change") {
  TempDir tmp;
  write(tmp.sub("corpus/groups/a.md"), "a");
  CorpusWatcher watcher({tmp.sub("corpus")}, {});
  StopLater never(10s);

  write(tmp.sub("corpus/groups/a.md"), "a2");
  REQUIRE(watcher.wait(never.fd(), 300ms, 5000ms) == CorpusWatcher::Wait::kChanged);
  CHECK(watcher.changed() == std::set<std::string>{tmp.sub("corpus/groups/a.md")});

  write(tmp.sub("corpus/groups/.b.md.swp"), "b");
  std::filesystem::rename(tmp.sub("corpus/groups/.b.md.swp"), tmp.sub("corpus/groups/b.md"));
  REQUIRE(watcher.wait(never.fd(), 300ms, 5000ms) == CorpusWatcher::Wait::kChanged);
  CHECK(watcher.changed() == std::set<std::string>{tmp.sub("corpus/groups/b.md")});

  std::filesystem::remove(tmp.sub("corpus/groups/a.md"));
  REQUIRE(watcher.wait(never.fd(), 300ms, 5000ms) == CorpusWatcher::Wait::kChanged);
  CHECK(watcher.changed() == std::set<std::string>{tmp.sub("corpus/groups/a.md")});
}

TEST_CASE("watcher: new subdirectories are watched, and a burst is one batch") {
  TempDir tmp;
  std::filesystem::create_directories(tmp.sub("corpus"));
  CorpusWatcher watcher({tmp.sub("corpus")}, {tmp.sub("corpus/synonyms.txt")});
  StopLater never(10s);

  std::filesystem::create_directories(tmp.sub("corpus/new/deeper"));
  REQUIRE(watcher.wait(never.fd(), 300ms, 5000ms) == CorpusWatcher::Wait::kChanged);
  CHECK(watcher.changed().count(tmp.sub("corpus/new")));

  for (const char* name : {"x.md", "y.md", "z.md"}) write(tmp.sub("corpus/new/deeper/") + name, "text");
  write(tmp.sub("corpus/synonyms.txt"), "UQ = uncertainty quantification\n");
  REQUIRE(watcher.wait(never.fd(), 300ms, 5000ms) == CorpusWatcher::Wait::kChanged);
  CHECK(watcher.changed() == std::set<std::string>{tmp.sub("corpus/new/deeper/x.md"), tmp.sub("corpus/new/deeper/y.md"),
                                                   tmp.sub("corpus/new/deeper/z.md"), tmp.sub("corpus/synonyms.txt")});
}

TEST_CASE("watcher: other files are no change, and the stop descriptor ends a wait") {
  TempDir tmp;
  std::filesystem::create_directories(tmp.sub("corpus/.git"));
  CorpusWatcher watcher({tmp.sub("corpus")}, {});
  write(tmp.sub("corpus/notes.txt"), "n");
  write(tmp.sub("corpus/.hidden.md"), "h");
  write(tmp.sub("corpus/a.md~"), "backup");
  write(tmp.sub("corpus/.git/x.md"), "x");
  StopLater soon(300ms);
  CHECK(watcher.wait(soon.fd(), 50ms, 1000ms) == CorpusWatcher::Wait::kStopped);
  CHECK(watcher.changed().empty());
}

TEST_CASE("watcher: a corpus directory that does not exist is kNotFound") {
  TempDir tmp;
  try {
    CorpusWatcher watcher({tmp.sub("missing")}, {});
    FAIL("expected kNotFound");
  } catch (const Error& e) {
    CHECK(e.kind() == Error::Kind::kNotFound);
  }
}

}  // namespace
}  // namespace resdex
