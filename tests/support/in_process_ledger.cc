#include "tests/support/in_process_ledger.h"

#include "tests/support/ledgerd_process.h"
#include "ledger/util/status_macros.h"

namespace ledger::testing {

absl::Status InProcessLedger::Start(const std::string& actor, absl::Duration subscription_poll,
                                    bool sign_heads) {
  RocksEventLogOptions options;
  options.data_dir = dir_.Sub("ledger");
  options.env = env_;
  if (sign_heads) {
    ASSIGN_OR_RETURN(signer_, HeadSigner::LoadOrCreate(dir_.Sub("signing.key")));
    options.head_witness_path = dir_.Sub("head.witness");
  }
  ASSIGN_OR_RETURN(log_, OpenRocksEventLog(options));
  services::ServerOptions server_options;
  server_options.listen_address = "127.0.0.1:0";
  server_options.access.local_actor = actor;
  server_options.service.subscription_poll = subscription_poll;
  server_options.attestation.signer = signer_.get();
  server_options.attestation.publisher.witness_path = options.head_witness_path;
  server_options.attestation.publisher.interval = absl::ZeroDuration();
  if (write_retry_interval_ > absl::ZeroDuration()) {
    ClosableEventLog* log = log_.get();
    server_options.write_recovery.resume = [log] { return log->ResumeWrites(); };
    server_options.write_recovery.retry_interval = write_retry_interval_;
    server_options.write_recovery.check_interval = absl::Milliseconds(20);
  }
  ASSIGN_OR_RETURN(server_, services::LedgerServer::Start(log_.get(), server_options));
  channel_ = InsecureChannel(server_->address());
  return absl::OkStatus();
}

void InProcessLedger::Stop() {
  if (server_) server_->Shutdown(absl::Seconds(2));
  server_.reset();
  if (log_) log_->Close();
  log_.reset();
}

}  // namespace ledger::testing
