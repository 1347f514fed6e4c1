#include "ledger/testing/fault_injection_fs.h"

#include <algorithm>
#include <filesystem>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace ledger::testing {
namespace {

std::string Normal(const std::string& path) {
  std::string normal = std::filesystem::path(path).lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal;
}

std::string ParentOf(const std::string& path) {
  return std::filesystem::path(Normal(path)).parent_path().string();
}

// A writable file whose appends and syncs the file system sees.
class FaultFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultFile(std::unique_ptr<rocksdb::FSWritableFile> file, FaultInjectionFileSystem* fs,
            std::string path, uint64_t size)
      : FSWritableFileOwnerWrapper(std::move(file)), fs_(fs), path_(std::move(path)), size_(size) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* debug) override {
    rocksdb::IOStatus status = fs_->BeforeOperation(FileOperation::kWrite, path_);
    if (status.ok()) status = target()->Append(data, options, debug);
    if (status.ok()) Appended(data.size());
    return status;
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& verification,
                           rocksdb::IODebugContext* debug) override {
    rocksdb::IOStatus status = fs_->BeforeOperation(FileOperation::kWrite, path_);
    if (status.ok()) status = target()->Append(data, options, verification, debug);
    if (status.ok()) Appended(data.size());
    return status;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* debug) override {
    rocksdb::IOStatus status = fs_->BeforeOperation(FileOperation::kWrite, path_);
    if (status.ok()) status = target()->PositionedAppend(data, offset, options, debug);
    if (status.ok()) {
      size_ = std::max(size_, offset + data.size());
      fs_->AfterAppend(path_, size_);
    }
    return status;
  }
  rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* debug) override {
    rocksdb::IOStatus status = fs_->BeforeOperation(FileOperation::kWrite, path_);
    if (status.ok()) status = target()->Truncate(size, options, debug);
    if (status.ok()) {
      size_ = size;
      fs_->AfterAppend(path_, size_);
    }
    return status;
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* debug) override {
    return SyncWith([&] { return target()->Sync(options, debug); });
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* debug) override {
    return SyncWith([&] { return target()->Fsync(options, debug); });
  }

 private:
  void Appended(size_t bytes) {
    size_ += bytes;
    fs_->AfterAppend(path_, size_);
  }
  template <typename SyncFn>
  rocksdb::IOStatus SyncWith(SyncFn sync) {
    rocksdb::IOStatus status = fs_->BeforeOperation(FileOperation::kSync, path_);
    if (!status.ok()) return status;
    if (fs_->IgnoresSync(path_)) return rocksdb::IOStatus::OK();
    status = sync();
    if (!status.ok()) return status;
    fs_->CutIfArmed(FileOperation::kSync, path_);
    return fs_->AfterSync(path_, size_);
  }

  FaultInjectionFileSystem* const fs_;
  const std::string path_;
  uint64_t size_;
};

// A directory whose syncs make the entries in it durable.
class FaultDirectory final : public rocksdb::FSDirectoryWrapper {
 public:
  FaultDirectory(std::unique_ptr<rocksdb::FSDirectory> directory, FaultInjectionFileSystem* fs,
                 std::string path)
      : FSDirectoryWrapper(std::move(directory)), fs_(fs), path_(std::move(path)) {}

  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* debug) override {
    return SyncWith([&] { return FSDirectoryWrapper::Fsync(options, debug); });
  }
  rocksdb::IOStatus FsyncWithDirOptions(const rocksdb::IOOptions& options,
                                        rocksdb::IODebugContext* debug,
                                        const rocksdb::DirFsyncOptions& dir_options) override {
    return SyncWith(
        [&] { return FSDirectoryWrapper::FsyncWithDirOptions(options, debug, dir_options); });
  }

 private:
  template <typename SyncFn>
  rocksdb::IOStatus SyncWith(SyncFn sync) {
    rocksdb::IOStatus status = fs_->BeforeOperation(FileOperation::kDirSync, path_);
    if (status.ok()) status = sync();
    if (!status.ok()) return status;
    fs_->CutIfArmed(FileOperation::kDirSync, path_);
    return fs_->AfterDirSync(path_);
  }

  FaultInjectionFileSystem* const fs_;
  const std::string path_;
};

}  // namespace

FaultInjectionFileSystem::FaultInjectionFileSystem(std::shared_ptr<rocksdb::FileSystem> base)
    : FileSystemWrapper(std::move(base)) {}

