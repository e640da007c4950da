// libFuzzer target: the input is a document's stored data, as an index
// (possibly a damaged one) holds it. Decoding it with no dictionary, a
// dictionary of plain JSON or a trained one never crashes and throws
// nothing but Error(kCorrupt); inputs in a compressed format are tried
// with the codec's own dictionary id too, so that the mutations reach the
// zstd and deflate decoders. The input read as a document's text
// round-trips through each codec.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/document_builder.h"
#include "core/error.h"
#include "fuzz_support.h"

namespace {

resdex::Document record(int i) {
  static const char* const kWords[] = {"neural", "translation", "parsing", "corpus", "the", "of",
                                       "language", "model", "we", "present", "results", "Müller"};
  resdex::Document d;
  d.id = "doc-" + std::to_string(i);
  d.type = "abstract";
  d.name = "Ada Lovelace";
  d.title = std::string(kWords[i % 12]) + " " + kWords[(i * 7) % 12];
  d.year = 2000 + i % 20;
  d.path = "corpus.jsonl";
  for (int w = 0; w < 40 + i % 13; ++w) d.text += std::string(w ? " " : "") + kWords[(i * 31 + w * w) % 12];
  return d;
}

struct Codecs {
  resdex::DataCodec plain;
  resdex::DataCodec raw{resdex::DataCodec::make_dictionary({record(1), record(2)})};
  resdex::DataCodec trained{resdex::DataCodec::make_dictionary([] {
    std::vector<resdex::Document> sample;
    for (int i = 0; i < 50; ++i) sample.push_back(record(i));
    return sample;
  }())};
};

const Codecs& codecs() {
  static const Codecs c;
  return c;
}

void decode(const resdex::DataCodec& codec, const std::string& data) {
  try {
    codec.decode(data);
  } catch (const resdex::Error& e) {
    FUZZ_CHECK(e.kind() == resdex::Error::Kind::kCorrupt);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  const std::string data(reinterpret_cast<const char*>(bytes), size);
  const Codecs& c = codecs();
  for (const resdex::DataCodec* codec : {&c.plain, &c.raw, &c.trained}) {
    decode(*codec, data);
    if (size >= 5 && (data[0] == '\x01' || data[0] == '\x02')) {
      std::string own = data;
      const std::string sample = codec->encode(record(0));
      if (sample[0] == '\x02') own.replace(1, 4, sample, 1, 4);  // the codec's dictionary id
      decode(*codec, own);
    }
    resdex::Document doc = record(3);
    doc.text = data;
    const resdex::Document expected = resdex::decode_data(resdex::encode_data(doc));
    FUZZ_CHECK(codec->decode(codec->encode(doc)).text == expected.text);
  }
  return 0;
}
