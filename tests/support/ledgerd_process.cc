#include "tests/support/ledgerd_process.h"

#include <signal.h>

#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

#ifndef LEDGERD_PATH
#error "LEDGERD_PATH must be defined by the build"
#endif

namespace ledger::testing {

const char* LedgerdPath() { return LEDGERD_PATH; }

LedgerdProcess::LedgerdProcess(std::string data_dir, std::string work_dir,
                               std::vector<std::string> extra_flags)
    : data_dir_(std::move(data_dir)),
      work_dir_(std::move(work_dir)),
      extra_flags_(std::move(extra_flags)) {}

LedgerdProcess::~LedgerdProcess() { Kill(); }

std::string LedgerdProcess::address() const { return absl::StrCat("127.0.0.1:", port_); }

absl::Status LedgerdProcess::Start(absl::Duration timeout) {
  if (child_) return absl::FailedPreconditionError("ledgerd already runs");
  ++starts_;
  const std::string port_file = absl::StrCat(work_dir_, "/ledgerd.port");
  std::remove(port_file.c_str());
  last_log_path_ = absl::StrCat(work_dir_, "/ledgerd.", starts_, ".log");
  std::vector<std::string> argv = {LedgerdPath(), absl::StrCat("--data_dir=", data_dir_),
                                   "--listen=127.0.0.1:0", absl::StrCat("--port_file=", port_file)};
  argv.insert(argv.end(), extra_flags_.begin(), extra_flags_.end());
  absl::StatusOr<std::unique_ptr<ChildProcess>> child = ChildProcess::Spawn(argv, last_log_path_);
  if (!child.ok()) return child.status();
  child_ = *std::move(child);

  const absl::Time deadline = absl::Now() + timeout;
  port_ = 0;
  while (port_ == 0) {
    std::string contents = ReadFileOrEmpty(port_file);
    if (!contents.empty()) port_ = std::atoi(contents.c_str());
    if (port_ != 0) break;
    if (!child_->Running()) {
      std::string message = absl::StrCat("ledgerd ended before listening (",
                                         DescribeWaitStatus(*child_->WaitFor(absl::ZeroDuration())),
                                         "):\n", child_->LogTail());
      child_.reset();
      return absl::InternalError(message);
    }
    if (absl::Now() > deadline) {
      std::string message = absl::StrCat("ledgerd wrote no port file within ",
                                         absl::FormatDuration(timeout), ":\n", child_->LogTail());
      Kill();
      return absl::DeadlineExceededError(message);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::shared_ptr<grpc::Channel> channel = NewChannel();
  if (!channel->WaitForConnected(absl::ToChronoTime(deadline))) {
    std::string message = absl::StrCat("ledgerd on port ", port_, " does not accept connections:\n",
                                       child_->LogTail());
    Kill();
    return absl::DeadlineExceededError(message);
  }
  return absl::OkStatus();
}

void LedgerdProcess::Kill() {
  if (!child_) return;
  child_->Signal(SIGKILL);
  child_->WaitFor(absl::Seconds(30));
  child_.reset();
}

std::optional<int> LedgerdProcess::Terminate(absl::Duration timeout) {
  return Stop(SIGTERM, timeout);
}

std::optional<int> LedgerdProcess::Stop(int signal_number, absl::Duration timeout) {
  if (!child_) return std::nullopt;
  child_->Signal(signal_number);
  std::optional<int> status = child_->WaitFor(timeout);
  if (status) child_.reset();
  return status;
}

std::shared_ptr<grpc::Channel> LedgerdProcess::NewChannel() const {
  return InsecureChannel(address());
}

std::string LedgerdProcess::LogTail(size_t max_bytes) const {
  if (child_) return child_->LogTail(max_bytes);
  std::string log = ReadFileOrEmpty(last_log_path_);
  if (log.size() > max_bytes) log = "..." + log.substr(log.size() - max_bytes);
  return log;
}

std::shared_ptr<grpc::Channel> InsecureChannel(const std::string& address) {
  grpc::ChannelArguments args;
  // Each test talks to a server that it kills and restarts on a new port:
  // reconnect quickly, and never share a subchannel with an earlier channel.
  // Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: despite its name it is also the
  // time a connection attempt may take (gRPC's MIN_CONNECT_TIMEOUT, 20 s by
  // default); at 50 ms a loaded machine's handshakes were abandoned ("tcp
  // handshaker shutdown") and calls failed UNAVAILABLE.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(16 << 20);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

void SetDeadline(grpc::ClientContext* context, absl::Duration timeout) {
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

v1::ProposedEvent MakeEvent(const std::string& event_id, const std::string& payload,
                            const std::string& event_type) {
  v1::ProposedEvent event;
  event.set_event_id(event_id);
  event.set_event_type(event_type);
  event.set_payload(payload);
  event.set_content_type("application/octet-stream");
  return event;
}

grpc::Status ReadWholeLog(v1::LedgerService::Stub* stub, std::vector<v1::RecordedEvent>* out,
                          uint32_t page_size, bool include_stored_bytes) {
  uint64_t from = 1;
  while (true) {
    grpc::ClientContext context;
    SetDeadline(&context, absl::Seconds(30));
    v1::ReadAllRequest request;
    request.set_from_position(from);
    request.set_direction(v1::DIRECTION_FORWARD);
    request.set_max_count(page_size);
    request.set_include_stored_bytes(include_stored_bytes);
    v1::ReadResponse response;
    grpc::Status status = stub->ReadAll(&context, request, &response);
    if (!status.ok()) return status;
    for (v1::RecordedEvent& event : *response.mutable_events()) out->push_back(std::move(event));
    if (response.end_of_range() || response.events_size() == 0) return grpc::Status::OK;
    from = response.next_from();
  }
}

}  // namespace ledger::testing
