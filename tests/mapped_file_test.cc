#include "core/mapped_file.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "test_support.h"

namespace resdex {
namespace {

using test::TempDir;

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

TEST_CASE("mapped_file: a file's bytes, binary ones included") {
  TempDir tmp;
  std::string bytes = "dictionary";
  bytes += std::string("\0\xff\x01", 3);
  bytes += std::string(20000, 'x');  // more than a page
  write_file(tmp.sub("f"), bytes);
  auto file = MappedFile::open(tmp.sub("f"));
  REQUIRE(file);
  CHECK(file->bytes() == bytes);
}

TEST_CASE("mapped_file: no file where there is nothing to map") {
  TempDir tmp;
  CHECK_FALSE(MappedFile::open(tmp.sub("missing")));
  CHECK_FALSE(MappedFile::open(tmp.path()));  // a directory
  write_file(tmp.sub("empty"), "");
  CHECK_FALSE(MappedFile::open(tmp.sub("empty")));
}

TEST_CASE("mapped_file: a mapping keeps showing the file it mapped after another is renamed over it") {
  TempDir tmp;
  write_file(tmp.sub("f"), "old bytes");
  auto file = MappedFile::open(tmp.sub("f"));
  REQUIRE(file);
  write_file(tmp.sub("f.tmp"), "new bytes, longer");
  std::filesystem::rename(tmp.sub("f.tmp"), tmp.sub("f"));
  CHECK(file->bytes() == "old bytes");
  CHECK(MappedFile::open(tmp.sub("f"))->bytes() == "new bytes, longer");
  std::filesystem::remove(tmp.sub("f"));
  CHECK(file->bytes() == "old bytes");
}

}  // namespace
}  // namespace resdex
