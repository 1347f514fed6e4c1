// The subcommands of ledgerctl and their shared context.
//
//   commands.cc        - the command table, help texts, global flags, dispatch
//   commands_write.cc  - append
//   commands_read.cc   - read, log, get, head, position-at, verify
//   commands_follow.cc - follow, replay
//   commands_sakip.cc  - import, report, reconcile (sakip.v1.ReportService)
//   commands_audit.cc  - history, explain, diff, late (sakip.v1.AuditService)
//   commands_trust.cc  - public-key, signed-head, verify-event (signed tree heads)
//   commands_bundle.cc - bundle, verify-bundle (the auditor bundle)
//   commands_backup.cc - backup create|list|verify|prune (ledger.v1.AdminService)
#ifndef CLIENTS_LEDGERCTL_COMMANDS_H_
#define CLIENTS_LEDGERCTL_COMMANDS_H_

#include <iosfwd>
#include <string>
#include <vector>

#include "clients/ledgerctl/args.h"
#include "clients/ledgerctl/client.h"

namespace ledgerctl {

// What a subcommand runs with.
struct CommandContext {
  ParsedArgs& args;    // the subcommand's flags and positionals
  Client& client;      // connected lazily by gRPC on the first call
  bool json_output;    // --json / --output=json: JSON Lines on stdout
  bool csv_output;     // --csv / --output=csv: CSV (RFC 4180) on stdout
  std::ostream& out;   // stdout
  std::ostream& err;   // stderr, for hints that are not results
};

// Runs one subcommand; returns the exit code or throws CliError.
using CommandFn = int (*)(CommandContext&);

int RunAppend(CommandContext& context);
int RunRead(CommandContext& context);
int RunLog(CommandContext& context);
int RunGet(CommandContext& context);
int RunHead(CommandContext& context);
int RunPositionAt(CommandContext& context);
int RunVerify(CommandContext& context);
int RunFollow(CommandContext& context);
int RunImport(CommandContext& context);
int RunReport(CommandContext& context);
int RunReconcile(CommandContext& context);
int RunHistory(CommandContext& context);
int RunExplain(CommandContext& context);
int RunDiff(CommandContext& context);
int RunLate(CommandContext& context);
int RunReplay(CommandContext& context);
int RunPublicKey(CommandContext& context);
int RunTokenNew(CommandContext& context);
int RunDenied(CommandContext& context);
int RunSignedHead(CommandContext& context);
int RunVerifyEvent(CommandContext& context);
int RunBundle(CommandContext& context);
int RunVerifyBundle(CommandContext& context);
int RunBackup(CommandContext& context);

// The whole program: parses argv, runs the subcommand, prints errors as
// "ledgerctl: <message>" and returns the exit code.
int LedgerctlMain(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace ledgerctl

#endif  // CLIENTS_LEDGERCTL_COMMANDS_H_
