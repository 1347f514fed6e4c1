#include "ledger/auth/denied_log.h"

#include <algorithm>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "ledger/limits.h"
#include "ledger/util/log.h"

namespace ledger::auth {
namespace {

std::string ToJsonLine(const DeniedAttempt& attempt) {
  std::string line;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(attempt, &line, options);
  return line;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DeniedLog>> DeniedLog::Open(const std::string& path,
                                                           uint64_t max_file_bytes) {
  std::unique_ptr<DeniedLog> log(new DeniedLog());
  log->max_file_bytes_ = max_file_bytes;
  if (path.empty()) return log;
  log->path_ = path;
  log->ReadBack(path);
  absl::MutexLock lock(&log->mu_);
  log->file_ = std::fopen(path.c_str(), "ab");
  if (log->file_ == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("denied-attempt log ", path, ": cannot be opened for appending"));
  }
  std::fseek(log->file_, 0, SEEK_END);
  log->file_bytes_ = static_cast<uint64_t>(std::ftell(log->file_));
  return log;
}

DeniedLog::~DeniedLog() {
  absl::MutexLock lock(&mu_);
  if (file_ != nullptr) std::fclose(file_);
}

// Reads the last kDeniedAttemptsKept lines of the rotated and current files
// back, oldest first, from the last kDeniedReadBackBytes of each; lines that
// do not parse (a torn last line after a crash, the partial first line of
// the window) are skipped.
void DeniedLog::ReadBack(const std::string& path) {
  absl::MutexLock lock(&mu_);
  for (const std::string& file : {path + ".1", path}) {
    std::ifstream in(file, std::ios::binary | std::ios::ate);
    if (!in) continue;
    const std::streamoff size = in.tellg();
    const auto window = static_cast<std::streamoff>(limits::kDeniedReadBackBytes);
    in.seekg(size > window ? size - window : 0);
    std::string line;
    if (size > window) std::getline(in, line);  // the window starts mid-line
    while (std::getline(in, line)) {
      DeniedAttempt attempt;
      google::protobuf::util::JsonParseOptions options;
      if (!google::protobuf::util::JsonStringToMessage(line, &attempt, options).ok()) continue;
      next_sequence_ = std::max(next_sequence_, attempt.sequence() + 1);
      ring_.push_back(std::move(attempt));
      if (ring_.size() > limits::kDeniedAttemptsKept) ring_.pop_front();
    }
  }
}

void DeniedLog::Record(DeniedAttempt attempt) {
  absl::MutexLock lock(&mu_);
  attempt.set_sequence(next_sequence_++);
  ++counts_.total;
  if (attempt.code() == "UNAUTHENTICATED") {
    ++counts_.unauthenticated;
  } else if (attempt.code() == "PERMISSION_DENIED") {
    ++counts_.permission_denied;
  } else {
    ++counts_.other;
  }
  Append(attempt);
  ring_.push_back(std::move(attempt));
  if (ring_.size() > limits::kDeniedAttemptsKept) ring_.pop_front();
}

void DeniedLog::Append(const DeniedAttempt& attempt) {
  if (file_ == nullptr) return;
  if (file_bytes_ >= max_file_bytes_) {
    std::fclose(file_);
    std::rename(path_.c_str(), (path_ + ".1").c_str());
    file_ = std::fopen(path_.c_str(), "ab");
    file_bytes_ = 0;
    if (file_ == nullptr) {
      LEDGER_LOG_ERROR("denied-attempt log %s: cannot reopen after rotation", path_);
      return;
    }
  }
  std::string line = ToJsonLine(attempt);
  line.push_back('\n');
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
    LEDGER_LOG_ERROR("denied-attempt log %s: write failed", path_);
    return;
  }
  file_bytes_ += line.size();
}

DeniedCounts DeniedLog::counts() const {
  absl::MutexLock lock(&mu_);
  return counts_;
}

}  // namespace ledger::auth
