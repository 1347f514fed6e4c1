// Rendering of the report and the reconciliation (see report_text.h).
#include "clients/ledgerctl/report_text.h"

#include <algorithm>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/ledgerctl/format.h"

namespace ledgerctl {
namespace {

namespace pb = ::sakip::v1;

constexpr size_t kNameChars = 44;  // long names are cut to this many characters

size_t DisplayWidth(const std::string& text) {
  size_t width = 0;
  for (char c : text) width += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return width;
}

std::string Pad(const std::string& text, size_t width, bool right) {
  std::string padding(width - std::min(width, DisplayWidth(text)), ' ');
  return right ? padding + text : text + padding;
}

// A count ("12,00" -> "12").
std::string CountCell(const pb::Figure& figure) {
  std::string text = Cell(figure);
  return text.size() > 3 && text.compare(text.size() - 3, 3, ",00") == 0
             ? text.substr(0, text.size() - 3)
             : text;
}

std::string DispositionName(int option) {
  switch (option) {
    case pb::LAPORAN_KURANG_BAIK: return "Laporan kurang baik";
    case pb::LAPORAN_SUDAH_BAIK: return "Laporan sudah baik";
    case pb::LAPORAN_DIPERBAIKI: return "Laporan diperbaiki";
    case pb::TARGET_DAN_REALISASI_DITELITI_ULANG: return "Target dan realisasi diteliti ulang";
    case pb::CAPAIAN_DITELITI_ULANG: return "Capaian diteliti ulang";
    case pb::LAIN_LAIN: return "Lain-lain";
    default: return absl::StrCat("opsi ", option);
  }
}

std::vector<std::string> QuarterHeaders(const std::string& first, const std::string& second) {
  std::vector<std::string> headers;
  for (int quarter = 1; quarter <= 4; ++quarter) {
    headers.push_back(absl::StrCat(first, " ", QuarterName(quarter)));
    headers.push_back(second);
  }
  return headers;
}

void AppendCells(std::vector<std::string>& row, const google::protobuf::RepeatedPtrField<pb::QuarterFigures>& quarters) {
  for (const pb::QuarterFigures& quarter : quarters) {
    row.push_back(Cell(quarter.realization()));
    row.push_back(Cell(quarter.capaian()));
  }
}

std::string PengukuranKinerja(const pb::Report& report) {
  std::vector<std::string> headers = {"No", "Indikator Kinerja", "Satuan", "Target"};
  for (std::string& header : QuarterHeaders("Real.", "Capaian %")) headers.push_back(header);
  for (const char* header : {"Real. Akhir Tahun", "Capaian %", "Predikat"}) headers.push_back(header);
  TextTable table(headers, {true, false, false, true, true, true, true, true, true, true, true,
                            true, true, true, false});
  for (const pb::IndicatorRow& row : report.indicators()) {
    std::vector<std::string> cells = {std::to_string(row.number()), Truncate(row.name(), kNameChars),
                                      row.unit(), Cell(row.target())};
    AppendCells(cells, row.quarters());
    for (std::string cell : {Cell(row.year_end_realization()), Cell(row.year_end_capaian()),
                             row.predicate().empty() ? std::string("-") : row.predicate()}) {
      cells.push_back(cell);
    }
    table.AddRow(cells);
  }
  table.AddSeparator();
  const pb::AverageRow& average = report.average();
  std::vector<std::string> cells = {"", "Capaian Rata-Rata", "", Cell(average.target())};
  AppendCells(cells, average.quarters());
  cells.push_back(Cell(average.year_end_realization()));
  cells.push_back(Cell(average.year_end_capaian()));
  cells.push_back("");
  table.AddRow(cells);
  std::string text = "PENGUKURAN KINERJA\n" + table.Render();
  for (int quarter = 1; quarter <= average.not_reported_size(); ++quarter) {
    const auto& ids = average.not_reported(quarter - 1).indicator_ids();
    if (ids.empty() || quarter > report.quarter()) continue;
    text += absl::StrCat("  * ", QuarterName(quarter), ": tidak dilaporkan (dihitung 0): ",
                         absl::StrJoin(ids, ", "), "\n");
  }
  return text;
}

std::vector<std::string> BudgetCells(const pb::BudgetRow& row, const std::string& number,
                                     const std::string& name) {
  std::vector<std::string> cells = {number, Truncate(name, kNameChars), Cell(row.allocation())};
  for (int quarter = 0; quarter < row.realized_size(); ++quarter) {
    cells.push_back(Cell(row.realized(quarter)));
    cells.push_back(Cell(row.absorption(quarter)));
  }
  cells.push_back(Cell(row.cumulative_realized()));
  cells.push_back(Cell(row.cumulative_absorption()));
  return cells;
}

std::string Anggaran(const pb::Report& report) {
  std::vector<std::string> headers = {"No", "Program", "Anggaran (Rp)"};
  for (std::string& header : QuarterHeaders("Real.", "%")) headers.push_back(header);
  headers.push_back(absl::StrCat("Real. s.d. ", QuarterName(report.quarter())));
  headers.push_back("%");
  std::vector<bool> right(headers.size(), true);
  right[1] = false;
  TextTable table(headers, right);
  for (const pb::BudgetRow& row : report.programmes()) {
    table.AddRow(BudgetCells(row, std::to_string(row.number()), row.name()));
  }
  table.AddSeparator();
  table.AddRow(BudgetCells(report.total(), "", "JUMLAH"));
  return "REALISASI ANGGARAN PER PROGRAM\n" + table.Render();
}

std::string CostPerOutcome(const pb::Report& report) {
  TextTable table({"No", "Indikator", "Program", "Anggaran (Rp)", "Realisasi (Rp)", "%", "Target",
                   "Realisasi", "Capaian %"},
                  {true, false, false, true, true, true, true, true, true});
  for (const pb::CostPerOutcomeRow& row : report.cost_per_outcome()) {
    table.AddRow({std::to_string(row.number()), Truncate(row.indicator_name(), kNameChars),
                  absl::StrJoin(row.programme_ids(), ","), Cell(row.budget()), Cell(row.realized()),
                  Cell(row.absorption()), Cell(row.target()), Cell(row.realization()),
                  Cell(row.capaian())});
  }
  return "COST PER OUTCOME\n" + table.Render();
}

std::string Checklist(const pb::Report& report) {
  TextTable table({"No", "Kegiatan", "Desa", "Rasio", "Keterangan"},
                  {true, false, true, true, false});
  for (const pb::ChecklistRow& row : report.checklist()) {
    table.AddRow({std::to_string(row.number()), Truncate(row.name(), kNameChars),
                  absl::StrCat(CountCell(row.count()), "/", row.villages_size()), Cell(row.ratio()),
                  Truncate(row.remark(), kNameChars)});
  }
  return absl::StrCat("BINWAS / FASILITASI DESA (desa yang sudah s.d. ",
                      QuarterName(report.quarter()), ")\n", table.Render());
}

std::string Dispositions(const pb::Report& report) {
  std::string text = "TANGGAPAN ATASAN LANGSUNG\n";
  if (report.reports().empty()) return text + "  (belum ada laporan yang disampaikan)\n";
  for (const pb::ReportStatus& status : report.reports()) {
    absl::StrAppend(&text, "  ", status.report_id(), " (", QuarterName(status.quarter()),
                    ", ditandatangani ", status.signed_on(), "): ");
    if (!status.disposed()) {
      absl::StrAppend(&text, "belum ditanggapi\n");
      continue;
    }
    std::vector<std::string> options;
    for (int option : status.options()) options.push_back(DispositionName(option));
    absl::StrAppend(&text, "ditanggapi oleh ", status.supervisor_name(), ": ",
                    absl::StrJoin(options, "; "));
    if (!status.note().empty()) absl::StrAppend(&text, " (catatan: ", status.note(), ")");
    text += "\n";
  }
  return text;
}

}  // namespace

TextTable::TextTable(std::vector<std::string> headers, std::vector<bool> right_aligned)
    : headers_(std::move(headers)), right_aligned_(std::move(right_aligned)) {}

void TextTable::AddRow(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

void TextTable::AddSeparator() { rows_.emplace_back(); }

std::string TextTable::Render(const std::string& indent) const {
  std::vector<size_t> widths;
  for (const std::string& header : headers_) widths.push_back(DisplayWidth(header));
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], DisplayWidth(row[i]));
  }
  size_t total = 0;
  for (size_t width : widths) total += width + 2;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text = indent;
    for (size_t i = 0; i < cells.size(); ++i) {
      bool right = i < right_aligned_.size() && right_aligned_[i];
      text += Pad(cells[i], widths[i], right) + (i + 1 < cells.size() ? "  " : "");
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    return text + "\n";
  };
  std::string rule = indent + std::string(total > 2 ? total - 2 : 0, '-') + "\n";
  std::string text = line(headers_) + rule;
  for (const auto& row : rows_) text += row.empty() ? rule : line(row);
  return text;
}