FaultInjectionFileSystem::~FaultInjectionFileSystem() = default;

// --- Faults ----------------------------------------------------------------

void FaultInjectionFileSystem::FailNext(InjectedFault fault) {
  absl::MutexLock lock(&mu_);
  faults_.push_back(std::move(fault));
}

void FaultInjectionFileSystem::SetDiskFull(bool full) {
  absl::MutexLock lock(&mu_);
  disk_full_ = full;
}

void FaultInjectionFileSystem::ClearFaults() {
  absl::MutexLock lock(&mu_);
  faults_.clear();
  disk_full_ = false;
}

int FaultInjectionFileSystem::faults_fired() const {
  absl::MutexLock lock(&mu_);
  return faults_fired_;
}

std::optional<rocksdb::IOStatus> FaultInjectionFileSystem::MatchFault(FileOperation operation,
                                                                      const std::string& path) {
  if (disk_full_ && (operation == FileOperation::kWrite || operation == FileOperation::kCreate)) {
    ++faults_fired_;
    return rocksdb::IOStatus::NoSpace("injected: no space left on device", path);
  }
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (it->operation != operation || !absl::StrContains(path, it->path_contains)) continue;
    if (it->skip > 0) {
      --it->skip;
      return std::nullopt;
    }
    const bool no_space = it->no_space;
    if (it->count > 0 && --it->count == 0) faults_.erase(it);
    ++faults_fired_;
    return no_space ? rocksdb::IOStatus::NoSpace("injected: no space left on device", path)
                    : rocksdb::IOStatus::IOError("injected I/O error", path);
  }
  return std::nullopt;
}

rocksdb::IOStatus FaultInjectionFileSystem::BeforeOperation(FileOperation operation,
                                                            const std::string& path) {
  absl::MutexLock lock(&mu_);
  if (power_cut_) return rocksdb::IOStatus::IOError("simulated power cut", path);
  if (std::optional<rocksdb::IOStatus> fault = MatchFault(operation, Normal(path))) return *fault;
  return rocksdb::IOStatus::OK();
}

// --- Tracking --------------------------------------------------------------

rocksdb::IOStatus FaultInjectionFileSystem::Track(const std::string& path, bool existed,
                                                  uint64_t size) {
  FileState& state = files_[Normal(path)];
  state.size = size;
  state.synced_size = size;  // what was there before is as durable as it was
  state.entry_durable = existed;
  return rocksdb::IOStatus::OK();
}

void FaultInjectionFileSystem::AfterAppend(const std::string& path, uint64_t size_after) {
  absl::MutexLock lock(&mu_);
  FileState& state = files_[Normal(path)];
  state.size = size_after;
  state.synced_size = std::min(state.synced_size, size_after);
}

rocksdb::IOStatus FaultInjectionFileSystem::AfterSync(const std::string& path, uint64_t size) {
  absl::MutexLock lock(&mu_);
  // A sync still running when the power went off made nothing durable.
  if (power_cut_) return rocksdb::IOStatus::IOError("simulated power cut during sync", path);
  FileState& state = files_[Normal(path)];
  state.synced_size = std::max(state.synced_size, std::min(size, state.size));
  ++syncs_;
  return rocksdb::IOStatus::OK();
}

bool FaultInjectionFileSystem::IgnoresSync(const std::string& path) {
  absl::MutexLock lock(&mu_);
  return wal_syncs_ignored_ && absl::EndsWith(path, kWalSuffix);
}

rocksdb::IOStatus FaultInjectionFileSystem::AfterDirSync(const std::string& directory) {
  const std::string dir = Normal(directory);
  absl::MutexLock lock(&mu_);
  // As for a file: a directory sync still running when the power went off
  // made no name durable, and its caller must not be told otherwise (the
  // model once returned success here, and a WAL file's name it had not made
  // durable lost acknowledged appends in the power-cut test).
  if (power_cut_) return rocksdb::IOStatus::IOError("simulated power cut during sync", directory);
  for (auto& [path, state] : files_) {
    if (ParentOf(path) == dir) state.entry_durable = true;
  }
  renames_.erase(std::remove_if(renames_.begin(), renames_.end(),
                                [&](const PendingRename& rename) { return ParentOf(rename.to) == dir; }),
                 renames_.end());
  return rocksdb::IOStatus::OK();
}

