#include "ledger/util/durable_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace ledger {
namespace {

absl::Status Failed(std::string_view what, const std::string& path) {
  return absl::UnavailableError(
      absl::StrCat("cannot ", std::string(what), " ", path, ": ", std::strerror(errno)));
}

class Posix final : public DurableFileOps {
 public:
  absl::Status WriteAndSync(const std::string& path, std::string_view bytes, mode_t mode) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) return Failed("create", path);
    const bool written = ::fchmod(fd, mode) == 0 &&
                         ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) &&
                         ::fsync(fd) == 0;
    const int saved = errno;
    ::close(fd);
    errno = saved;
    if (!written) return Failed("write", path);
    return absl::OkStatus();
  }
  absl::Status Rename(const std::string& from, const std::string& to) override {
    if (std::rename(from.c_str(), to.c_str()) != 0) return Failed("rename onto", to);
    return absl::OkStatus();
  }
  absl::Status SyncDirectory(const std::string& directory) override {
    int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) return Failed("open the directory", directory);
    const bool synced = ::fsync(dir_fd) == 0;
    const int saved = errno;
    ::close(dir_fd);
    errno = saved;
    if (!synced) return Failed("sync the directory", directory);
    return absl::OkStatus();
  }
};

}  // namespace

DurableFileOps* PosixFileOps() {
  static Posix* const posix = new Posix();
  return posix;
}

absl::Status WriteFileDurably(const std::string& path, std::string_view bytes, mode_t mode,
                              DurableFileOps* ops) {
  const std::string temporary = path + ".tmp";
  if (absl::Status status = ops->WriteAndSync(temporary, bytes, mode); !status.ok()) return status;
  if (absl::Status status = ops->Rename(temporary, path); !status.ok()) return status;
  const std::string directory = std::filesystem::path(path).parent_path().string();
  return ops->SyncDirectory(directory.empty() ? "." : directory);
}

}  // namespace ledger
