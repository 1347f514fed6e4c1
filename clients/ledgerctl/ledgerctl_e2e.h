// What ledgerctl's end-to-end tests share (ledgerctl_test.cc,
// ledgerctl_trust_e2e_test.cc): child processes with redirected output, a
// fixture that starts a real ledgerd on a free port in a temporary directory
// (more than one when a test needs several servers) and stops each with
// SIGTERM, which must end it cleanly; and helpers to run the real ledgerctl
// and read its JSON Lines. LEDGERD_PATH, LEDGERCTL_PATH and LEDGER_SOURCE_DIR
// come from CMake.
#ifndef CLIENTS_LEDGERCTL_LEDGERCTL_E2E_H_
#define CLIENTS_LEDGERCTL_LEDGERCTL_E2E_H_

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

extern char** environ;

namespace ledgerctl_e2e {

using Json = google::protobuf::Struct;

inline constexpr auto kWaitLimit = std::chrono::seconds(10);
inline constexpr char kReferenceJsonl[] = LEDGER_SOURCE_DIR "/tests/data/klakah-tw2-2024.jsonl";

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A child process with stdin/stdout/stderr redirected to files.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& in, const std::string& out,
        const std::string& err, const std::vector<std::string>& extra_env = {}) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, in.empty() ? "/dev/null" : in.c_str(),
                                     O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    std::vector<std::string> env_strings(extra_env);
    for (char** e = environ; *e != nullptr; ++e) env_strings.push_back(*e);
    std::vector<char*> env;
    for (std::string& entry : env_strings) env.push_back(entry.data());
    env.push_back(nullptr);
    int error = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), env.data());
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_EQ(error, 0) << "cannot start " << argv[0];
    if (error != 0) pid_ = -1;
  }

  void Signal(int signal_number) {
    if (pid_ > 0) kill(pid_, signal_number);
  }

  // The exit code; -1 if it had to be killed after `limit`, or died of a signal.
  int Wait(std::chrono::milliseconds limit = kWaitLimit) {
    if (pid_ <= 0) return -1;
    auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "pid " << pid_ << " still running after " << limit.count() << " ms";
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        pid_ = -1;
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
};

struct Result {
  int code;
  std::string out;
  std::string err;
};

// Parses JSON Lines into objects; fails the test on a line that is not JSON.
inline std::vector<Json> JsonLines(const std::string& text) {
  std::vector<Json> objects;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    Json object;
    auto status = google::protobuf::util::JsonStringToMessage(std::string(line), &object);
    EXPECT_TRUE(status.ok()) << "not JSON: " << line;
    objects.push_back(object);
  }
  return objects;
}

inline double Number(const Json& object, const std::string& key) { return object.fields().at(key).number_value(); }
inline std::string Str(const Json& object, const std::string& key) { return object.fields().at(key).string_value(); }

// A port that nothing listens on (bound, then closed).
inline int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

class LedgerctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeTempDir();
    server_address_ = StartLedgerd("data", ServerFlags(), &server_);
  }

  // The flags of the test's ledgerd. Positions in most tests are exact: no
  // signed heads or report seals interleave (the trust tests turn them on).
  virtual std::vector<std::string> ServerFlags() const { return {"--sign_heads=false"}; }

  void TearDown() override {
    for (auto& [name, server] : servers_) StopLedgerd(name, server);
    if (server_) StopLedgerd("data", server_);
    if (!dir_.empty() && std::getenv("LEDGER_KEEP_TEST_DIRS") == nullptr) {
      std::filesystem::remove_all(dir_);
    }
  }

  void MakeTempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "ledgerctl_test.XXXXXX");
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }

  // Starts `ledgerd --data_dir=<dir>/<name> <flags>` on a free port into
  // `*child`; returns its address ("" after a test failure).
  std::string StartLedgerd(const std::string& name, const std::vector<std::string>& flags,
                           std::unique_ptr<Child>* child) {
    const std::string port_file = Path(name + ".port");
    std::vector<std::string> argv = {LEDGERD_PATH, "--data_dir=" + Path(name), "--listen=127.0.0.1:0",
                                     "--port_file=" + port_file};
    argv.insert(argv.end(), flags.begin(), flags.end());
    std::filesystem::remove(port_file);
    *child = std::make_unique<Child>(argv, "", Path(name + ".out"), Path(name + ".err"));
    auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
    while (!std::filesystem::exists(port_file) || ReadFile(port_file).empty()) {
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "ledgerd wrote no port file: " << ReadFile(Path(name + ".err"));
        return "";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return "127.0.0.1:" + std::to_string(std::stoi(ReadFile(port_file)));
  }

  // Another ledgerd, stopped at the end of the test.
  std::string StartAnotherLedgerd(const std::string& name, const std::vector<std::string>& flags) {
    servers_.emplace_back(name, nullptr);
    return StartLedgerd(name, flags, &servers_.back().second);
  }

  void StopLedgerd(const std::string& name, std::unique_ptr<Child>& server) {
    if (!server) return;
    server->Signal(SIGTERM);
    EXPECT_EQ(server->Wait(), 0) << "ledgerd " << name << " did not stop cleanly on SIGTERM: "
                                 << ReadFile(Path(name + ".err"));
    server.reset();
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  std::vector<std::string> Argv(const std::vector<std::string>& args, const std::string& server) const {
    std::vector<std::string> argv = {LEDGERCTL_PATH, "--server=" + server};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  // Runs ledgerctl against `server` (default: this test's ledgerd).
  Result RunAt(const std::string& server, const std::vector<std::string>& args,
               const std::string& stdin_path = "") {
    std::string out = Path("run" + std::to_string(++runs_) + ".out");
    std::string err = Path("run" + std::to_string(runs_) + ".err");
    Child child(Argv(args, server), stdin_path, out, err);
    int code = child.Wait();
    return {code, ReadFile(out), ReadFile(err)};
  }
  Result Run(const std::vector<std::string>& args, const std::string& stdin_path = "") {
    return RunAt(server_address_, args, stdin_path);
  }

  // Appends a JSON event and expects success.
  void Append(const std::string& stream, const std::string& type, const std::string& json,
              const std::vector<std::string>& more = {}) {
    std::vector<std::string> args = {"append", stream, "--type", type, "--json", json};
    args.insert(args.end(), more.begin(), more.end());
    Result result = Run(args);
    ASSERT_EQ(result.code, 0) << result.err;
  }

  std::string dir_;
  std::string server_address_;
  std::unique_ptr<Child> server_;
  std::vector<std::pair<std::string, std::unique_ptr<Child>>> servers_;
  int runs_ = 0;
};

}  // namespace ledgerctl_e2e

#endif  // CLIENTS_LEDGERCTL_LEDGERCTL_E2E_H_
