#include "core/file_system.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sstream>

#include <zlib.h>

#include "core/error.h"

namespace fs = std::filesystem;

namespace resdex {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string strip_slash(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

// Reads through zlib, which passes uncompressed files through unchanged.
class GzLineReader : public LineReader {
 public:
  GzLineReader(gzFile file, std::string path, off_t size)
      : file_(file), path_(std::move(path)), size_(size) {
    gzbuffer(file_, 1 << 17);
  }

  double fraction() const override {
    if (size_ <= 0) return -1;
    z_off_t at = gzoffset(file_);
    return at < 0 ? -1 : std::min(1.0, static_cast<double>(at) / static_cast<double>(size_));
  }
  ~GzLineReader() override { gzclose(file_); }

  bool next(std::string* line) override {
    line->clear();
    while (true) {
      size_t nl = buf_.find('\n', pos_);
      if (nl != std::string::npos) {
        line->assign(buf_, pos_, nl - pos_);
        pos_ = nl + 1;
        return true;
      }
      if (eof_) {
        if (pos_ >= buf_.size()) return false;
        line->assign(buf_, pos_, std::string::npos);
        pos_ = buf_.size();
        return true;
      }
      buf_.erase(0, pos_);
      pos_ = 0;
      size_t old = buf_.size();
      buf_.resize(old + kChunk);
      int n = gzread(file_, buf_.data() + old, kChunk);
      if (n < 0) {
        int errnum = 0;
        const char* msg = gzerror(file_, &errnum);
        throw Error(Error::Kind::kIo, "cannot read '" + path_ + "': " +
                                          (errnum == Z_ERRNO ? std::strerror(errno) : msg));
      }
      buf_.resize(old + static_cast<size_t>(n));
      if (n == 0) eof_ = true;
    }
  }

 private:
  static constexpr unsigned kChunk = 1 << 17;
  gzFile file_;
  std::string path_;
  off_t size_;
  std::string buf_;
  size_t pos_ = 0;
  bool eof_ = false;
};

class StringLineReader : public LineReader {
 public:
  explicit StringLineReader(std::string text) : text_(std::move(text)) {}
  bool next(std::string* line) override {
    if (pos_ >= text_.size()) return false;
    size_t nl = text_.find('\n', pos_);
    if (nl == std::string::npos) nl = text_.size();
    line->assign(text_, pos_, nl - pos_);
    pos_ = nl + 1;
    return true;
  }

 private:
  std::string text_;
  size_t pos_ = 0;
};

}  // namespace

std::unique_ptr<LineReader> DiskFileSystem::open_lines(const std::string& path) const {
  int fd = path == "-" ? ::dup(0) : ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw Error(Error::Kind::kIo, "cannot open '" + path + "': " + std::strerror(errno));
  struct stat st {};
  off_t size = path != "-" && ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? st.st_size : 0;
  gzFile f = gzdopen(fd, "rb");
  if (!f) {
    ::close(fd);
    throw Error(Error::Kind::kIo, "cannot open '" + path + "': " + std::strerror(errno));
  }
  return std::make_unique<GzLineReader>(f, path, size);
}

std::unique_ptr<LineReader> MemoryFileSystem::open_lines(const std::string& path) const {
  auto it = files_.find(path);
  if (it == files_.end()) throw Error(Error::Kind::kIo, "cannot open '" + path + "': No such file or directory");
  return std::make_unique<StringLineReader>(it->second);
}

FileSystem::Kind DiskFileSystem::stat(const std::string& path) const {
  std::error_code ec;
  auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return Kind::kMissing;
  return fs::is_directory(st) ? Kind::kDirectory : Kind::kFile;
}

std::vector<std::string> DiskFileSystem::list_files(const std::string& dir,
                                                    const std::string& suffix) const {
  std::vector<std::string> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec) && ends_with(name, suffix)) out.push_back(it->path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string DiskFileSystem::read_file(const std::string& path, std::string* contents) const {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::strerror(errno);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return "read error";
  *contents = std::move(ss).str();
  return "";
}

FileSystem::Kind MemoryFileSystem::stat(const std::string& path) const {
  std::string p = strip_slash(path);
  if (files_.count(p)) return Kind::kFile;
  auto it = files_.lower_bound(p + "/");
  if (it != files_.end() && it->first.compare(0, p.size() + 1, p + "/") == 0)
    return Kind::kDirectory;
  return Kind::kMissing;
}

std::vector<std::string> MemoryFileSystem::list_files(const std::string& dir,
                                                      const std::string& suffix) const {
  std::string p = strip_slash(dir) + "/";
  std::vector<std::string> out;
  for (auto it = files_.lower_bound(p); it != files_.end(); ++it) {
    if (it->first.compare(0, p.size(), p) != 0) break;
    std::string rel = it->first.substr(p.size());
    if (rel.empty() || rel[0] == '.' || rel.find("/.") != std::string::npos) continue;
    if (ends_with(it->first, suffix)) out.push_back(it->first);
  }
  return out;
}

std::string MemoryFileSystem::read_file(const std::string& path, std::string* contents) const {
  auto it = files_.find(path);
  if (it == files_.end()) return "No such file or directory";
  *contents = it->second;
  return "";
}

}  // namespace resdex
