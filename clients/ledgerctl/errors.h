// Exit codes of ledgerctl and the one exception type that carries them.
//
// A subcommand throws CliError; main() prints "ledgerctl: <message>" on stderr
// and exits with the code. Nothing else in ledgerctl throws on purpose.
#ifndef CLIENTS_LEDGERCTL_ERRORS_H_
#define CLIENTS_LEDGERCTL_ERRORS_H_

#include <stdexcept>
#include <string>

namespace ledgerctl {

enum ExitCode : int {
  kExitOk = 0,
  kExitServerError = 1,  // the server answered with an error, or verify found a problem
  kExitUsage = 2,        // bad command line or bad input (e.g. invalid JSON)
  kExitUnavailable = 3,  // cannot connect, or the server is unavailable
  // Verification failed: a signed head, proof, event or auditor bundle does
  // not verify (bad signature, rollback, fork, bad proof); nothing was stored.
  kExitRefused = 4,
};

class CliError : public std::runtime_error {
 public:
  CliError(ExitCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

inline CliError UsageError(const std::string& message) { return CliError(kExitUsage, message); }

}  // namespace ledgerctl

#endif  // CLIENTS_LEDGERCTL_ERRORS_H_
