#include "server/web_params.h"

#include <doctest/doctest.h>

#include <string>

#include "core/error.h"

namespace resdex::web {
namespace {

using Strings = std::vector<std::string>;

// The message of the kUsage error `params` get, or "" if none.
std::string refusal(const Params& params) {
  try {
    search_options(params);
    return "";
  } catch (const Error& e) {
    CHECK(e.kind() == Error::Kind::kUsage);
    return e.what();
  }
}

TEST_CASE("web_params: a full query string becomes search options") {
  SearchOptions o = search_options({{"q", "inverse problems"},
                                    {"institution", "ZIB"},
                                    {"institution", "fu berlin"},
                                    {"area", "Foundations of AI"},
                                    {"type", "group"},
                                    {"limit", "5"},
                                    {"offset", "20"},
                                    {"exact", "1"},
                                    {"submit", "whatever"}});
  CHECK(o.query == "inverse problems");
  CHECK(o.institutions == Strings{"ZIB", "fu berlin"});
  CHECK(o.areas == Strings{"Foundations of AI"});
  CHECK(o.types == Strings{"group"});
  CHECK(o.limit == 5);
  CHECK(o.offset == 20);
  CHECK(o.exact_counts);
}

TEST_CASE("web_params: absent and empty parameters take the defaults of search") {
  SearchOptions o = search_options({});
  CHECK(o.query.empty());
  CHECK(o.institutions.empty());
  CHECK(o.limit == 10);
  CHECK(o.offset == 0);
  CHECK_FALSE(o.exact_counts);
  CHECK_FALSE(search_options({{"exact", "0"}}).exact_counts);
  o = search_options({{"limit", ""}, {"offset", ""}, {"institution", ""}}, 7);
  CHECK(o.limit == 7);
  CHECK(o.offset == 0);
  CHECK(o.institutions.empty());
  o = search_options({{"limit", "0"}, {"offset", "10000"}});
  CHECK(o.limit == 0);
  CHECK(o.offset == kMaxOffset);
}

TEST_CASE("web_params: bad values are refused with a message naming the parameter") {
  struct Case {
    Params params;
    std::string message_part;
  };
  const Case cases[] = {
      {{{"limit", "abc"}}, "parameter 'limit' must be a whole number from 0 to 100, not 'abc'"},
      {{{"limit", "-1"}}, "'limit'"},
      {{{"limit", "1e3"}}, "'limit'"},
      {{{"limit", " 5"}}, "'limit'"},
      {{{"limit", "101"}}, "not 101"},
      {{{"offset", "10001"}}, "'offset' must be a whole number from 0 to 10000"},
      {{{"offset", "99999999999999999999999"}}, "'offset'"},
      {{{"offset", "\xff\x01"}}, "not '?" "?'"},
      {{{"exact", "2"}}, "parameter 'exact' must be a whole number from 0 to 1, not 2"},
      {{{"exact", "yes"}}, "'exact'"},
      {{{"q", "a"}, {"q", "b"}}, "parameter 'q' is given 2 times"},
      {{{"q", "caf\xc3"}}, "parameter 'q' is not valid UTF-8 (at byte 3)"},
      {{{"q", std::string(kMaxQueryParamBytes + 1, 'a')}}, "parameter 'q' is 4097 bytes long"},
      {{{"institution", "\xc0\xaf"}}, "'institution' is not valid UTF-8"},
      {{{"area", std::string(kMaxValueBytes + 1, 'a')}}, "'area' is 1025 bytes long"},
  };
  for (const Case& c : cases) {
    INFO("expected: ", c.message_part);
    std::string message = refusal(c.params);
    CHECK(message.find(c.message_part) != std::string::npos);
  }
  Params many;
  for (size_t i = 0; i <= kMaxFilterValues; ++i) many.emplace("area", "a" + std::to_string(i));
  CHECK(refusal(many).find("'area' is given 21 times") != std::string::npos);
}

TEST_CASE("web_params: a query of kMaxQueryParamBytes is read") {
  CHECK(search_options({{"q", std::string(kMaxQueryParamBytes, 'a')}}).query.size() == kMaxQueryParamBytes);
}

TEST_CASE("web_params: document_id requires one id") {
  CHECK(document_id({{"id", "groups/eigel"}}) == "groups/eigel");
  for (const Params& p : {Params{}, Params{{"id", ""}}, Params{{"id", "a"}, {"id", "b"}},
                          Params{{"id", "\xff"}}, Params{{"id", std::string(2000, 'x')}}}) {
    try {
      document_id(p);
      FAIL("no exception");
    } catch (const Error& e) {
      CHECK(e.kind() == Error::Kind::kUsage);
      CHECK(std::string(e.what()).find("'id'") != std::string::npos);
    }
  }
}

}  // namespace
}  // namespace resdex::web
