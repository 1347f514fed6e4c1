#include "bench/soak/sakip_feed.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ledger::soak {
namespace {

namespace pb = ::sakip::v1;

constexpr int kVillages = 6;
constexpr int kActivities = 3;

struct IndicatorPlan {
  const char* id;
  const char* goal_id;
  const char* name;
  const char* unit;
  pb::Direction direction;
  pb::Aggregation aggregation;
  pb::IndicatorKind kind;
  const char* annual_target;
};

// One indicator of each shape the projections distinguish.
constexpr IndicatorPlan kIndicators[] = {
    {"IKU-1", "SS-1", "Jumlah dokumen perencanaan desa yang difasilitasi", "dokumen",
     pb::HIGHER_IS_BETTER, pb::CUMULATIVE_SUM, pb::PLAIN_VALUE, "48"},
    {"IKU-2", "SS-2", "Persentase dokumen desa yang disampaikan tepat waktu", "%",
     pb::HIGHER_IS_BETTER, pb::AVERAGE_OF_REPORTED, pb::RATIO_OF_COUNTS, "97.22"},
    {"IKU-3", "SS-1", "Rata-rata waktu penyelesaian layanan administrasi", "hari",
     pb::LOWER_IS_BETTER_INVERSE, pb::LAST_KNOWN_VALUE, pb::PLAIN_VALUE, "5"},
    {"IKU-4", "SS-2", "Persentase pengaduan masyarakat yang belum ditindaklanjuti", "%",
     pb::LOWER_IS_BETTER_MIRRORED, pb::AVERAGE_OF_REPORTED, pb::PLAIN_VALUE, "10"},
};
constexpr int kIndicatorCount = sizeof(kIndicators) / sizeof(kIndicators[0]);

struct ProgrammePlan {
  const char* id;
  const char* name;
  const char* allocation;
  std::vector<const char*> indicator_ids;
};

const std::vector<ProgrammePlan>& Programmes() {
  static const auto* programmes = new std::vector<ProgrammePlan>{
      {"P-1",
       "Program Penyelenggaraan Pemerintahan dan Pelayanan Publik",
       "350000000",
       {"IKU-1", "IKU-3"}},
      {"P-2", "Program Pemberdayaan Masyarakat Desa dan Kelurahan", "125000000", {"IKU-2"}},
      {"P-3", "Program Koordinasi Ketentraman dan Ketertiban Umum", "80000000", {"IKU-4"}},
  };
  return *programmes;
}

std::string VillageCode(const std::string& unit_code, int village) {
  // Kelurahan codes are 1xxx, desa codes 2xxx; the first village is a kelurahan.
  return absl::StrCat(unit_code, ".", village == 0 ? 1001 : 2000 + village);
}

// A date of `quarter` of `year` (YYYY-MM-DD), always a real one (day <= 28).
std::string DateInQuarter(int year, int quarter, uint64_t salt) {
  return absl::StrFormat("%04d-%02d-%02d", year, 3 * (quarter - 1) + 1 + static_cast<int>(salt % 3),
                         1 + static_cast<int>(salt / 3 % 28));
}

// A measure in plain decimal notation with up to two decimals.
std::string Decimal(uint64_t hundredths) {
  return absl::StrFormat("%d.%02d", hundredths / 100, hundredths % 100);
}

void SetRealizationMeasure(const IndicatorPlan& indicator, std::mt19937_64& random,
                           pb::RealizationRecorded* realization) {
  if (indicator.kind != pb::RATIO_OF_COUNTS) {
    realization->set_value(Decimal(50 + random() % 1500));  // 0.50 .. 15.49, never 0
    return;
  }
  pb::Counts* counts = realization->mutable_counts();
  for (const char* label : {"APBDes", "RKPDes", "LPPDes"}) {
    pb::CountPart* numerator = counts->add_numerator_parts();
    numerator->set_label(label);
    numerator->set_value(absl::StrCat(random() % (kVillages + 1)));
    pb::CountPart* denominator = counts->add_denominator_parts();
    denominator->set_label(label);
    denominator->set_value(absl::StrCat(kVillages));
  }
}

void CopyMeasure(const pb::RealizationRecorded& from, pb::RealizationCorrected* to) {
  if (from.has_counts()) {
    *to->mutable_counts() = from.counts();
  } else {
    to->set_value(from.value());
  }
}

}  // namespace

std::string SoakUnitCode(int index) {
  return absl::StrFormat("35.%02d.%02d", 1 + index / 99 % 99, 1 + index % 99);
}