std::vector<FaultInjectionFileSystem::TrackedFile> FaultInjectionFileSystem::Files() const {
  absl::MutexLock lock(&mu_);
  std::vector<TrackedFile> files;
  for (const auto& [path, state] : files_) {
    files.push_back(TrackedFile{path, state.size, state.synced_size, state.entry_durable});
  }
  return files;
}

std::string FaultInjectionFileSystem::DescribeFiles() const {
  std::string out;
  for (const TrackedFile& file : Files()) {
    absl::StrAppend(&out, file.path, ": written ", file.size, ", durable ", file.synced_size,
                    file.name_durable ? "" : ", name not durable", "\n");
  }
  absl::MutexLock lock(&mu_);
  for (const PendingRename& rename : renames_) {
    absl::StrAppend(&out, "rename not durable: ", rename.from, " -> ", rename.to, "\n");
  }
  return out;
}

uint64_t FaultInjectionFileSystem::syncs() const {
  absl::MutexLock lock(&mu_);
  return syncs_;
}

void FaultInjectionFileSystem::SetWalSyncsIgnored(bool ignored) {
  absl::MutexLock lock(&mu_);
  wal_syncs_ignored_ = ignored;
}

void FaultInjectionFileSystem::HoldCreates(std::string path_contains) {
  absl::MutexLock lock(&mu_);
  held_creates_ = std::move(path_contains);
}

void FaultInjectionFileSystem::ReleaseCreates() {
  absl::MutexLock lock(&mu_);
  held_creates_.clear();
}

void FaultInjectionFileSystem::WaitWhileCreatesHeld(const std::string& path) {
  absl::MutexLock lock(&mu_);
  auto released = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return held_creates_.empty() || path.find(held_creates_) == std::string::npos;
  };
  mu_.Await(absl::Condition(&released));
}

// --- Power cuts ------------------------------------------------------------

void FaultInjectionFileSystem::CutPower() {
  absl::MutexLock lock(&mu_);
  power_cut_ = true;
}

void FaultInjectionFileSystem::CutPowerDuringNext(FileOperation operation,
                                                  std::string path_contains, int skip) {
  absl::MutexLock lock(&mu_);
  cut_during_ = CutDuring{operation, std::move(path_contains), skip};
}

void FaultInjectionFileSystem::CutIfArmed(FileOperation operation, const std::string& path) {
  absl::MutexLock lock(&mu_);
  if (!cut_during_ || cut_during_->operation != operation ||
      path.find(cut_during_->path_contains) == std::string::npos) {
    return;
  }
  if (cut_during_->skip-- > 0) return;
  cut_during_.reset();
  power_cut_ = true;
}

bool FaultInjectionFileSystem::power_cut() const {
  absl::MutexLock lock(&mu_);
  return power_cut_;
}

void FaultInjectionFileSystem::RestorePower() {
  absl::MutexLock lock(&mu_);
  power_cut_ = false;
}

absl::Status FaultInjectionFileSystem::UndoRenames(int* undone) {
  rocksdb::IOOptions io;
  for (auto it = renames_.rbegin(); it != renames_.rend(); ++it) {
    if (!target()->FileExists(it->to, io, nullptr).ok()) continue;
    rocksdb::IOStatus status = target()->RenameFile(it->to, it->from, io, nullptr);
    if (status.ok() && it->old_target) {
      status = rocksdb::WriteStringToFile(target(), *it->old_target, it->to, /*should_sync=*/true);
    }
    if (!status.ok()) return absl::InternalError(absl::StrCat("undoing a rename: ", status.ToString()));
    FileState restored;
    if (auto moved = files_.find(it->to); moved != files_.end()) {
      restored = moved->second;
      files_.erase(moved);
    }
    restored.entry_durable = it->from_entry_durable;
    files_[it->from] = restored;
    ++*undone;
  }
  renames_.clear();
  return absl::OkStatus();
}

