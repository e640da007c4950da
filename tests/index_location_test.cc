#include "core/index_location.h"

#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <utility>

#include <xapian.h>

#include "test_support.h"

namespace resdex {
namespace {

using test::TempDir;

TEST_CASE("index_location: the generation a stub names") {
  const IndexLocation loc("/idx");
  CHECK(loc.generation_dir("auto db-3\n") == "/idx/db-3");
  CHECK(loc.generation_dir("auto db-3") == "/idx/db-3");
  CHECK(loc.generation_dir("  glass\tdb-12  \r\n") == "/idx/db-12");
  CHECK(loc.generation_dir("\n\nremote 127.0.0.1:8100\nauto db-7\n") == "/idx/db-7");
  // Not resdex's: another name, another type, nothing.
  CHECK(loc.generation_dir("auto shard-0\nauto shard-1\n") == "");
  CHECK(loc.generation_dir("remote db-3\n") == "");
  CHECK(loc.generation_dir("auto\n") == "");
  CHECK(loc.generation_dir("") == "");
}

TEST_CASE("index_location: the stub's text, whole, and none without a stub") {
  TempDir tmp;
  const IndexLocation loc(tmp.path());
  CHECK(loc.stub_text() == "");
  CHECK(loc.current() == "");
  std::string long_stub;
  for (int i = 0; i < 500; ++i) long_stub += "remote host" + std::to_string(i) + ":8100\n";
  long_stub += "auto db-2\n";  // past the first read's 4 KB
  std::ofstream(loc.stub_path(), std::ios::binary) << long_stub;
  CHECK(loc.stub_text() == long_stub);
  CHECK(loc.current() == tmp.path() + "/db-2");
}

TEST_CASE("index_location: open_reader opens the databases the stub names, the sole generation directly") {
  TempDir tmp;
  const IndexLocation loc(tmp.path());
  for (const char* gen : {"db-1", "db-2"}) {
    Xapian::WritableDatabase db(tmp.path() + "/" + gen, Xapian::DB_CREATE_OR_OPEN | Xapian::DB_BACKEND_GLASS);
    Xapian::Document doc;
    doc.add_term(std::string("Q") + gen);
    db.add_document(doc);
    db.commit();
  }
  // One generation (with the blank lines and spaces a hand-edited stub
  // may have), then two: the second one is read too.
  for (const auto& [stub, databases] : {std::pair<std::string, size_t>{"auto db-2\n", 1},
                                        std::pair<std::string, size_t>{"\n  auto   db-2 \n\n", 1},
                                        std::pair<std::string, size_t>{"auto db-1\nauto db-2\n", 2}}) {
    CAPTURE(stub);
    std::ofstream(loc.stub_path(), std::ios::binary | std::ios::trunc) << stub;
    std::string read;
    const Xapian::Database db = loc.open_reader(&read);
    CHECK(read == stub);
    CHECK(db.size() == databases);
    CHECK(db.get_doccount() == databases);
    CHECK(db.term_exists("Qdb-2"));
    CHECK(db.term_exists("Qdb-1") == (databases == 2));
  }
}

}  // namespace
}  // namespace resdex
