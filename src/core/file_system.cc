#include "core/file_system.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

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

}  // namespace

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
