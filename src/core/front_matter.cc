#include "core/front_matter.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstring>

#include <md4c.h>
#include <yaml-cpp/yaml.h>

#include "core/error.h"
#include "core/schema.h"
#include "core/text_normalizer.h"

namespace resdex {

namespace {

int line_of_offset(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + offset, '\n'));
}

bool is_fence(std::string_view line, bool closing) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
    line.remove_suffix(1);
  return line == "---" || (closing && line == "...");
}

bool fail(ReadError* err, int line, std::string reason) {
  err->line = line;
  err->reason = std::move(reason);
  return false;
}

// A YAML node's line in the file: yaml-cpp counts from 0 within the front
// matter, which starts on the file's second line.
int file_line(const YAML::Node& node) { return node.Mark().line + 2; }

bool read_scalar(const YAML::Node& root, const char* key, std::string* out, ReadError* err) {
  const YAML::Node node = root[key];
  if (!node || node.IsNull()) return true;
  if (!node.IsScalar())
    return fail(err, file_line(node), std::string("'") + key + "' must be a single value");
  *out = node.Scalar();
  return true;
}

bool read_list(const YAML::Node& root, const char* key, std::vector<std::string>* out,
               ReadError* err) {
  const YAML::Node node = root[key];
  if (!node || node.IsNull()) return true;
  if (node.IsScalar()) {
    if (!node.Scalar().empty()) out->push_back(node.Scalar());
    return true;
  }
  if (!node.IsSequence())
    return fail(err, file_line(node), std::string("'") + key + "' must be a list of names");
  for (const YAML::Node& item : node) {
    if (!item.IsScalar())
      return fail(err, file_line(item), std::string("'") + key + "' must be a list of names");
    if (!item.Scalar().empty()) out->push_back(item.Scalar());
  }
  return true;
}

struct TextSink {
  std::string out;
  int link_depth = 0;
  void separate() {
    while (!out.empty() && (out.back() == ' ' || out.back() == '\n')) out.pop_back();
    if (!out.empty()) out += "\n\n";
  }
};

int md_enter_block(MD_BLOCKTYPE, void*, void*) { return 0; }
int md_leave_block(MD_BLOCKTYPE type, void*, void* user) {
  auto* sink = static_cast<TextSink*>(user);
  if (type != MD_BLOCK_DOC && type != MD_BLOCK_UL && type != MD_BLOCK_OL) sink->separate();
  return 0;
}
int md_enter_span(MD_SPANTYPE, void*, void*) { return 0; }
int md_leave_span(MD_SPANTYPE, void*, void*) { return 0; }

std::string decode_entity(std::string_view entity) {
  static const std::pair<const char*, const char*> named[] = {
      {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"},
      {"&nbsp;", " "}, {"&ndash;", "\u2013"}, {"&mdash;", "\u2014"}};
  for (auto& [from, to] : named)
    if (entity == from) return to;
  if (entity.size() > 3 && entity[1] == '#') {
    unsigned long cp = 0;
    try {
      cp = (entity[2] == 'x' || entity[2] == 'X')
               ? std::stoul(std::string(entity.substr(3)), nullptr, 16)
               : std::stoul(std::string(entity.substr(2)), nullptr, 10);
    } catch (...) {
      return std::string(entity);
    }
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return "\xEF\xBF\xBD";
    return utf8_encode(static_cast<char32_t>(cp));
  }
  return std::string(entity);
}

int md_text(MD_TEXTTYPE type, const MD_CHAR* text, MD_SIZE size, void* user) {
  auto* sink = static_cast<TextSink*>(user);
  std::string_view t(text, size);
  switch (type) {
    case MD_TEXT_NULLCHAR:
      sink->out += "\xEF\xBF\xBD";
      break;
    case MD_TEXT_BR:
    case MD_TEXT_SOFTBR:
      sink->out += ' ';
      break;
    case MD_TEXT_ENTITY:
      sink->out += decode_entity(t);
      break;
    default:
      sink->out.append(t);
  }
  return 0;
}

// md4c's parser, loaded with the first Markdown document rather than at
// start-up: a library linked to the program is loaded by every resdex
// process, which cost a one-query search ~0.035 ms (docs/performance.md),
// and only an index run over Markdown parses Markdown. The library is
// Debian's libmd4c0, whose soname carries md4c's ABI version.
using MdParse = int (*)(const MD_CHAR*, MD_SIZE, const MD_PARSER*, void*);

MdParse load_md_parse() {
  constexpr const char* kLibrary = "libmd4c.so.0";
  void* lib = ::dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* why = ::dlerror();
    throw Error(Error::Kind::kIo, std::string("cannot load the Markdown library ") + kLibrary + " (" +
                                      (why ? why : "unknown reason") + "): install the package libmd4c0");
  }
  void* fn = ::dlsym(lib, "md_parse");
  if (!fn) throw Error(Error::Kind::kIo, std::string(kLibrary) + " has no md_parse: install the package libmd4c0");
  return reinterpret_cast<MdParse>(fn);
}

}  // namespace