absl::StatusOr<std::string> FaultInjectionFileSystem::DropUnsyncedData() {
  absl::MutexLock lock(&mu_);
  int undone = 0;
  if (absl::Status status = UndoRenames(&undone); !status.ok()) return status;
  int truncated = 0;
  int removed = 0;
  rocksdb::IOOptions io;
  for (const auto& [path, state] : files_) {
    if (!target()->FileExists(path, io, nullptr).ok()) continue;
    rocksdb::IOStatus status;
    if (!state.entry_durable) {
      status = target()->DeleteFile(path, io, nullptr);
      ++removed;
    } else {
      uint64_t size = 0;
      status = target()->GetFileSize(path, io, &size, nullptr);
      if (status.ok() && size > state.synced_size) {
        // The base is the local disk (RocksDB's POSIX file system does not
        // implement Truncate).
        std::error_code error;
        std::filesystem::resize_file(path, state.synced_size, error);
        if (error) status = rocksdb::IOStatus::IOError("truncating", error.message());
        ++truncated;
      }
    }
    if (!status.ok()) return absl::InternalError(absl::StrCat(path, ": ", status.ToString()));
  }
  files_.clear();
  return absl::StrCat("truncated ", truncated, " files, removed ", removed, ", undid ", undone,
                      " renames");
}

// --- rocksdb::FileSystem -----------------------------------------------------

rocksdb::IOStatus FaultInjectionFileSystem::NewWritableFile(
    const std::string& path, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* file, rocksdb::IODebugContext* debug) {
  WaitWhileCreatesHeld(path);
  rocksdb::IOStatus status = BeforeOperation(FileOperation::kCreate, path);
  if (!status.ok()) return status;
  const bool existed = target()->FileExists(path, options.io_options, debug).ok();
  status = target()->NewWritableFile(path, options, file, debug);
  if (!status.ok()) return status;
  {
    absl::MutexLock lock(&mu_);
    Track(path, existed, 0);
  }
  *file = std::make_unique<FaultFile>(std::move(*file), this, Normal(path), 0);
  return status;
}

rocksdb::IOStatus FaultInjectionFileSystem::ReopenWritableFile(
    const std::string& path, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* file, rocksdb::IODebugContext* debug) {
  rocksdb::IOStatus status = BeforeOperation(FileOperation::kCreate, path);
  if (!status.ok()) return status;
  const bool existed = target()->FileExists(path, options.io_options, debug).ok();
  uint64_t size = 0;
  if (existed) target()->GetFileSize(path, options.io_options, &size, debug);
  status = target()->ReopenWritableFile(path, options, file, debug);
  if (!status.ok()) return status;
  {
    absl::MutexLock lock(&mu_);
    auto known = files_.find(Normal(path));
    if (known == files_.end()) {
      Track(path, existed, size);
    } else {
      size = known->second.size;
    }
  }
  *file = std::make_unique<FaultFile>(std::move(*file), this, Normal(path), size);
  return status;
}

rocksdb::IOStatus FaultInjectionFileSystem::ReuseWritableFile(
    const std::string& path, const std::string&, const rocksdb::FileOptions&,
    std::unique_ptr<rocksdb::FSWritableFile>*, rocksdb::IODebugContext*) {
  // The ledger never recycles WAL files (recycle_log_file_num = 0).
  return rocksdb::IOStatus::NotSupported("FaultInjectionFileSystem does not reuse files", path);
}

rocksdb::IOStatus FaultInjectionFileSystem::NewDirectory(
    const std::string& path, const rocksdb::IOOptions& options,
    std::unique_ptr<rocksdb::FSDirectory>* directory, rocksdb::IODebugContext* debug) {
  rocksdb::IOStatus status = target()->NewDirectory(path, options, directory, debug);
  if (status.ok()) *directory = std::make_unique<FaultDirectory>(std::move(*directory), this, Normal(path));
  return status;
}

rocksdb::IOStatus FaultInjectionFileSystem::RenameFile(const std::string& from, const std::string& to,
                                                       const rocksdb::IOOptions& options,
                                                       rocksdb::IODebugContext* debug) {
  rocksdb::IOStatus status = BeforeOperation(FileOperation::kRename, to);
  if (!status.ok()) return status;
  PendingRename rename{Normal(from), Normal(to), std::nullopt};
  uint64_t old_size = 0;
  if (target()->GetFileSize(to, options, &old_size, debug).ok() && old_size <= kMaxRenameUndoBytes) {
    std::string bytes;
    if (rocksdb::ReadFileToString(target(), to, &bytes).ok()) rename.old_target = std::move(bytes);
  }
  status = target()->RenameFile(from, to, options, debug);
  if (!status.ok()) return status;
  absl::MutexLock lock(&mu_);
  auto moved = files_.find(rename.from);
  FileState state = moved != files_.end() ? moved->second : FileState{};
  rename.from_entry_durable = state.entry_durable;
  if (moved != files_.end()) {
    files_.erase(moved);
  } else {
    target()->GetFileSize(rename.to, options, &state.size, debug);
    state.synced_size = state.size;
  }
  // The new name is not durable until its directory is synced (the undo
  // puts the old one back); the content is as durable as it was.
  state.entry_durable = rename.old_target.has_value();
  files_[rename.to] = state;
  renames_.push_back(std::move(rename));
  return status;
}