std::string QuarterName(int quarter) {
  static const char* const kNames[] = {"TW I", "TW II", "TW III", "TW IV"};
  return quarter >= 1 && quarter <= 4 ? kNames[quarter - 1] : absl::StrCat("TW ", quarter);
}

std::string Cell(const pb::Figure& figure) {
  return figure.present() ? figure.indonesian() : "-";
}

std::string IndonesianNumber(const std::string& plain) {
  const size_t sign = !plain.empty() && plain[0] == '-' ? 1 : 0;
  const size_t dot = plain.find('.');
  const size_t integer_end = dot == std::string::npos ? plain.size() : dot;
  if (integer_end == sign || integer_end - sign > 40) return plain;
  for (size_t i = sign; i < plain.size(); ++i) {
    if (i != dot && (plain[i] < '0' || plain[i] > '9')) return plain;
  }
  if (dot != std::string::npos && dot + 1 == plain.size()) return plain;
  std::string out = plain.substr(0, sign);
  for (size_t i = sign; i < integer_end; ++i) {
    if (i > sign && (integer_end - i) % 3 == 0) out += '.';
    out += plain[i];
  }
  if (dot != std::string::npos) out += "," + plain.substr(dot + 1);
  return out;
}

std::string ReportText(const pb::GetReportResponse& response) {
  const pb::Report& report = response.report();
  std::string text = absl::StrCat(
      "LAPORAN KINERJA TRIWULAN ", report.quarter(), " (", QuarterName(report.quarter()),
      ") TAHUN ", report.fiscal_year(), "\n", report.unit_name(), " (", report.unit_code(),
      "), per posisi ", response.as_of_position(),
      report.capaian_capped() ? "; capaian dibatasi 100%" : "", "\n\n");
  for (const std::string& section : {PengukuranKinerja(report), Anggaran(report),
                                     CostPerOutcome(report), Checklist(report),
                                     Dispositions(report)}) {
    text += section + "\n";
  }
  text.pop_back();
  return text;
}

