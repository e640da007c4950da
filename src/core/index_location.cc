#include "core/index_location.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "core/error.h"

namespace fs = std::filesystem;

namespace resdex {

namespace {

constexpr const char* kGenerationPrefix = "db-";

// The generation named in a stub's text ("auto db-3" -> "db-3"); the stub
// resdex writes has exactly one such line.
std::string generation_in_stub(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\f\v";
  // The next word of `line`, taken off its front ("" at its end).
  auto word = [&](std::string_view* line) {
    const size_t begin = std::min(line->find_first_not_of(kSpace), line->size());
    const size_t end = std::min(line->find_first_of(kSpace, begin), line->size());
    const std::string_view w = line->substr(begin, end - begin);
    line->remove_prefix(end);
    return w;
  };
  while (!text.empty()) {
    const size_t end = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    const std::string_view type = word(&line);
    const std::string_view path = word(&line);
    if ((type == "auto" || type == "glass") && path.substr(0, std::strlen(kGenerationPrefix)) == kGenerationPrefix)
      return std::string(path);
  }
  return "";
}

// The generation a stub's text names if it names nothing else, as the stub
// resdex writes does; "" for any other stub (several databases, a remote
// one), which Xapian is to read itself.
std::string sole_generation_in_stub(std::string_view text) {
  const std::string gen = generation_in_stub(text);
  if (gen.empty()) return "";
  size_t lines = 0;
  while (!text.empty()) {
    const size_t end = std::min(text.find('\n'), text.size());
    if (text.substr(0, end).find_first_not_of(" \t\r\f\v") != std::string_view::npos) ++lines;
    text.remove_prefix(std::min(end + 1, text.size()));
  }
  return lines == 1 ? gen : "";
}

long generation_number(const std::string& name) {
  if (name.rfind(kGenerationPrefix, 0) != 0) return -1;
  try {
    return std::stol(name.substr(3));
  } catch (...) {
    return -1;
  }
}

}  // namespace

bool IndexLocation::exists() const {
  std::error_code ec;
  return fs::is_regular_file(stub_path(), ec);
}

std::string IndexLocation::stub_text() const {
  // With read(2), not a stream: every search process reads the stub (twice
  // when it counts on another thread), and a file stream and its locale
  // cost more than the read.
  std::string text;
  const int fd = ::open(stub_path().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return text;
}

std::string IndexLocation::current() const { return generation_dir(stub_text()); }

std::string IndexLocation::generation_dir(const std::string& text) const {
  std::string gen = generation_in_stub(text);
  return gen.empty() ? "" : dir_ + "/" + gen;
}

WriterLock& WriterLock::operator=(WriterLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

WriterLock::~WriterLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

WriterLock IndexLocation::lock_for_writing() const {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw Error(Error::Kind::kIo, "cannot create index directory '" + dir_ + "': " + ec.message());
  int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw Error(Error::Kind::kIo, "cannot open index directory '" + dir_ + "': " + std::strerror(errno));
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    int saved = errno;
    ::close(fd);
    if (saved == EWOULDBLOCK)
      throw Error(Error::Kind::kLocked, "another process is updating the index at '" + dir_ +
                                            "'; try again when it has finished (or pass --wait)");
    // A file system without flock (some network mounts): Xapian's own
    // locks on the databases are all there is.
    return WriterLock();
  }
  return WriterLock(fd);
}

std::string IndexLocation::prepare_next() const {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw Error(Error::Kind::kIo, "cannot create index directory '" + dir_ + "': " + ec.message());
  long highest = 0;
  for (const auto& entry : fs::directory_iterator(dir_, ec))
    highest = std::max(highest, generation_number(entry.path().filename().string()));
  std::string next = dir_ + "/" + kGenerationPrefix + std::to_string(highest + 1);
  fs::remove_all(next, ec);
  return next;
}

std::vector<std::string> IndexLocation::shards(const std::string& generation) const {
  std::ifstream in(generation + "/XAPIANDB");
  if (!in) return {generation};
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string type, path;
    if (words >> type >> path && (type == "auto" || type == "glass"))
      out.push_back(path[0] == '/' ? path : generation + "/" + path);
  }
  return out;
}

void replace_file(const std::string& path, std::string_view bytes) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(Error::Kind::kIo, "cannot write '" + tmp + "': " + std::strerror(errno));
  bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) &&
            ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    if (ok) saved = errno;
    ::unlink(tmp.c_str());
    throw Error(Error::Kind::kIo, "cannot update '" + path + "': " + std::strerror(saved));
  }
}

void IndexLocation::write_stub(const std::string& text) const {
  replace_file(stub_path(), text);
  int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void IndexLocation::switch_to(const std::string& generation) const {
  write_stub("auto " + fs::path(generation).filename().string() + "\n");
}

void IndexLocation::remove_stale() const {
  std::string keep = fs::path(current()).filename().string();
  if (keep.empty()) return;  // no readable stub: nothing is known to be stale
  std::error_code ec;
  std::vector<fs::path> stale;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    std::string name = entry.path().filename().string();
    // db-N, db-N.shards (generation_number reads its leading N) and the
    // stub's temporary file.
    if ((generation_number(name) >= 0 && name != keep) || name == "XAPIANDB.tmp")
      stale.push_back(entry.path());
  }
  for (const fs::path& p : stale) fs::remove_all(p, ec);
}

Xapian::Database IndexLocation::open_reader(std::string* stub) const {
  // A rebuild may switch the stub and remove the generation it named
  // between our reading the stub and Xapian's opening that generation.
  constexpr int kAttempts = 5;
  for (int attempt = 1;; ++attempt) {
    if (!exists())
      throw Error(Error::Kind::kNotFound,
                  "no index at '" + dir_ + "': build it with `resdex index` (or pass --index DIR)");
    const std::string before = stub_text();
    // The generation itself when the stub names only that: Xapian would
    // look for a database in the index directory first, then read the
    // stub again (~0.03 ms of a search process, on each of its threads).
    const std::string sole = sole_generation_in_stub(before);
    try {
      Xapian::Database db(sole.empty() ? dir_ : dir_ + "/" + sole);
      if (db.size() == 0)  // an empty stub opens as an empty index
        throw Error(Error::Kind::kCorrupt, "index at '" + dir_ + "' is damaged (its stub file " +
                                               stub_path() +
                                               " names no database): rebuild it with `resdex index --rebuild`");
      if (stub) *stub = before;
      return db;
    } catch (const Xapian::Error& e) {
      if (attempt < kAttempts && stub_text() != before) continue;
      throw read_error("open", e);
    }
  }
}

Error IndexLocation::read_error(const std::string& doing, const Xapian::Error& e) const {
  // Xapian::Error is not polymorphic; NetworkError and NetworkTimeoutError
  // tell themselves by their type names.
  if (std::string_view(e.get_type()).rfind("Network", 0) == 0)
    return Error(Error::Kind::kIo, "cannot " + doing + " the index at '" + dir_ +
                                       "': a remote shard listed in " + stub_path() +
                                       " did not answer (" + e.get_description() +
                                       "); check that its xapian-tcpsrv is running and reachable");
  return Error(Error::Kind::kCorrupt, "cannot " + doing + " the index at '" + dir_ + "' (" +
                                          e.get_description() +
                                          "): rebuild it with `resdex index --rebuild`");
}

}  // namespace resdex
