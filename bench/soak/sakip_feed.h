// The soak's SAKIP load: for one unit and fiscal year, the events a kecamatan
// records over its year, built from the domain's own event types
// (sakip/v1/events.proto) so that ReportService validates them exactly as it
// validates real ones (docs/DOMAIN-EVENTS.md, "Rules enforced by Apply").
//
// A unit-year starts with its plan (the agreement, goals, indicators of each
// kind, programmes with allocations, villages and checklist activities): the
// plan must be recorded before any realization is accepted. Then, batch by
// batch, what a unit records during the year: realizations of each
// (indicator, quarter) once, later corrections of them (with a reason),
// disbursements (some reversed), village checklist entries, and at the end
// of each simulated quarter a submitted report and its disposition; in the
// third quarter a revised target and a revised allocation.
//
// The feed keeps a model of what the ledger has accepted: NextBatch() only
// proposes, Commit() folds a batch in once the ledger acknowledged it. A
// refused or failed batch is simply not committed; its event ids are never
// proposed again.
//
// Thread-safety: not thread-safe; one feed is used under its owner's lock.
#ifndef BENCH_SOAK_SAKIP_FEED_H_
#define BENCH_SOAK_SAKIP_FEED_H_

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "sakip/v1/report_service.pb.h"

namespace ledger::soak {

// A Kemendagri district code for the soak's unit number `index`:
// "35.RR.DD" with RR in 01..99 and DD in 01..99 (9801 codes).
std::string SoakUnitCode(int index);

// A valid 18-digit NIP, as printed ("19730415 199803 1 011"), derived from `seed`.
std::string SoakNip(uint64_t seed);

class UnitYearFeed {
 public:
  // `id_prefix` makes the event ids unique to one soak run; `events_per_year`
  // is how many events the unit records over its simulated year (the quarter
  // advances every quarter of it).
  UnitYearFeed(std::string unit_code, int fiscal_year, std::string id_prefix,
               size_t events_per_year);

  const std::string& unit_code() const { return unit_code_; }
  int fiscal_year() const { return fiscal_year_; }
  bool planned() const { return planned_; }
  // Events the ledger acknowledged for this unit-year.
  size_t events_committed() const { return events_committed_; }
  // The simulated quarter, 1..4.
  int quarter() const;
  // True once the unit has recorded its year's events.
  bool year_done() const { return events_committed_ >= events_per_year_; }

  // The plan, to record first (about 25 events).
  std::vector<::sakip::v1::ProposedSakipEvent> Plan();
  // The next 1..3 events of the year (the plan must be committed).
  std::vector<::sakip::v1::ProposedSakipEvent> NextBatch(std::mt19937_64& random);
  // Folds an acknowledged batch (the plan or a NextBatch) into the model.
  void Commit(const std::vector<::sakip::v1::ProposedSakipEvent>& batch);

 private:
  ::sakip::v1::ProposedSakipEvent NewEvent(std::string reason = "");
  void AddRealizationOrCorrection(std::mt19937_64& random,
                                  std::vector<::sakip::v1::ProposedSakipEvent>* batch);
  void AddDisbursementOrReversal(std::mt19937_64& random,
                                 std::vector<::sakip::v1::ProposedSakipEvent>* batch);
  void AddChecklistEntry(std::mt19937_64& random,
                         std::vector<::sakip::v1::ProposedSakipEvent>* batch);
  // A report for each quarter that has ended, then its disposition.
  bool AddReportStep(std::vector<::sakip::v1::ProposedSakipEvent>* batch);
  // From the third quarter on, once: the mid-year revision of a target and of
  // an allocation (perubahan PK, APBD-Perubahan).
  bool AddRevisionStep(std::vector<::sakip::v1::ProposedSakipEvent>* batch);

  std::string unit_code_;
  int fiscal_year_;
  std::string id_prefix_;
  size_t events_per_year_;
  uint64_t next_serial_ = 1;

  // The model of what the ledger accepted (updated by Commit only).
  bool planned_ = false;
  size_t events_committed_ = 0;
  std::map<std::pair<std::string, int>, std::string> realization_ids_;  // (indicator, q) -> id
  std::vector<std::string> unreversed_disbursements_;
  int reports_submitted_ = 0;  // quarters 1..reports_submitted_ have a report
  int reports_disposed_ = 0;
  bool revised_ = false;
};

}  // namespace ledger::soak

#endif  // BENCH_SOAK_SAKIP_FEED_H_
