#include "core/facets.h"

#include <algorithm>
#include <map>

namespace resdex {

FacetCounter::FacetCounter(const schema::Facet& facet)
    : facet_(facet), spy_(new Xapian::ValueCountMatchSpy(facet.slot)) {}

FacetCounts FacetCounter::counts() const {
  std::vector<std::pair<std::string, size_t>> lists;
  for (auto it = spy_->values_begin(); it != spy_->values_end(); ++it)
    lists.emplace_back(*it, it.get_termfreq());
  return FacetCounts{facet_.name, split_list_counts(lists)};
}

std::vector<FacetCount> split_list_counts(
    const std::vector<std::pair<std::string, size_t>>& list_counts) {
  std::map<std::string, size_t> sums;
  for (const auto& [encoded, count] : list_counts) {
    std::vector<std::string> values = schema::decode_list(encoded);
    // A value listed twice in one document still counts that document once.
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    for (std::string& v : values)
      if (!v.empty()) sums[std::move(v)] += count;
  }
  std::vector<FacetCount> out;
  out.reserve(sums.size());
  for (auto& [value, count] : sums) out.push_back({value, count});
  std::stable_sort(out.begin(), out.end(),
                   [](const FacetCount& a, const FacetCount& b) { return a.count > b.count; });
  return out;
}

}  // namespace resdex
