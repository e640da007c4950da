// libFuzzer target: one Markdown file with YAML front matter, as arbitrary
// bytes. parse_markdown_document must accept or reject it (never crash or
// throw), and markdown_to_text must turn any body into text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/document.h"
#include "core/front_matter.h"
#include "core/text_normalizer.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const resdex::TextNormalizer& norm = resdex::fuzz::normalizer();

  resdex::Document doc;
  resdex::ReadError err;
  if (resdex::parse_markdown_document(input, norm, &doc, &err)) {
    // An accepted file has what the index needs, and valid UTF-8 text
    // (the input was checked to be valid UTF-8 before parsing).
    FUZZ_CHECK(!doc.name.empty());
    FUZZ_CHECK(!doc.type.empty());
    FUZZ_CHECK(resdex::is_valid_utf8(doc.text));
    FUZZ_CHECK(resdex::is_valid_utf8(doc.name));
  } else {
    FUZZ_CHECK(!err.reason.empty());
    FUZZ_CHECK(err.line >= 1);
  }

  const std::string text = resdex::markdown_to_text(input);
  // Markdown markup is only ever removed from valid UTF-8 text, and entity
  // references decode to valid UTF-8, so valid input gives valid output.
  if (resdex::is_valid_utf8(input)) FUZZ_CHECK(resdex::is_valid_utf8(text));
  return 0;
}
