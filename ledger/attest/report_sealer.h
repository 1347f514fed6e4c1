// The report sealer: ties every submitted report to the signed log.
//
// It follows the log; for each "ReportSubmitted" event it computes the
// report as of that event (the same SakipLedger::Report every reader uses),
// records a "ReportSealed" event in "$report-seals" holding SHA-256 of the
// report's canonical text (report_digest.h), and then asks the head
// publisher for a signed head that covers the seal. Anyone holding the
// signed head can later prove what the report said when it was signed.
//
// Crash safety: a seal's event id is derived from the submission's position,
// so sealing twice is an idempotent retry; after a restart the sealer
// resumes after the submission named by the last seal. A seal that would
// differ from the one recorded (the report computes differently now) is
// refused by the log as ALREADY_EXISTS and logged as an error: that is a
// finding for the operator, never overwritten.
//
// Thread-safety: thread-safe. One background thread.
#ifndef LEDGER_ATTEST_REPORT_SEALER_H_
#define LEDGER_ATTEST_REPORT_SEALER_H_

#include <cstdint>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ledger/attest/head_publisher.h"
#include "ledger/sakip/sakip_ledger.h"
#include "ledger/store/event_log.h"

namespace ledger::attest {

class ReportSealer {
 public:
  // `publisher` may be null (no signing key: seals are recorded, heads are
  // not signed). All must outlive the sealer.
  static absl::StatusOr<std::unique_ptr<ReportSealer>> Start(EventLog* log, SakipLedger* sakip,
                                                             HeadPublisher* publisher);
  ~ReportSealer();  // Stop()

  ReportSealer(const ReportSealer&) = delete;
  ReportSealer& operator=(const ReportSealer&) = delete;

  // Waits until every submission at or before `position` has been looked at
  // (sealed, or found unsealable and logged). DeadlineExceeded after
  // `timeout`; Unavailable once stopped.
  absl::Status WaitUntilSealed(uint64_t position, absl::Duration timeout);

  // Stops following the log. Idempotent.
  void Stop();

 private:
  ReportSealer(EventLog* log, SakipLedger* sakip, HeadPublisher* publisher)
      : log_(log), sakip_(sakip), publisher_(publisher) {}
  absl::StatusOr<uint64_t> ResumePosition();
  void Loop(std::unique_ptr<Subscription> subscription);
  // Seals one submission, retrying transient refusals until stopped.
  // Returns true when a seal was recorded now.
  bool SealWithRetry(const RecordedEvent& submission);
  absl::StatusOr<bool> Seal(const RecordedEvent& submission);
  bool stopping();

  EventLog* const log_;
  SakipLedger* const sakip_;
  HeadPublisher* const publisher_;

  absl::Mutex mu_;
  uint64_t looked_at_through_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  Subscription* subscription_ ABSL_GUARDED_BY(mu_) = nullptr;  // for Cancel
  std::thread thread_;
};

}  // namespace ledger::attest

#endif  // LEDGER_ATTEST_REPORT_SEALER_H_