std::string ReconciliationText(const pb::ReconcileResponse& response) {
  std::string text = absl::StrCat(
      "Rekonsiliasi ", response.report_id(), " (", QuarterName(response.quarter()),
      "), dihitung ulang per posisi ", response.as_of_position(), ": ",
      response.figures_checked(), " angka diperiksa, ", response.figures_agreeing(), " sesuai, ",
      response.discrepancies_size(), " selisih\n");
  int number = 0;
  for (const pb::Discrepancy& d : response.discrepancies()) {
    std::string kind = d.kind() == pb::Discrepancy::KIND_DIFFERS       ? "berbeda"
                       : d.kind() == pb::Discrepancy::KIND_UNKNOWN_KEY ? "kunci tidak dikenal"
                                                                       : "tidak dapat dihitung";
    absl::StrAppend(&text, "\n", ++number, ". ", d.key(), ": ", kind, "\n     dilaporkan ",
                    d.declared(), ", dihitung ulang ",
                    d.recomputed_rounded().empty() ? "-" : d.recomputed_rounded());
    if (!d.recomputed_exact().empty()) absl::StrAppend(&text, " (tepat ", d.recomputed_text(), ")");
    absl::StrAppend(&text, "\n     rumus: ", d.formula(), "\n");
    if (!d.event_ids().empty()) {
      absl::StrAppend(&text, "     event: ", absl::StrJoin(d.event_ids(), ", "), "\n");
    }
  }
  return text;
}

}  // namespace ledgerctl