std::string SoakNip(uint64_t seed) {
  // YYYYMMDD YYYYMM G NNN: birth date, appointment year and month, gender, serial.
  const int birth_year = 1965 + static_cast<int>(seed % 25);
  const int birth_month = 1 + static_cast<int>(seed / 25 % 12);
  const int birth_day = 1 + static_cast<int>(seed / 300 % 28);
  const int appointed_year = birth_year + 23 + static_cast<int>(seed / 7 % 8);
  const int appointed_month = 1 + static_cast<int>(seed / 11 % 12);
  const int gender = 1 + static_cast<int>(seed / 13 % 2);
  const int serial = 1 + static_cast<int>(seed / 17 % 999);
  return absl::StrFormat("%04d%02d%02d %04d%02d %d %03d", birth_year, birth_month, birth_day,
                         appointed_year, appointed_month, gender, serial);
}

UnitYearFeed::UnitYearFeed(std::string unit_code, int fiscal_year, std::string id_prefix,
                           size_t events_per_year)
    : unit_code_(std::move(unit_code)),
      fiscal_year_(fiscal_year),
      id_prefix_(std::move(id_prefix)),
      events_per_year_(std::max<size_t>(events_per_year, 40)) {}

int UnitYearFeed::quarter() const {
  return 1 + static_cast<int>(std::min<size_t>(3, events_committed_ * 4 / events_per_year_));
}

pb::ProposedSakipEvent UnitYearFeed::NewEvent(std::string reason) {
  pb::ProposedSakipEvent proposed;
  proposed.set_event_id(
      absl::StrFormat("%s-%s-%d-%06d", id_prefix_, unit_code_, fiscal_year_, next_serial_++));
  proposed.set_reason(std::move(reason));
  proposed.mutable_event()->set_unit_code(unit_code_);
  proposed.mutable_event()->set_fiscal_year(fiscal_year_);
  return proposed;
}

std::vector<pb::ProposedSakipEvent> UnitYearFeed::Plan() {
  std::vector<pb::ProposedSakipEvent> plan;
  const std::string district = unit_code_.substr(unit_code_.rfind('.') + 1);
  pb::ProposedSakipEvent agreement_event = NewEvent();
  pb::AgreementEstablished* agreement =
      agreement_event.mutable_event()->mutable_agreement_established();
  agreement->set_unit_name(absl::StrCat("Kecamatan Uji ", district));
  agreement->set_parent_unit_name(absl::StrCat("Kabupaten Uji ", unit_code_.substr(3, 2)));
  agreement->set_head_title(absl::StrCat("Camat Uji ", district));
  agreement->set_head_name(absl::StrCat("Kepala Kecamatan ", unit_code_));
  agreement->set_head_nip(SoakNip(std::hash<std::string>()(unit_code_)));
  agreement->set_document_ref(absl::StrCat("PK/", unit_code_, "/", fiscal_year_));
  plan.push_back(std::move(agreement_event));
  for (const auto& [goal_id, name] : {std::pair{"SS-1", "Meningkatkan kualitas pelayanan publik"},
                                      std::pair{"SS-2", "Meningkatkan akuntabilitas desa"}}) {
    pb::ProposedSakipEvent goal = NewEvent();
    goal.mutable_event()->mutable_strategic_goal_defined()->set_goal_id(goal_id);
    goal.mutable_event()->mutable_strategic_goal_defined()->set_name(name);
    plan.push_back(std::move(goal));
  }
  for (int i = 0; i < kIndicatorCount; ++i) {
    const IndicatorPlan& plan_row = kIndicators[i];
    pb::ProposedSakipEvent event = NewEvent();
    pb::IndicatorDefined* indicator = event.mutable_event()->mutable_indicator_defined();
    indicator->set_indicator_id(plan_row.id);
    indicator->set_goal_id(plan_row.goal_id);
    indicator->set_name(plan_row.name);
    indicator->set_unit(plan_row.unit);
    indicator->set_direction(plan_row.direction);
    indicator->set_aggregation(plan_row.aggregation);
    indicator->set_kind(plan_row.kind);
    if (plan_row.kind == pb::RATIO_OF_COUNTS) indicator->set_ratio_multiplier("100");
    indicator->set_annual_target(plan_row.annual_target);
    indicator->set_number(i + 1);
    plan.push_back(std::move(event));
  }
  for (size_t i = 0; i < Programmes().size(); ++i) {
    const ProgrammePlan& row = Programmes()[i];
    pb::ProposedSakipEvent event = NewEvent();
    pb::ProgrammeDefined* programme = event.mutable_event()->mutable_programme_defined();
    programme->set_programme_id(row.id);
    programme->set_name(row.name);
    programme->set_allocation(row.allocation);
    for (const char* indicator_id : row.indicator_ids) programme->add_indicator_ids(indicator_id);
    programme->set_number(static_cast<int>(i) + 1);
    plan.push_back(std::move(event));
  }
  for (int v = 0; v < kVillages; ++v) {
    pb::ProposedSakipEvent event = NewEvent();
    pb::VillageRegistered* village = event.mutable_event()->mutable_village_registered();
    village->set_village_code(VillageCode(unit_code_, v));
    village->set_name(absl::StrCat(v == 0 ? "Kelurahan " : "Desa ", "Uji ", v + 1));
    village->set_kind(v == 0 ? pb::KELURAHAN : pb::DESA);
    plan.push_back(std::move(event));
  }
  for (int a = 0; a < kActivities; ++a) {
    pb::ProposedSakipEvent event = NewEvent();
    pb::ChecklistActivityDefined* activity =
        event.mutable_event()->mutable_checklist_activity_defined();
    activity->set_activity_id(absl::StrCat("K-", a + 1));
    activity->set_number(a + 1);
    activity->set_name(absl::StrCat("Pembinaan dan pengawasan desa, kegiatan ", a + 1));
    plan.push_back(std::move(event));
  }
  return plan;
}

