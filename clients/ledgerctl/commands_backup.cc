// backup create|list|verify|prune: online backups through ledger.v1.AdminService.
#include <cstdint>
#include <cstdio>
#include <optional>
#include <ostream>

#include "clients/ledgerctl/commands.h"
#include "clients/ledgerctl/errors.h"
#include "clients/ledgerctl/format.h"
#include "clients/ledgerctl/json_text.h"
#include "clients/ledgerctl/times.h"

namespace ledgerctl {
namespace {

std::string BackupJson(const ledger::v1::BackupInfo& backup, JsonObject object = JsonObject()) {
  return object.Uint("backup_id", backup.backup_id())
      .String("created_at", FormatUtc(backup.created_at_micros()))
      .Int("created_at_micros", backup.created_at_micros())
      .Uint("head_position", backup.head_position())
      .String("head_hash", Hex(backup.head_hash()))
      .String("head_recorded_at", backup.head_position() == 0 ? "" : FormatUtc(backup.head_recorded_at_micros()))
      .Int("head_recorded_at_micros", backup.head_recorded_at_micros())
      .String("tree_root", Hex(backup.tree_root()))
      .Uint("schema_version", backup.schema_version())
      .Uint("file_count", backup.file_count())
      .Uint("size_bytes", backup.size_bytes())
      .Build();
}

// "12.3 MiB"
std::string Size(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof(text), unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return text;
}

// The human view of one backup, indented under a title line.
void PrintBackupDetail(std::ostream& out, const ledger::v1::BackupInfo& backup) {
  out << "  taken      " << FormatWib(backup.created_at_micros()) << "\n"
      << "  head       position " << backup.head_position() << ", hash " << Hex(backup.head_hash()) << "\n"
      << "  recorded   "
      << (backup.head_position() == 0 ? "- (empty ledger)" : FormatWib(backup.head_recorded_at_micros())) << "\n"
      << "  tree root  " << (backup.tree_root().empty() ? "-" : Hex(backup.tree_root())) << "\n"
      << "  files      " << backup.file_count() << " (" << Size(backup.size_bytes()) << "), schema version "
      << backup.schema_version() << "\n";
}

// Flags that belong to one action only.
void CheckFlags(const CommandContext& context, const std::string& action) {
  if (context.args.Has("deep") && action != "verify") throw UsageError("--deep: only with backup verify");
  for (const char* flag : {"keep", "dry-run"}) {
    if (context.args.Has(flag) && action != "prune") {
      throw UsageError(std::string("--") + flag + ": only with backup prune");
    }
  }
}

int Create(CommandContext& context) {
  if (context.args.positionals.size() > 1) throw UsageError("backup create: takes no BACKUP_ID");
  ledger::v1::CreateBackupResponse response;
  auto call = context.client.UnaryContext();
  context.client.Check(context.client.admin().CreateBackup(call.get(), {}, &response));
  if (context.json_output) {
    context.out << BackupJson(response.backup()) << "\n";
  } else {
    context.out << "backup " << response.backup().backup_id() << " created\n";
    PrintBackupDetail(context.out, response.backup());
  }
  return kExitOk;
}

int List(CommandContext& context) {
  if (context.args.positionals.size() > 1) throw UsageError("backup list: takes no BACKUP_ID");
  ledger::v1::ListBackupsResponse response;
  auto call = context.client.UnaryContext();
  context.client.Check(context.client.admin().ListBackups(call.get(), {}, &response));
  if (context.json_output) {
    for (const auto& backup : response.backups()) context.out << BackupJson(backup) << "\n";
    for (const auto& corrupt : response.corrupt()) {
      context.out << JsonObject().Uint("backup_id", corrupt.backup_id()).String("corrupt", corrupt.reason()).Build()
                  << "\n";
    }
    return kExitOk;
  }
  if (response.backups().empty() && response.corrupt().empty()) {
    context.out << "no backups yet (ledgerctl backup create)\n";
  }
  for (const auto& backup : response.backups()) {
    context.out << "backup " << backup.backup_id() << "  " << FormatWib(backup.created_at_micros())
                << "  head position " << backup.head_position() << "  " << backup.file_count() << " files, "
                << Size(backup.size_bytes()) << "\n";
  }
  for (const auto& corrupt : response.corrupt()) {
    context.out << "backup " << corrupt.backup_id() << "  CORRUPT: " << corrupt.reason() << "\n";
  }
  return kExitOk;
}

int Verify(CommandContext& context) {
  ledger::v1::VerifyBackupRequest request;
  if (context.args.positionals.size() == 2) {
    const uint64_t id = ParseUint(context.args.positionals[1], "BACKUP_ID");
    if (id == 0 || id > UINT32_MAX) throw UsageError("BACKUP_ID: must be 1..4294967295 (omit it for the latest)");
    request.set_backup_id(static_cast<uint32_t>(id));
  }
  request.set_deep(context.args.Has("deep"));
  ledger::v1::VerifyBackupResponse response;
  auto call = context.client.UnaryContext();
  context.client.Check(context.client.admin().VerifyBackup(call.get(), request, &response));
  if (context.json_output) {
    context.out << BackupJson(response.backup(), JsonObject()
                                                     .Bool("ok", true)
                                                     .Bool("deep", response.deep())
                                                     .Uint("verified_events", response.verified_events()))
                << "\n";
    return kExitOk;
  }
  context.out << "backup " << response.backup().backup_id() << " verifies: checksums of its "
              << response.backup().file_count() << " files";
  if (response.deep()) {
    context.out << "; restored and verified " << response.verified_events()
                << " events (hash chain and Merkle tree)";
  }
  context.out << "\n";
  PrintBackupDetail(context.out, response.backup());
  return kExitOk;
}

int Prune(CommandContext& context) {
  if (context.args.positionals.size() > 1) throw UsageError("backup prune: takes no BACKUP_ID (use --keep N)");
  std::optional<uint64_t> keep = context.args.GetUint("keep");
  if (!keep) throw UsageError("backup prune: --keep N is required (how many of the newest backups stay)");
  if (*keep == 0 || *keep > UINT32_MAX) throw UsageError("--keep: must be 1..4294967295");
  ledger::v1::PruneBackupsRequest request;
  request.set_keep_newest(static_cast<uint32_t>(*keep));
  request.set_dry_run(context.args.Has("dry-run"));
  ledger::v1::PruneBackupsResponse response;
  auto call = context.client.UnaryContext();
  context.client.Check(context.client.admin().PruneBackups(call.get(), request, &response));
  if (context.json_output) {
    // One line per backup; "outcome" says what pruning did with it.
    for (const auto& backup : response.deleted()) {
      context.out << BackupJson(backup, JsonObject().String("outcome", request.dry_run() ? "would_delete" : "deleted"))
                  << "\n";
    }
    for (const auto& backup : response.kept()) {
      context.out << BackupJson(backup, JsonObject().String("outcome", "kept")) << "\n";
    }
    for (uint32_t id : response.corrupt_left()) {
      context.out << JsonObject().String("outcome", "corrupt_left").Uint("backup_id", id).Build() << "\n";
    }
    return kExitOk;
  }
  const char* verb = request.dry_run() ? "would delete" : "deleted";
  if (response.deleted().empty()) {
    context.out << "nothing to delete: " << response.kept_size() << " backups, keeping the newest " << *keep
                << "\n";
  }
  for (const auto& backup : response.deleted()) {
    context.out << verb << " backup " << backup.backup_id() << "  " << FormatWib(backup.created_at_micros())
                << "  head position " << backup.head_position() << "\n";
  }
  for (const auto& backup : response.kept()) {
    context.out << "kept backup " << backup.backup_id() << "  " << FormatWib(backup.created_at_micros())
                << "  head position " << backup.head_position() << "\n";
  }
  for (uint32_t id : response.corrupt_left()) {
    context.out << "left backup " << id << "  CORRUPT (delete it yourself once you know why)\n";
  }
  return kExitOk;
}

}  // namespace

int RunBackup(CommandContext& context) {
  const std::string& action = context.args.positionals[0];
  CheckFlags(context, action);
  if (action == "create") return Create(context);
  if (action == "list") return List(context);
  if (action == "verify") return Verify(context);
  if (action == "prune") return Prune(context);
  throw UsageError("backup: '" + action + "' is not one of create, list, verify, prune");
}

}  // namespace ledgerctl
