// The Klakah TW II 2024 reference events; see reference_report.h. Every datum
// is taken from the reference report; where it is ambiguous, the choice is
// commented.
#include "ledger/projections/testing/reference_report.h"

#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/json_util.h"

namespace ledger::projections::testing {
namespace {

using sakip::v1::SakipEvent;

struct ProgrammeData {
  const char* id;
  const char* name;
  const char* allocation;
  const char* tw1;  // nullptr: "-" in the table (no disbursement)
  const char* tw2;
  const char* indicator;
};

// The programme table. Cost-per-outcome links: programme 6 (village
// governance supervision) serves IKU-2, the others IKU-1 - the reading under
// which the printed IKU-2 budget 32.704.500 is a digit swap of 37.204.500.
constexpr ProgrammeData kProgrammes[] = {
    {"PRG-1", "PROGRAM PENUNJANG URUSAN PEMERINTAHAN DAERAH KABUPATEN/KOTA", "1917084558", "498729771", "520584681", "IKU-1"},
    {"PRG-2", "PROGRAM PENYELENGGARAAN PEMERINTAHAN DAN PELAYANAN PUBLIK", "8267500", "245000", "3210000", "IKU-1"},
    {"PRG-3", "PROGRAM PEMBERDAYAAN MASYARAKAT DESA DAN KELURAHAN", "159194750", "7975000", "12750000", "IKU-1"},
    {"PRG-4", "PROGRAM KOORDINASI KETENTRAMAN DAN KETERTIBAN UMUM", "28570000", "19750000", nullptr, "IKU-1"},
    {"PRG-5", "PROGRAM PENYELENGGARAAN URUSAN PEMERINTAHAN UMUM", "7200000", "1800000", "1800000", "IKU-1"},
    {"PRG-6", "PROGRAM PEMBINAAN DAN PENGAWASAN PEMERINTAHAN DESA", "37204500", nullptr, "10350000", "IKU-2"},
};

constexpr const char* kVillages[] = {"Kebonan", "Kudus",  "Duren",    "Sumberwringin", "Papringan", "Ranupakis",
                                     "Tegalrandu", "Klakah", "Mlawang", "Sruni",         "Tegalciut", "Sawaran Lor"};

constexpr char kBinwas[] = "Pembinaan Pengawasan (Binwas) Tw. 1 Kec. Klakah";
constexpr char kNotDone[] = "Belum Dilaksanakan";

struct ActivityData {
  const char* id;
  const char* name;
  bool done_in_tw1;    // ticked for all 12 villages (the remarks say Tw. 1)
  const char* remark;  // "" when the row has none
};

// The checklist rows in printed order; `number` is the row's position (1..18)
// because one row ("Administrasi Lainnya") is printed without a number: its
// id is A16a and the printed row 17 is A17 with number 18.
constexpr ActivityData kActivities[] = {
    {"A01", "pembinaan dan pengawasan dalam penyusunan Perdes Kewenangan Desa", true, kBinwas},
    {"A02", "pembinaan dan pengawasan dalam penyusunan Perdes RPJMDes", false, ""},
    {"A03", "Fasilitasi pembinaan dan pengawasan dalam penyusunan Perdes Perubahan RPJMDes", false, ""},
    {"A04", "pembinaan dan pengawasan dalam penyusunan Perdes RKPDes", false, kNotDone},
    {"A05", "Fasilitasi pembinaan dan pengawasan dalam penyusunan Perdes Perubahan RKPDes", false,
     "Belum masuk Jadwal Perubahan RKPDesa"},
    {"A06", "Fasilitasi pembinaan dan pengawasan dalam penyusunan Raperdes APBDes", false, kNotDone},
    {"A07", "Fasilitasi pembinaan dan pengawasan dalam penyusunan Raperdes Perubahan APBDes", false, kNotDone},
    {"A08", "Fasilitasi pembinaan dan pengawasan dalam penyusunan Perdes SOTK Desa", true, kBinwas},
    {"A09", "Fasilitasi pembinaan dan pengawasan dalam penyusunan Perdes TKD", false, kNotDone},
    {"A10", "Fasilitasi pembinaan dan pengawasan dalam penyusunan Perdes LKD", false, kNotDone},
    {"A11", "Fasilitasi pembinaan dan pengawasan dalam penyusunan Perdes BUMDes", false, kNotDone},
    {"A12", "Fasilitasi pembinaan dan pengawasan dalam penyusunan Perdes Penyertaan modal BUMDes", false, kNotDone},
    {"A13", "Fasilitasi pembinaan Administrasi Umum Pemerintahan Desa;", true, "monev"},
    {"A14", "Fasilitasi pembinaan Administrasi Penduduk;", true, kBinwas},
    {"A15", "Fasilitasi pembinaan Adminiatrasi Keuangan;", true, kBinwas},
    {"A16", "Fasilitasi pembinaan Administrasi Pembangunan;", true, kBinwas},
    {"A16a", "Fasilitasi pembinaan Administrasi Lainnya.", false, ""},
    // Printed with 12 ticks and the remark "Belum Dilaksanakan" (contradictory
    // as printed; kept as printed).
    {"A17", "Fasilitasi pembinaan Perencanaan (APBDes & Penjabaran APBDes)", true, kNotDone},
};

std::string VillageCode(int index) { return absl::StrFormat("35.08.19.%04d", 2001 + index); }

void AddAgreementAndIndicators(StreamBuilder& stream) {
  auto* agreement = stream.Next().mutable_agreement_established();
  agreement->set_unit_name("Kecamatan Klakah");
  agreement->set_parent_unit_name("Kabupaten Lumajang");
  agreement->set_head_title("Camat Klakah");
  agreement->set_head_name("ARIEF MASHUDI, S.Pi,MP");
  agreement->set_head_nip(kKlakahHeadNip);
  agreement->set_document_ref("Perjanjian Kinerja Kecamatan Klakah Tahun 2024");

  auto* goal1 = stream.Next().mutable_strategic_goal_defined();
  goal1->set_goal_id("SS-1");
  goal1->set_name("Meningkatkan penyelenggaraan pelayanan publik di kecamatan");
  auto* goal2 = stream.Next().mutable_strategic_goal_defined();
  goal2->set_goal_id("SS-2");
  goal2->set_name("Meningkatkan akuntabilitas pemerintah desa");

  auto* iku1 = stream.Next().mutable_indicator_defined();
  iku1->set_indicator_id("IKU-1");
  iku1->set_goal_id("SS-1");
  iku1->set_name("Persentase hasil fasilitasi dan koordinasi yang ditindaklanjuti");
  iku1->set_unit("%");
  iku1->set_direction(sakip::v1::HIGHER_IS_BETTER);
  iku1->set_aggregation(sakip::v1::CUMULATIVE_SUM);  // 37.84 + 17 = 54.84 as printed
  iku1->set_kind(sakip::v1::PLAIN_VALUE);
  iku1->set_annual_target("95.45");
  iku1->set_number(1);

  auto* iku2 = stream.Next().mutable_indicator_defined();
  iku2->set_indicator_id("IKU-2");
  iku2->set_goal_id("SS-2");
  iku2->set_name(
      "Rata-rata persentase desa dalam menyusun dokumen administrasi pemerintahan desa yang tepat waktu");
  iku2->set_unit("%");
  iku2->set_direction(sakip::v1::HIGHER_IS_BETTER);
  iku2->set_aggregation(sakip::v1::AVERAGE_OF_REPORTED);  // "Rata-rata": the mean of the quarters
  iku2->set_kind(sakip::v1::RATIO_OF_COUNTS);
  iku2->set_ratio_multiplier("100");
  iku2->set_annual_target("97.22");
  iku2->set_number(2);
}

void AddStructure(StreamBuilder& stream) {
  int number = 0;
  for (const ProgrammeData& data : kProgrammes) {
    auto* programme = stream.Next().mutable_programme_defined();
    programme->set_programme_id(data.id);
    programme->set_name(data.name);
    programme->set_allocation(data.allocation);
    programme->add_indicator_ids(data.indicator);
    programme->set_number(++number);
  }
  for (int i = 0; i < 12; ++i) {
    auto* village = stream.Next().mutable_village_registered();
    village->set_village_code(VillageCode(i));
    village->set_name(kVillages[i]);
    village->set_kind(sakip::v1::DESA);
  }
  number = 0;
  for (const ActivityData& data : kActivities) {
    auto* activity = stream.Next().mutable_checklist_activity_defined();
    activity->set_activity_id(data.id);
    activity->set_number(++number);
    activity->set_name(data.name);
  }
}

void AddPart(sakip::v1::Counts* counts, bool numerator, const char* label, const char* value) {
  auto* part = numerator ? counts->add_numerator_parts() : counts->add_denominator_parts();
  part->set_label(label);
  part->set_value(value);
}

void AddRealizations(StreamBuilder& stream, int quarter) {
  auto* iku1 = stream.Next().mutable_realization_recorded();
  iku1->set_indicator_id("IKU-1");
  iku1->set_quarter(quarter);
  iku1->set_value(quarter == 1 ? "37.84" : "17");
  if (quarter != 1) return;  // IKU-2 TW II is printed as "-": not reported
  auto* iku2 = stream.Next().mutable_realization_recorded();
  iku2->set_indicator_id("IKU-2");
  iku2->set_quarter(1);
  auto* counts = iku2->mutable_counts();
  AddPart(counts, true, "APBDes tepat waktu", "12");
  AddPart(counts, true, "RKPDes tepat waktu", "0");
  AddPart(counts, true, "LPPDes tepat waktu", "0");
  AddPart(counts, false, "APBDes (12 desa)", "12");
  AddPart(counts, false, "RKPDes (12 desa)", "12");
  AddPart(counts, false, "LPPDes (12 desa)", "12");
}

// One disbursement per programme and quarter: the table gives only the
// quarterly totals (the individual SP2Ds are not in the report).
void AddDisbursements(StreamBuilder& stream, int quarter) {
  for (const ProgrammeData& data : kProgrammes) {
    const char* amount = quarter == 1 ? data.tw1 : data.tw2;
    if (amount == nullptr) continue;
    auto* disbursement = stream.Next().mutable_disbursement_recorded();
    disbursement->set_programme_id(data.id);
    disbursement->set_quarter(quarter);
    disbursement->set_amount(amount);
    disbursement->set_document_ref(absl::StrCat("SP2D ", data.id, " TW ", quarter == 1 ? "I" : "II", " 2024 (total)"));
  }
}

// Done rows: an entry per village in TW I. Rows not done with a remark: an
// entry (done = false) per village in TW II carrying the remark.
void AddChecklist(StreamBuilder& stream, int quarter) {
  for (const ActivityData& data : kActivities) {
    const bool record = quarter == 1 ? data.done_in_tw1 : (!data.done_in_tw1 && data.remark[0] != '\0');
    if (!record) continue;
    for (int i = 0; i < 12; ++i) {
      auto* entry = stream.Next().mutable_checklist_entry_recorded();
      entry->set_activity_id(data.id);
      entry->set_village_code(VillageCode(i));
      entry->set_quarter(quarter);
      entry->set_done(quarter == 1);
      entry->set_remark(data.remark);
    }
  }
}

void Declare(sakip::v1::ReportSubmitted* report, const std::string& key, const char* value) {
  auto* figure = report->add_declared();
  figure->set_key(key);
  figure->set_value(value);
}

// Tabel Capaian Kinerja (#capaian) and its repetition in the cost-per-outcome
// table (#cost_per_outcome) and in the evaluation text (#evaluasi).
void DeclarePerformance(sakip::v1::ReportSubmitted* report) {
  Declare(report, "indicator/IKU-1/target#capaian", "95.45");
  Declare(report, "indicator/IKU-1/year_end/realization#capaian", "54.84");
  Declare(report, "indicator/IKU-1/year_end/capaian#capaian", "57.45");
  Declare(report, "indicator/IKU-1/q1/realization#capaian", "37.84");  // Keterangan "TW 1: 37,84"
  Declare(report, "indicator/IKU-1/q2/realization#capaian", "17");     // Keterangan "TW 2 : 17"
  Declare(report, "indicator/IKU-2/target#capaian", "97.22");
  Declare(report, "indicator/IKU-2/year_end/realization#capaian", "33.33");
  Declare(report, "indicator/IKU-2/year_end/capaian#capaian", "34.29");
  Declare(report, "cost_per_outcome/IKU-1/budget#cost_per_outcome", "2124816808");
  Declare(report, "cost_per_outcome/IKU-1/realized#cost_per_outcome", "1077194452");
  Declare(report, "cost_per_outcome/IKU-1/absorption#cost_per_outcome", "49.93");
  Declare(report, "indicator/IKU-1/target#cost_per_outcome", "95.45");
  Declare(report, "indicator/IKU-1/year_end/realization#cost_per_outcome", "54.84");
  Declare(report, "indicator/IKU-1/year_end/capaian#cost_per_outcome", "57.45");
  Declare(report, "cost_per_outcome/IKU-2/budget#cost_per_outcome", "32704500");
  Declare(report, "cost_per_outcome/IKU-2/realized#cost_per_outcome", "0");
  Declare(report, "cost_per_outcome/IKU-2/absorption#cost_per_outcome", "0");
  Declare(report, "indicator/IKU-2/target#cost_per_outcome", "97.22");  // printed "97,2 2"
  Declare(report, "indicator/IKU-2/year_end/realization#cost_per_outcome", "33.33");
  Declare(report, "indicator/IKU-2/year_end/capaian#cost_per_outcome", "34.29");
  Declare(report, "indicator/IKU-1/year_end/realization#evaluasi", "54.84");
  Declare(report, "indicator/IKU-1/target#evaluasi", "95.23");  // "54,84 / 95,23 x 100 %"
  Declare(report, "indicator/IKU-1/year_end/capaian#evaluasi", "57.45");
  Declare(report, "indicator/IKU-2/year_end/realization#evaluasi", "33.33");
  Declare(report, "indicator/IKU-2/target#evaluasi", "97.22");
  Declare(report, "indicator/IKU-2/year_end/capaian#evaluasi", "34.29");
}

// Pengukuran Kinerja Individu (#pengukuran); "-" cells are not declared.
void DeclareMeasurement(sakip::v1::ReportSubmitted* report) {
  const std::pair<const char*, const char*> figures[] = {
      {"indicator/IKU-1/target", "95.45"},        {"indicator/IKU-1/q1/realization", "37.84"},
      {"indicator/IKU-1/q1/capaian", "39.64"},    {"indicator/IKU-1/q2/realization", "17.00"},
      {"indicator/IKU-1/q2/capaian", "17.81"},    {"indicator/IKU-1/year_end/realization", "54.84"},
      {"indicator/IKU-1/year_end/capaian", "57.45"}, {"indicator/IKU-2/target", "97.22"},
      {"indicator/IKU-2/q1/realization", "33.33"}, {"indicator/IKU-2/q1/capaian", "34.29"},
      {"indicator/IKU-2/year_end/realization", "33.33"}, {"indicator/IKU-2/year_end/capaian", "34.29"},
      {"average/target", "96.34"},                {"average/q1/realization", "35.59"},
      {"average/q1/capaian", "24.64"},            {"average/q2/realization", "8.50"},
      {"average/q2/capaian", "8.90"},             {"average/year_end/realization", "29.39"},
      {"average/year_end/capaian", "30.58"},
  };
  for (const auto& [key, value] : figures) Declare(report, absl::StrCat(key, "#pengukuran"), value);
}

// The programme table (#anggaran), figures as printed (".00" kept).
void DeclareBudget(sakip::v1::ReportSubmitted* report) {
  const char* rows[][8] = {
      // id, allocation, q1 realized, q1 %, q2 realized, q2 %, cumulative, cumulative %
      {"programme/PRG-1", "1917084558", "498729771.00", "26.02", "520584681.00", "27.16", "1019314452.00", "53.17"},
      {"programme/PRG-2", "8267500", "245000.00", "2.96", "3210000.00", "38.83", "3455000.00", "41.79"},
      {"programme/PRG-3", "159194750", "7975000.00", "5.01", "12750000.00", "8.01", "20725000.00", "13.02"},
      {"programme/PRG-4", "28570000", "19750000.00", "69.13", nullptr, nullptr, "19750000.00", "69.13"},
      {"programme/PRG-5", "7200000", "1800000.00", "25.00", "1800000.00", "25.00", "3600000.00", "50.00"},
      {"programme/PRG-6", "37204500", nullptr, nullptr, "10350000.00", "27.82", "10350000.00", "27.82"},
      {"total", "2157521308", "528499771.00", "24.50", "548694681.00", "25.43", "1077194452.00", "49.93"},
  };
  const char* suffixes[] = {"/allocation", "/q1/realized", "/q1/absorption", "/q2/realized",
                            "/q2/absorption", "/cumulative/realized", "/cumulative/absorption"};
  for (const auto& row : rows) {
    for (int i = 0; i < 7; ++i) {
      if (row[i + 1] != nullptr) Declare(report, absl::StrCat(row[0], suffixes[i], "#anggaran"), row[i + 1]);
    }
  }
}

void DeclareChecklist(sakip::v1::ReportSubmitted* report) {
  for (const ActivityData& data : kActivities) {
    const std::string prefix = absl::StrCat("checklist/", data.id);
    Declare(report, prefix + "/count#checklist", data.done_in_tw1 ? "12" : "0");
    Declare(report, prefix + "/ratio#checklist", data.done_in_tw1 ? "1.00" : "0.00");
  }
}

void AddReport(StreamBuilder& stream) {
  auto* report = stream.Next().mutable_report_submitted();
  report->set_report_id(kKlakahReportId);
  report->set_quarter(2);
  report->set_evaluation(
      "Persentase hasil fasilitasi dan koordinasi yang ditindaklanjuti = 54,84 / 95,23 x 100 % = 57,45%; "
      "rata-rata persentase desa = (0+0+12) / (12 x 3) x 100 % = 33,33; capaian (33,33 / 97,22) = 34,29%.");
  report->set_follow_up_plan(
      "1. Membangun komitmen aparatur pemerintahan kecamatan dalam melaksanakan tugas dan fungsi masing-masing; "
      "2. Adanya evaluasi berkelanjutan dalam setiap pelaksanaan kegiatan setiap bagian; "
      "3. Membudayakan tertib administrasi sebagai bentuk akuntabilitas kinerja; "
      "4. Melakukan koordinasi aktif dengan OPD Kabupaten yang menangani sistematika penyusunan laporan.");
  report->set_signer_name("ARIEF MASHUDI, S.Pi,MP");
  report->set_signer_nip(kKlakahHeadNip);
  report->set_place("Klakah");
  report->set_signed_on("2024-07-03");
  DeclarePerformance(report);
  DeclareMeasurement(report);
  DeclareBudget(report);
  DeclareChecklist(report);
}

// Minimal JSON string escaping (quotes, backslash, control characters).
std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += absl::StrFormat("\\u%04x", static_cast<int>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

StreamBuilder::StreamBuilder(std::string unit_code, int fiscal_year, std::string id_prefix)
    : unit_code_(std::move(unit_code)), fiscal_year_(fiscal_year), id_prefix_(std::move(id_prefix)) {}

SakipEvent& StreamBuilder::Next(std::string reason) {
  DomainEvent event;
  event.position = events_.size() + 1;
  event.event_id = absl::StrFormat("%s-%04d", id_prefix_, event.position);
  event.recorded_at = absl::FromUnixSeconds(1704153600 + 3600 * static_cast<int64_t>(event.position));
  event.actor = "test";
  event.reason = std::move(reason);
  event.event.set_unit_code(unit_code_);
  event.event.set_fiscal_year(fiscal_year_);
  events_.push_back(std::move(event));
  return events_.back().event;
}

std::vector<DomainEvent> KlakahTw2Events() {
  StreamBuilder stream(kKlakahUnitCode, kKlakahFiscalYear, "klakah-2024");
  AddAgreementAndIndicators(stream);
  AddStructure(stream);
  AddRealizations(stream, 1);
  AddDisbursements(stream, 1);
  AddChecklist(stream, 1);
  AddRealizations(stream, 2);
  AddDisbursements(stream, 2);
  AddChecklist(stream, 2);
  AddReport(stream);
  return stream.Take();
}

std::string ToJsonLines(const std::vector<DomainEvent>& events) {
  std::string out;
  for (const DomainEvent& event : events) {
    std::string payload;
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = false;
    (void)google::protobuf::util::MessageToJsonString(event.event, &payload, options);
    absl::StrAppend(&out, "{\"event_id\": ", JsonString(event.event_id), ", \"event_type\": ",
                    JsonString(EventTypeName(event.event)), ", \"reason\": ", JsonString(event.reason),
                    ", \"event\": ", payload, "}\n");
  }
  return out;
}

}  // namespace ledger::projections::testing