void UnitYearFeed::AddRealizationOrCorrection(std::mt19937_64& random,
                                              std::vector<pb::ProposedSakipEvent>* batch) {
  for (int q = 1; q <= quarter(); ++q) {
    for (const IndicatorPlan& indicator : kIndicators) {
      if (realization_ids_.count({indicator.id, q}) > 0) continue;
      pb::ProposedSakipEvent event = NewEvent();
      pb::RealizationRecorded* realization = event.mutable_event()->mutable_realization_recorded();
      realization->set_indicator_id(indicator.id);
      realization->set_quarter(q);
      SetRealizationMeasure(indicator, random, realization);
      realization->set_note(absl::StrCat("Capaian TW ", q, " menurut laporan seksi"));
      batch->push_back(std::move(event));
      return;
    }
  }
  // Every (indicator, quarter) so far is recorded: correct one of them.
  auto it = realization_ids_.begin();
  std::advance(it, random() % realization_ids_.size());
  const IndicatorPlan* indicator = nullptr;
  for (const IndicatorPlan& row : kIndicators) {
    if (it->first.first == row.id) indicator = &row;
  }
  pb::RealizationRecorded measure;
  SetRealizationMeasure(*indicator, random, &measure);
  pb::ProposedSakipEvent event = NewEvent("Koreksi setelah verifikasi dokumen pendukung");
  pb::RealizationCorrected* correction = event.mutable_event()->mutable_realization_corrected();
  correction->set_corrects_event_id(it->second);
  CopyMeasure(measure, correction);
  correction->set_note("Angka diperbaiki sesuai berita acara verifikasi");
  batch->push_back(std::move(event));
}

void UnitYearFeed::AddDisbursementOrReversal(std::mt19937_64& random,
                                             std::vector<pb::ProposedSakipEvent>* batch) {
  if (!unreversed_disbursements_.empty() && random() % 12 == 0) {
    pb::ProposedSakipEvent event = NewEvent("SP2D dibatalkan: salah kode rekening");
    event.mutable_event()->mutable_disbursement_reversed()->set_reverses_event_id(
        unreversed_disbursements_[random() % unreversed_disbursements_.size()]);
    batch->push_back(std::move(event));
    return;
  }
  pb::ProposedSakipEvent event = NewEvent();
  pb::DisbursementRecorded* disbursement = event.mutable_event()->mutable_disbursement_recorded();
  disbursement->set_programme_id(Programmes()[random() % Programmes().size()].id);
  disbursement->set_quarter(quarter());
  disbursement->set_amount(absl::StrCat(250000 + random() % 9750000));
  disbursement->set_document_ref(absl::StrCat("SP2D-", event.event_id()));
  disbursement->set_paid_on(DateInQuarter(fiscal_year_, quarter(), random()));
  batch->push_back(std::move(event));
}

void UnitYearFeed::AddChecklistEntry(std::mt19937_64& random,
                                     std::vector<pb::ProposedSakipEvent>* batch) {
  pb::ProposedSakipEvent event = NewEvent();
  pb::ChecklistEntryRecorded* entry = event.mutable_event()->mutable_checklist_entry_recorded();
  entry->set_activity_id(absl::StrCat("K-", 1 + random() % kActivities));
  entry->set_village_code(VillageCode(unit_code_, static_cast<int>(random() % kVillages)));
  entry->set_quarter(quarter());
  entry->set_done(random() % 4 != 0);
  if (random() % 3 == 0) entry->set_remark("Pendampingan dilanjutkan triwulan berikutnya");
  batch->push_back(std::move(event));
}

