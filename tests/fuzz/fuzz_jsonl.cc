// libFuzzer target: JSONL corpus lines. The input is parsed as one record,
// and then scanned as a whole .jsonl file (one record a line) the way the
// indexer reads a corpus.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/corpus_reader.h"
#include "core/document.h"
#include "core/file_system.h"
#include "core/jsonl_record.h"
#include "core/text_normalizer.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const resdex::TextNormalizer& norm = resdex::fuzz::normalizer();

  // One line.
  resdex::Document doc;
  resdex::ReadError err;
  if (resdex::parse_jsonl_record(input, norm, &doc, &err)) {
    FUZZ_CHECK(!doc.id.empty());
    FUZZ_CHECK(!doc.type.empty());
    // What parse accepts, jsonl_record_id reads the same id from.
    FUZZ_CHECK(resdex::jsonl_record_id(input) == doc.id);
  } else {
    FUZZ_CHECK(!err.reason.empty());
    (void)resdex::jsonl_record_id(input);
  }

  // A whole file of lines.
  resdex::MemoryFileSystem fs;
  fs.write("corpus/fuzz.jsonl", input);
  resdex::CorpusReader reader(fs, norm);
  size_t entries = 0, errors = 0;
  reader.scan(
      {"corpus/fuzz.jsonl"},
      [&](resdex::SourceEntry&& entry) {
        ++entries;
        FUZZ_CHECK(entry.format == resdex::SourceEntry::Format::kJsonl);
        FUZZ_CHECK(!entry.id.empty());
        FUZZ_CHECK(entry.line >= 1);
        FUZZ_CHECK(entry.hash == resdex::CorpusReader::hash(entry.contents));
        resdex::Document d;
        resdex::ReadError e;
        if (reader.parse(entry, &d, &e)) {
          FUZZ_CHECK(d.id == entry.id);
        } else {
          FUZZ_CHECK(!e.reason.empty());
          FUZZ_CHECK(e.line == entry.line);
        }
      },
      [&](const std::string&, resdex::ReadError&& e) {
        ++errors;
        FUZZ_CHECK(!e.reason.empty());
        FUZZ_CHECK(e.line >= 1);
      });
  // No more sources than lines.
  size_t lines = 1;
  for (char c : input) lines += c == '\n';
  FUZZ_CHECK(entries + errors <= lines);
  return 0;
}