std::string markdown_to_text(std::string_view markdown) {
  // Loaded once (a failure is tried again on the next document).
  static const MdParse md_parse = load_md_parse();
  MD_PARSER parser{};
  parser.flags = MD_FLAG_NOHTML | MD_FLAG_TABLES | MD_FLAG_STRIKETHROUGH;
  parser.enter_block = md_enter_block;
  parser.leave_block = md_leave_block;
  parser.enter_span = md_enter_span;
  parser.leave_span = md_leave_span;
  parser.text = md_text;
  TextSink sink;
  if (md_parse(markdown.data(), static_cast<MD_SIZE>(markdown.size()), &parser, &sink) != 0)
    return std::string(markdown);
  sink.separate();
  while (!sink.out.empty() && sink.out.back() == '\n') sink.out.pop_back();
  return sink.out;
}

bool parse_markdown_document(std::string_view contents, const TextNormalizer& norm,
                             Document* doc, ReadError* err) {
  if (contents.empty()) return fail(err, 1, "empty file");
  if (size_t nul = contents.find('\0'); nul != std::string_view::npos)
    return fail(err, line_of_offset(contents, nul),
                "binary file (NUL byte at offset " + std::to_string(nul) + ")");
  size_t bad = 0;
  if (!is_valid_utf8(contents, &bad))
    return fail(err, line_of_offset(contents, bad),
                "invalid UTF-8 at byte offset " + std::to_string(bad));

  std::string_view rest = contents;
  if (rest.substr(0, 3) == "\xEF\xBB\xBF") rest.remove_prefix(3);  // BOM
  size_t eol = rest.find('\n');
  if (!is_fence(rest.substr(0, eol), false))
    return fail(err, 1, "no front matter: the file must start with a '---' line");
  if (eol == std::string_view::npos)
    return fail(err, 1, "front matter is not closed: no '---' line after line 1");

  // Find the closing fence.
  size_t yaml_begin = eol + 1, pos = yaml_begin, yaml_end = std::string_view::npos, body_begin = 0;
  while (pos <= rest.size()) {
    size_t next = rest.find('\n', pos);
    std::string_view line = rest.substr(pos, next == std::string_view::npos ? rest.size() - pos
                                                                            : next - pos);
    if (is_fence(line, true)) {
      yaml_end = pos;
      body_begin = next == std::string_view::npos ? rest.size() : next + 1;
      break;
    }
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  if (yaml_end == std::string_view::npos)
    return fail(err, 1, "front matter is not closed: no '---' line after line 1");

  std::string yaml(rest.substr(yaml_begin, yaml_end - yaml_begin));
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return fail(err, e.mark.line >= 0 ? e.mark.line + 2 : 1,
                "malformed front matter: " + e.msg);
  }
  if (!root.IsMap()) return fail(err, 2, "front matter is not a list of 'key: value' lines");

  Document d;
  std::vector<std::string> raw_institutions;
  try {
    if (!read_scalar(root, "type", &d.type, err) || !read_scalar(root, "name", &d.name, err) ||
        !read_scalar(root, "title", &d.title, err) ||
        !read_scalar(root, "department", &d.department, err) ||
        !read_list(root, "institutions", &raw_institutions, err) ||
        !read_list(root, "areas", &d.areas, err))
      return false;
  } catch (const YAML::Exception& e) {
    return fail(err, e.mark.line >= 0 ? e.mark.line + 2 : 1, "malformed front matter: " + e.msg);
  }
  if (d.name.empty()) return fail(err, 1, "missing 'name' in front matter");
  if (d.type.empty()) return fail(err, 1, "missing 'type' in front matter");
  if (!schema::is_known_type(d.type)) {
    std::string known;
    for (const char* t : schema::kTypes) known += (known.empty() ? "" : ", ") + std::string(t);
    return fail(err, file_line(root["type"]),
                "unknown type '" + d.type + "' (expected one of " + known + ")");
  }
  if (d.type == "group") {
    if (d.title.empty()) return fail(err, 1, "missing 'title' in front matter (required for a group)");
    if (raw_institutions.empty())
      return fail(err, 1, "missing 'institutions' in front matter (required for a group)");
  }
  for (const std::string& inst : raw_institutions) {
    std::string canonical = schema::canonical_institution(inst, norm);
    if (std::find(d.institutions.begin(), d.institutions.end(), canonical) == d.institutions.end())
      d.institutions.push_back(std::move(canonical));
  }
  d.text = markdown_to_text(rest.substr(body_begin));
  doc->type = std::move(d.type);
  doc->name = std::move(d.name);
  doc->title = std::move(d.title);
  doc->institutions = std::move(d.institutions);
  doc->department = std::move(d.department);
  doc->areas = std::move(d.areas);
  doc->text = std::move(d.text);
  return true;
}

}  // namespace resdex