rocksdb::IOStatus FaultInjectionFileSystem::LinkFile(const std::string& from, const std::string& to,
                                                     const rocksdb::IOOptions& options,
                                                     rocksdb::IODebugContext* debug) {
  rocksdb::IOStatus status = BeforeOperation(FileOperation::kCreate, to);
  if (!status.ok()) return status;
  status = target()->LinkFile(from, to, options, debug);
  if (!status.ok()) return status;
  absl::MutexLock lock(&mu_);
  auto source = files_.find(Normal(from));
  FileState state;
  if (source != files_.end()) {
    state = source->second;
  } else {
    target()->GetFileSize(to, options, &state.size, debug);
    state.synced_size = state.size;
  }
  state.entry_durable = false;
  files_[Normal(to)] = state;
  return status;
}

rocksdb::IOStatus FaultInjectionFileSystem::DeleteFile(const std::string& path,
                                                       const rocksdb::IOOptions& options,
                                                       rocksdb::IODebugContext* debug) {
  {
    absl::MutexLock lock(&mu_);
    if (power_cut_) return rocksdb::IOStatus::IOError("simulated power cut", path);
  }
  rocksdb::IOStatus status = target()->DeleteFile(path, options, debug);
  if (status.ok()) {
    absl::MutexLock lock(&mu_);
    files_.erase(Normal(path));
  }
  return status;
}

rocksdb::IOStatus FaultInjectionFileSystem::Truncate(const std::string& path, size_t size,
                                                     const rocksdb::IOOptions& options,
                                                     rocksdb::IODebugContext* debug) {
  rocksdb::IOStatus status = BeforeOperation(FileOperation::kWrite, path);
  if (status.ok()) status = target()->Truncate(path, size, options, debug);
  if (status.ok()) {
    absl::MutexLock lock(&mu_);
    auto known = files_.find(Normal(path));
    if (known != files_.end()) {
      known->second.size = size;
      known->second.synced_size = std::min<uint64_t>(known->second.synced_size, size);
    }
  }
  return status;
}

// --- The ledger's own files ------------------------------------------------

namespace {

absl::Status FromIo(const rocksdb::IOStatus& status, const char* what, const std::string& path) {
  if (status.ok()) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat("cannot ", what, " ", path, ": ", status.ToString()));
}

class FileSystemOps final : public DurableFileOps {
 public:
  explicit FileSystemOps(rocksdb::FileSystem* fs) : fs_(fs) {}

  absl::Status WriteAndSync(const std::string& path, std::string_view bytes, mode_t) override {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    rocksdb::IOOptions io;
    rocksdb::IOStatus status = fs_->NewWritableFile(path, rocksdb::FileOptions(), &file, nullptr);
    if (status.ok()) status = file->Append(rocksdb::Slice(bytes.data(), bytes.size()), io, nullptr);
    if (status.ok()) status = file->Sync(io, nullptr);
    if (file) {
      rocksdb::IOStatus closed = file->Close(io, nullptr);
      if (status.ok()) status = closed;
    }
    return FromIo(status, "write", path);
  }
  absl::Status Rename(const std::string& from, const std::string& to) override {
    return FromIo(fs_->RenameFile(from, to, rocksdb::IOOptions(), nullptr), "rename onto", to);
  }
  absl::Status SyncDirectory(const std::string& directory) override {
    std::unique_ptr<rocksdb::FSDirectory> dir;
    rocksdb::IOStatus status = fs_->NewDirectory(directory, rocksdb::IOOptions(), &dir, nullptr);
    if (status.ok()) status = dir->Fsync(rocksdb::IOOptions(), nullptr);
    return FromIo(status, "sync the directory", directory);
  }

 private:
  rocksdb::FileSystem* const fs_;
};

}  // namespace

std::unique_ptr<DurableFileOps> DurableFileOpsOn(rocksdb::FileSystem* fs) {
  return std::make_unique<FileSystemOps>(fs);
}

}  // namespace ledger::testing