bool UnitYearFeed::AddReportStep(std::vector<pb::ProposedSakipEvent>* batch) {
  const std::string head_nip = SoakNip(std::hash<std::string>()(unit_code_));
  if (reports_disposed_ < reports_submitted_) {
    const int q = reports_disposed_ + 1;
    pb::ProposedSakipEvent event = NewEvent();
    pb::ReportDisposed* disposed = event.mutable_event()->mutable_report_disposed();
    disposed->set_report_id(absl::StrCat("LKI-", unit_code_, "-TW", q, "-", fiscal_year_));
    disposed->add_options(pb::LAPORAN_SUDAH_BAIK);
    disposed->set_supervisor_name("Sekretaris Daerah");
    disposed->set_supervisor_nip(SoakNip(std::hash<std::string>()(unit_code_) + 1));
    batch->push_back(std::move(event));
    return true;
  }
  if (reports_submitted_ + 1 >= quarter()) return false;  // the quarter has not ended
  const int q = reports_submitted_ + 1;
  pb::ProposedSakipEvent event = NewEvent();
  pb::ReportSubmitted* report = event.mutable_event()->mutable_report_submitted();
  report->set_report_id(absl::StrCat("LKI-", unit_code_, "-TW", q, "-", fiscal_year_));
  report->set_quarter(q);
  report->set_evaluation("Capaian kinerja triwulan ini sesuai rencana, kecuali IKU-3.");
  report->set_follow_up_plan("Percepatan layanan administrasi dan pendampingan desa.");
  report->set_signer_name(absl::StrCat("Kepala Kecamatan ", unit_code_));
  report->set_signer_nip(head_nip);
  report->set_place("Kantor Kecamatan");
  report->set_signed_on(DateInQuarter(fiscal_year_, q, 2));
  batch->push_back(std::move(event));
  return true;
}

bool UnitYearFeed::AddRevisionStep(std::vector<pb::ProposedSakipEvent>* batch) {
  if (revised_ || quarter() < 3) return false;
  pb::ProposedSakipEvent target = NewEvent("Perubahan Perjanjian Kinerja setelah APBD-Perubahan");
  pb::TargetRevised* revised_target = target.mutable_event()->mutable_target_revised();
  revised_target->set_indicator_id("IKU-1");
  revised_target->set_annual_target("52");
  revised_target->set_document_ref(absl::StrCat("PK-P/", unit_code_, "/", fiscal_year_));
  batch->push_back(std::move(target));
  pb::ProposedSakipEvent budget = NewEvent("APBD-Perubahan: tambahan pagu kegiatan fasilitasi");
  pb::BudgetRevised* revised_budget = budget.mutable_event()->mutable_budget_revised();
  revised_budget->set_programme_id("P-2");
  revised_budget->set_allocation("142500000");
  revised_budget->set_document_ref(absl::StrCat("DPPA/", unit_code_, "/", fiscal_year_));
  batch->push_back(std::move(budget));
  return true;
}

std::vector<pb::ProposedSakipEvent> UnitYearFeed::NextBatch(std::mt19937_64& random) {
  std::vector<pb::ProposedSakipEvent> batch;
  // At most one event of each kind per batch: the model is updated only on
  // Commit, so two realizations (or reversals) of one batch could collide.
  if (AddReportStep(&batch) || AddRevisionStep(&batch)) return batch;
  const int size = 1 + static_cast<int>(random() % 3);
  const int first_kind = static_cast<int>(random() % 3);
  for (int i = 0; i < size; ++i) {
    switch ((first_kind + i) % 3) {
      case 0:
        AddRealizationOrCorrection(random, &batch);
        break;
      case 1:
        AddDisbursementOrReversal(random, &batch);
        break;
      default:
        AddChecklistEntry(random, &batch);
        break;
    }
  }
  return batch;
}

void UnitYearFeed::Commit(const std::vector<pb::ProposedSakipEvent>& batch) {
  for (const pb::ProposedSakipEvent& proposed : batch) {
    ++events_committed_;
    const pb::SakipEvent& event = proposed.event();
    switch (event.event_case()) {
      case pb::SakipEvent::kAgreementEstablished:
        planned_ = true;
        break;
      case pb::SakipEvent::kRealizationRecorded:
        realization_ids_[{event.realization_recorded().indicator_id(),
                          event.realization_recorded().quarter()}] = proposed.event_id();
        break;
      case pb::SakipEvent::kDisbursementRecorded:
        unreversed_disbursements_.push_back(proposed.event_id());
        break;
      case pb::SakipEvent::kDisbursementReversed: {
        auto& ids = unreversed_disbursements_;
        ids.erase(
            std::remove(ids.begin(), ids.end(), event.disbursement_reversed().reverses_event_id()),
            ids.end());
        break;
      }
      case pb::SakipEvent::kReportSubmitted:
        reports_submitted_ = std::max(reports_submitted_, event.report_submitted().quarter());
        break;
      case pb::SakipEvent::kReportDisposed:
        ++reports_disposed_;
        break;
      case pb::SakipEvent::kBudgetRevised:
        revised_ = true;
        break;
      default:
        break;
    }
  }
}

}  // namespace ledger::soak
