// DependsOn follows the formulas of projections/report.cc one level down;
// DiffFigures merges the two reports' figure indexes by key.
#include "ledger/audit/figures.h"

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ledger/util/strings.h"

namespace ledger::audit {
namespace {

using projections::Figure;
using projections::QuarterlyReport;

bool SameValue(const Figure* a, const Figure* b) {
  const bool a_has = a != nullptr && a->value.has_value();
  const bool b_has = b != nullptr && b->value.has_value();
  if (a_has != b_has) return false;
  return !a_has || *a->value == *b->value;
}

// The rules of one row: `prefix` is "indicator/IKU-1", "programme/P-1",
// "total", "average", ...; `rest` the figure within the row ("q1/capaian").
void RowDependencies(const QuarterlyReport& report, const std::string& prefix,
                     const std::vector<std::string>& rest, std::vector<std::string>& out) {
  const std::string tail = absl::StrJoin(rest, "/");
  if (tail.ends_with("capaian")) {
    out.push_back(absl::StrCat(prefix, "/", rest[0], "/realization"));
    out.push_back(prefix + "/target");
  } else if (tail == "year_end/realization") {
    for (int q = 1; q <= report.quarter; ++q) out.push_back(absl::StrCat(prefix, "/q", q, "/realization"));
  } else if (tail.ends_with("absorption")) {
    out.push_back(absl::StrCat(prefix, "/", rest[0], "/realized"));
    out.push_back(prefix + "/allocation");
  } else if (tail == "cumulative/realized") {
    for (int q = 1; q <= report.quarter; ++q) out.push_back(absl::StrCat(prefix, "/q", q, "/realized"));
  }
}

}  // namespace

std::string_view CanonicalKey(std::string_view key) {
  const size_t hash = key.find('#');
  return hash == std::string_view::npos ? key : key.substr(0, hash);
}

std::vector<std::string> DependsOn(const QuarterlyReport& report, std::string_view raw_key) {
  const std::string key(CanonicalKey(raw_key));
  std::vector<std::string> parts = absl::StrSplit(key, '/');
  std::vector<std::string> out;
  if (parts.size() < 2) return out;
  const std::string& kind = parts[0];
  if (kind == "indicator" || kind == "programme") {
    if (parts.size() >= 4) {
      RowDependencies(report, absl::StrCat(kind, "/", parts[1]), {parts.begin() + 2, parts.end()}, out);
    }
  } else if (kind == "average" || kind == "total") {
    const std::string tail = absl::StrJoin(parts.begin() + 1, parts.end(), "/");
    if (kind == "total" && tail.ends_with("absorption")) {
      RowDependencies(report, "total", {parts.begin() + 1, parts.end()}, out);
    } else if (kind == "average") {
      for (const auto& row : report.indicators) out.push_back(absl::StrCat("indicator/", row.indicator_id, "/", tail));
    } else {
      for (const auto& row : report.programmes) out.push_back(absl::StrCat("programme/", row.programme_id, "/", tail));
    }
  } else if (kind == "cost_per_outcome" && parts.size() == 3) {
    for (const auto& row : report.cost_per_outcome) {
      if (row.indicator_id != parts[1]) continue;
      if (parts[2] == "absorption") {
        out.push_back(absl::StrCat("cost_per_outcome/", parts[1], "/realized"));
        out.push_back(absl::StrCat("cost_per_outcome/", parts[1], "/budget"));
        break;
      }
      const char* field = parts[2] == "budget" ? "/allocation" : "/cumulative/realized";
      for (const std::string& programme : row.programme_ids) out.push_back(absl::StrCat("programme/", programme, field));
    }
  } else if (kind == "checklist" && parts.size() == 3 && parts[2] == "ratio") {
    out.push_back(absl::StrCat("checklist/", parts[1], "/count"));
  }
  const std::map<std::string, const Figure*> index = projections::IndexFigures(report);
  std::erase_if(out, [&](const std::string& dependency) { return !index.contains(dependency); });
  return out;
}

std::vector<FigureDifference> DiffFigures(const QuarterlyReport& before, const QuarterlyReport& after,
                                          size_t* compared) {
  const std::map<std::string, const Figure*> a = projections::IndexFigures(before);
  const std::map<std::string, const Figure*> b = projections::IndexFigures(after);
  std::map<std::string, FigureDifference> merged;
  for (const auto& [key, figure] : a) merged[key] = {key, figure, nullptr};
  for (const auto& [key, figure] : b) {
    FigureDifference& difference = merged[key];
    difference.key = key;
    difference.after = figure;
  }
  if (compared != nullptr) *compared = merged.size();
  std::vector<FigureDifference> differences;
  for (auto& [key, difference] : merged) {
    if (!SameValue(difference.before, difference.after)) differences.push_back(std::move(difference));
  }
  return differences;
}

}  // namespace ledger::audit
