// The command table of ledgerctl: help texts, global flags, and dispatch of
// `ledgerctl [global flags] SUBCOMMAND [args] [flags]`.
#include "clients/ledgerctl/commands.h"

#include <fstream>
#include <sstream>

#include <algorithm>
#include <cstdlib>
#include <ostream>

#include "clients/ledgerctl/errors.h"

namespace ledgerctl {
namespace {

struct Command {
  const char* name;
  const char* summary;
  const char* help;  // usage line, description, flags, example
  std::vector<FlagSpec> flags;
  size_t min_positionals;
  size_t max_positionals;
  CommandFn run;
  bool csv = false;  // supports --csv
};

constexpr char kGlobalHelp[] = R"(Global flags (before or after the subcommand):
  --server=HOST:PORT    ledgerd to talk to (default: $LEDGER_SERVER, else 127.0.0.1:7070)
  --timeout-ms=N        deadline of each call in milliseconds (default 10000)
  --tls-ca=FILE         connect with TLS, trusting the server certificate's CA
                        (default: $LEDGER_TLS_CA; without it: plaintext)
  --tls-cert=FILE, --tls-key=FILE
                        client certificate and key for mutual TLS
                        (default: $LEDGER_TLS_CERT, $LEDGER_TLS_KEY)
  --tls-server-name=N   the name to check in the server's certificate, when it
                        differs from the host of --server
  --token-file=FILE     file holding the bearer token (default: $LEDGER_TOKEN_FILE;
                        or the token itself in $LEDGER_TOKEN). Needs --tls-ca.
  --output=human|json|csv
                        human: aligned tables (default); json: one JSON object per line;
                        csv: RFC 4180 records with a header (history, explain, diff,
                        late, replay)
  --json                short for --output=json (on `append`, --json is the payload instead)
  --csv                 short for --output=csv
  -h, --help            this help

Exit codes: 0 ok; 1 the server answered with an error (or verify found a problem);
2 usage error or bad input; 3 cannot connect / server unavailable; 4 refused: a signed
head, proof, event or bundle did not verify (bad signature, rollback, fork, bad proof).
Times are shown in WIB (Western Indonesia Time, UTC+7).
)";

const std::vector<FlagSpec>& GlobalFlags() {
  static const std::vector<FlagSpec> flags = {
      {"server", true},   {"timeout-ms", true}, {"output", true},          {"tls-ca", true},
      {"tls-cert", true}, {"tls-key", true},    {"tls-server-name", true}, {"token-file", true}};
  return flags;
}

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      {"append", "append one event to a stream",
       R"(usage: ledgerctl append STREAM --type TYPE (--json JSON | --file PATH | --file -) [flags]

Appends one event to STREAM. A JSON payload (--json, or --file with a name
ending in .json) is checked to be valid JSON before it is sent, and stored as
content type application/json (surrounding whitespace removed). Any other file
is sent as raw bytes with --content-type. Retrying with the same --id is safe:
the ledger answers "already recorded" and writes nothing.

  --type TYPE           event type, a past-tense fact name (required)
  --json JSON           the payload as JSON text
  --file PATH           the payload from a file; '-' reads standard input (as JSON)
  --content-type TYPE   content type of a non-JSON --file (default application/octet-stream)
  --id ID               event id, the idempotency key (default: a random UUIDv4)
  --expect any|none|N   any: whatever the stream's version (default);
                        none: the stream must not exist yet; N: its last version must be N
  --reason TEXT         why the event is written (e.g. why a figure is corrected)
  --correlation ID      groups the events of one business operation
  --causation ID        the event id that caused this one
  --output=json         print the result as one JSON object

example:
  ledgerctl append 35.08.19/2024 --type RealizationRecorded \
      --json '{"indicator":"IKU-1","value":87.5}' --expect none --reason "Q2 report"
)",
       {{"type"}, {"json"}, {"file"}, {"content-type"}, {"id"}, {"expect"}, {"reason"},
        {"correlation"}, {"causation"}},
       1, 1, RunAppend},
      {"read", "read the events of one stream",
       R"(usage: ledgerctl read STREAM [--from V] [--backward] [--limit N | --all-pages]

Prints the events of STREAM in version order, at most --limit of them.

  --from V       first version to print (default: the first, or the last with --backward)
  --backward     newest first
  --limit N      print at most N events (default 100); a hint on stderr says how to go on
  --all-pages    print every event to the end of the stream

example:
  ledgerctl read 35.08.19/2024 --backward --limit 5
)",
       {{"from"}, {"backward", false}, {"limit"}, {"all-pages", false}}, 1, 1, RunRead},
      {"log", "read the global log (all streams, by position)",
       R"(usage: ledgerctl log [--from P] [--backward] [--limit N | --all-pages]

Prints the global log in position order, at most --limit events.

  --from P       first position to print (default: the start, or the head with --backward)
  --backward     newest first
  --limit N      print at most N events (default 100); a hint on stderr says how to go on
  --all-pages    print every event to the end of the log

example:
  ledgerctl log --from 1000 --limit 20 --json
)",
       {{"from"}, {"backward", false}, {"limit"}, {"all-pages", false}}, 0, 0, RunLog},
      {"get", "show one event by its id",
       R"(usage: ledgerctl get EVENT_ID

Prints every field of the event, the payload in full (with --json: one JSON line).

example:
  ledgerctl get 0b0e5a44-6d6e-4c55-9a53-3d2b1f0c9e11
)",
       {}, 1, 1, RunGet},
      {"head", "show the head of the log and whether it accepts writes",
       R"(usage: ledgerctl head

Prints the last position, its hash and time, and whether the ledger accepts
writes (and why not).

example:
  ledgerctl head --json
)",
       {}, 0, 0, RunHead},
      {"position-at", "the last position recorded at or before a time",
       R"(usage: ledgerctl position-at TIME

Prints the last position recorded at or before TIME (0 if none). TIME is
RFC 3339 (2024-07-01T03:00:00Z, 2024-07-01T10:00:00+07:00), or a local time
without a zone, which is taken as WIB (UTC+7): "2024-07-01 10:00",
"2024-07-01 10:00:30", "2024-07-01" (midnight WIB).

example:
  ledgerctl position-at "2024-07-01 10:00"
)",
       {}, 1, 1, RunPositionAt},
      {"follow", "print events as they are appended (Subscribe)",
       R"(usage: ledgerctl follow [--from P | --from-head] [--count N] [--idle-exit-ms MS]

Prints the log from a position, then a line when caught up with the head, then
every new event as it is appended, until Ctrl-C. With --json, the caught-up
line is {"caught_up":true,"head_position":N}.

  --from P            first position (default: the start of the log)
  --from-head         only events appended from now on
  --count N           stop after N events
  --idle-exit-ms MS   stop when no event came for MS milliseconds

example:
  ledgerctl follow --from-head --json
)",
       {{"from"}, {"from-head", false}, {"count"}, {"idle-exit-ms"}}, 0, 0, RunFollow},
      {"verify", "recompute the hash chain over a range of positions",
       R"(usage: ledgerctl verify [--from P] [--to P]

Recomputes the hash chain on the server and, when the range starts at
position 1, the Merkle tree (its stored nodes, root and frontier). Exits 0
when the range is intact; otherwise prints the first bad position, the
problem and its detail, and exits 1.

  --from P   first position (default 1)
  --to P     last position (default: the head)

example:
  ledgerctl verify --from 1 --to 5000
)",
       {{"from"}, {"to"}}, 0, 0, RunVerify},
      {"import", "record SAKIP domain events from a JSON Lines file",
       R"(usage: ledgerctl import FILE [--batch N] [--progress-every N]

Records the SAKIP domain events of FILE ('-' reads standard input) through
ReportService.RecordEvents. One event per line, as in
tests/data/klakah-tw2-2024.jsonl:
  {"event_id": "...", "event_type": "RealizationRecorded", "reason": "...",
   "event": <proto3 JSON of sakip.v1.SakipEvent>}
Every line is parsed before anything is sent: a bad line stops the import
with nothing written, and the error names the line and the field. Consecutive
events of the same unit-year are sent together (the server validates each
batch against the unit-year once, and appends it atomically). If the server
refuses an event, the error names its line; earlier batches stay recorded.
Importing the same file again is safe: those events are "already recorded"
and nothing is written.

  --batch N            events per call, 1..1000 (default 100)
  --progress-every N   progress on stderr every N events, for files of at
                       least N events (default 1000)

example:
  ledgerctl import tests/data/klakah-tw2-2024.jsonl
)",
       {{"batch"}, {"progress-every"}}, 1, 1, RunImport},
      {"report", "the SAKIP quarterly report (Laporan Kinerja Triwulan N)",
       R"(usage: ledgerctl report UNIT YEAR QUARTER [--as-of-position P | --as-of TIME]

Prints the report "Triwulan QUARTER" of unit UNIT for fiscal year YEAR, computed
exactly from the ledger and shown in Indonesian notation (57,45;
1.077.194.452,00): Pengukuran Kinerja (indicators x TW I..IV realization and
capaian, year end, average row, predicate), the programme budget with
absorption and total, cost per outcome, the village checklist and the state
of the supervisor's disposition. By default as of now; or as the ledger stood
at a position or a time (RFC 3339, or "YYYY-MM-DD HH:MM" in WIB). With --json,
one JSON object with every figure's exact value ("p/q"), its plain and
Indonesian presentation, its formula and the event ids behind it.

  --as-of-position P   as of global position P
  --as-of TIME         as of the last event recorded at or before TIME

example:
  ledgerctl report 35.08.19 2024 2
  ledgerctl report 35.08.19 2024 2 --as-of "2024-07-05 10:00" --json
)",
       {{"as-of-position"}, {"as-of"}}, 3, 3, RunReport},
      {"reconcile", "declared vs recomputed figures of a submitted report",
       R"(usage: ledgerctl reconcile UNIT YEAR REPORT_ID

Compares every figure that report REPORT_ID declared when it was submitted
with the figure recomputed from the ledger as of its submission, and lists
each discrepancy: the declared and recomputed values (rounded like the
declared one, and exact), the formula with its inputs, and the events behind
it. Exits 0 when the reconciliation ran, whatever it found.

example:
  ledgerctl reconcile 35.08.19 2024 LKI-CAMAT-KLAKAH-TW2-2024
)",
       {}, 3, 3, RunReconcile},
      {"history", "who changed what, when and why (change history)",
       R"(usage: ledgerctl history UNIT [--indicator ID | --programme ID | --village CODE |
                         --activity ID | --report ID | --goal ID | --subject S]
                        [--year Y[,Y...]] [--actor A] [--type T[,T...]]
                        [--since TIME] [--until TIME] [--newest-first]
                        [--limit N | --page-token T | --all-pages]

Lists the recorded events of UNIT's unit-years (UNIT may be a prefix: 35.08 is
every unit of Kabupaten Lumajang) that touched the given indicator, programme,
village, checklist activity, report or goal, or that an actor wrote, within a
time range. Each row shows the position, when the ledger recorded it (WIB), who,
the unit-year, the quarter it concerns (valid time), the event, what changed
(old -> new value, in Indonesian notation) and the reason. Corrections,
revisions and reversals show the value they replaced. Paged and stable: every
page is read as of the head when the first was read.

  --indicator ID ...   the subject (or --subject indicator/IKU-1, programme/P-1,
                       village/CODE, activity/ID, report/ID, goal/ID, agreement)
  --year Y[,Y]         only these fiscal years (default: every year recorded)
  --actor A            only events written by this principal
  --type T[,T]         only these event types (RealizationCorrected, ReportDisposed, ...)
  --since TIME         recorded at or after TIME (RFC 3339, or WIB "2024-07-10 08:00")
  --until TIME         recorded before TIME
  --newest-first       newest first (default: oldest first)
  --limit N            entries per page, 1..1000 (default 50)
  --page-token T       the page after the one that printed T (see the hint on stderr)
  --all-pages          every page

examples:
  ledgerctl history 35.08.19 --indicator IKU-1 --newest-first
  ledgerctl history 35.08 --type RealizationCorrected,DisbursementReversed --since 2024-07-01
  ledgerctl history 35.08.19 --report LKI-CAMAT-KLAKAH-TW2-2024 --csv > disposisi.csv
)",
       {{"year"}, {"subject"}, {"indicator"}, {"programme"}, {"village"}, {"activity"}, {"report"},
        {"goal"}, {"actor"}, {"type"}, {"since"}, {"until"}, {"newest-first", false}, {"limit"},
        {"page-token"}, {"all-pages", false}},
       1, 1, RunHistory, true},
      {"explain", "where a figure of a report comes from",
       R"(usage: ledgerctl explain UNIT YEAR QUARTER KEY
                        [--as-of TIME | --as-of-position P | --as-published REPORT_ID]

Shows one figure of the Triwulan QUARTER report as of a moment: its value (and
exact value), the formula with its inputs, the figures it is computed from, and
every event behind it with who recorded it, when, and whether its value is
still in force or was replaced (by a correction, a revision or a reversal).
KEY is a figure key of docs/DOMAIN-EVENTS.md, e.g. indicator/IKU-1/q1/realization,
indicator/IKU-1/year_end/capaian, average/q2/capaian,
programme/<id>/cumulative/absorption, total/cumulative/realized,
cost_per_outcome/IKU-1/absorption, checklist/<id>/ratio.

  --as-of TIME             as the ledger stood at TIME (default: now)
  --as-of-position P       as of global position P
  --as-published REPORT_ID as of the submission of that report

examples:
  ledgerctl explain 35.08.19 2024 2 indicator/IKU-1/q1/realization
  ledgerctl explain 35.08.19 2024 2 indicator/IKU-1/year_end/capaian \
      --as-published LKI-CAMAT-KLAKAH-TW2-2024
)",
       {{"as-of"}, {"as-of-position"}, {"as-published"}}, 4, 4, RunExplain, true},
      {"diff", "a report as of two moments, figure by figure",
       R"(usage: ledgerctl diff UNIT YEAR QUARTER
                        (--from-published REPORT_ID | --from TIME | --from-position P)
                        [--to TIME | --to-position P]

Computes the Triwulan QUARTER report as of two moments and lists every figure
whose value changed, before and after, with the events recorded in between
that changed it. --from-published compares the report as it was submitted
("as published") with the ledger now ("as corrected").

  --from-published REPORT_ID   from the submission of that report
  --from TIME / --from-position P
  --to TIME / --to-position P  (default: now)

examples:
  ledgerctl diff 35.08.19 2024 2 --from-published LKI-CAMAT-KLAKAH-TW2-2024
  ledgerctl diff 35.08.19 2024 2 --from "2024-07-05" --to "2024-08-01" --csv
)",
       {{"from"}, {"from-position"}, {"from-published"}, {"to"}, {"to-position"}}, 3, 3, RunDiff, true},
      {"late", "submitted reports whose figures changed after submission",
       R"(usage: ledgerctl late UNIT [--year Y] [--as-of TIME | --as-of-position P]

Checks every submitted report of UNIT's unit-years (UNIT may be a prefix, e.g.
35.08) and lists those whose figures would now be different because of events
recorded after their submission (back-dated realizations, corrections,
reversals, revisions): each with the changed figures as published and now,
and the late events.

  --year Y                 only fiscal year Y
  --as-of TIME / --as-of-position P   as the ledger stood then (default: now)

example:
  ledgerctl late 35.08 --year 2024
)",
       {{"year"}, {"as-of"}, {"as-of-position"}}, 1, 1, RunLate, true},
      {"denied", "refused calls: who, from where, what, which unit, why",
       R"(usage: ledgerctl denied [UNIT] [--principal NAME] [--limit N]

Lists the calls the server refused (no or bad credentials, a role or scope
that does not allow the call, a four-eyes rule, a per-principal limit),
newest first, from its denied-attempt log, with the counts since it started.
Needs the inspector role; shows the attempts that named a unit in the
inspector's scope (every attempt with scope "*").

  UNIT              only attempts naming a unit under this code
  --principal NAME  only attempts by this principal
  --limit N         at most N attempts (1..1000, default 100)

example:
  ledgerctl denied 35.08 --limit 20
)",
       {{"principal"}, {"limit"}}, 0, 1, RunDenied, true},
      {"replay", "the log filtered by unit and event type, resumable",
       R"(usage: ledgerctl replay [--from P] [--unit PREFIX[,PREFIX]] [--type T[,T]]
                        [--follow] [--checkpoint FILE] [--count N] [--idle-exit-ms MS]

Prints the events of the units at or under the prefixes (35.08: every unit of
the kabupaten) and of the given types, from a position to the head, then,
with --follow, every new one as it is appended. Progress goes to stderr while
it catches up. With --checkpoint FILE, the position to resume from is written
to FILE (atomically) after every message and read from it at start: run the
same command again after a break and it goes on with no gap and no duplicate.

  --from P            first position to examine (default: the checkpoint, else 1)
  --unit PREFIX[,..]  unit codes or prefixes (default: every stream)
  --type T[,T]        event types (default: every type)
  --follow            keep following new events until Ctrl-C
  --checkpoint FILE   resume from, and record progress in, FILE
  --count N           stop after N events
  --idle-exit-ms MS   stop when no event came for MS milliseconds

examples:
  ledgerctl replay --unit 35.08 --type RealizationRecorded,RealizationCorrected
  ledgerctl replay --unit 35.08 --follow --checkpoint lumajang.pos --json >> lumajang.jsonl
)",
       {{"from"}, {"unit"}, {"type"}, {"follow", false}, {"checkpoint"}, {"count"}, {"idle-exit-ms"}},
       0, 0, RunReplay, true},
      {"token-new", "make a bearer token for a principal (no server needed)",
       R"(usage: ledgerctl token-new NAME

Prints a new random bearer token for principal NAME, and the line to put in
its "token_sha256" list in ledgerd's principals file (docs/ACCESS.md). The
server stores only the SHA-256; hand the token to its holder once, over a
safe channel, and keep no other copy. Then send SIGHUP to ledgerd.

example:
  ledgerctl token-new operator.klakah > operator.klakah.token
)",
       {}, 1, 1, RunTokenNew},
      {"public-key", "the server's public key, as the server says (comparison only)",
       R"(usage: ledgerctl public-key [--public_key FILE|HEX]

Prints the Ed25519 public key and key id the server says it signs tree heads
with. A key fetched over the connection it is meant to check proves nothing:
get the key from the ledger's operator (the .pub file next to ledgerd's
signing key) and pass it to the verifying subcommands with --public_key.
With --public_key, says whether the server's key is that one (exit 4 if not).

example:
  ledgerctl public-key --public_key ledger.pub
)",
       {{"public_key"}}, 0, 0, RunPublicKey},
      {"signed-head", "a signed tree head, verified against the last one you verified",
       R"(usage: ledgerctl signed-head --public_key FILE|HEX [--sign_now] [--trust_dir DIR]

Fetches the server's latest signed tree head ("the first N events of the log
have Merkle root R", signed with the server's Ed25519 key) and verifies it:
  - the signature, with the key you trust (--public_key; the head must name it);
  - against the last head you verified with that key, kept in
    DIR/<key id>.head: a smaller tree is refused as a rollback, the same size
    with another root as a fork, and a larger tree must come with a
    consistency proof (RFC 9162) that it extends yours, checked against the
    two signed roots, else it is refused as a fork.
Only a verified head replaces the one kept. A refusal exits 4 and keeps
nothing. The first head verified with a key is kept as the reference.

  --public_key FILE|HEX  the server's public key as its operator gave it to you:
                         the .pub file (e.g. data.signing-key.pub) or 64 hex digits
  --sign_now             ask the server to sign a head of its log as it is now
                         (at most one per --min_head_interval_ms; else the latest)
  --trust_dir DIR        where verified heads are kept
                         (default $HOME/.sakip-ledger/trusted-heads, created 0700)

examples:
  ledgerctl signed-head --public_key ledger.pub
  ledgerctl signed-head --public_key ledger.pub --sign_now --json
)",
       {{"public_key"}, {"sign_now", false}, {"trust_dir"}}, 0, 0, RunSignedHead},
      {"verify-event", "prove that an event's exact bytes are in the signed log",
       R"(usage: ledgerctl verify-event EVENT_ID --public_key FILE|HEX [--trust_dir DIR]

Obtains a verified signed head exactly as signed-head does (asking for a new
one when the latest does not cover the event yet), fetches the event with the
exact bytes the ledger stored, recomputes their SHA-256 (it must equal the
hash the server claims), and checks the event's inclusion proof (RFC 9162)
against the signed root. Exits 0 when proven, 4 when anything does not verify.

  --public_key FILE|HEX  the server's public key as its operator gave it to you
  --trust_dir DIR        where verified heads are kept (see signed-head)

example:
  ledgerctl verify-event klakah-2024-0042 --public_key ledger.pub
)",
       {{"public_key"}, {"trust_dir"}}, 1, 1, RunVerifyEvent},
      {"bundle", "save the auditor bundle of a submitted report",
       R"(usage: ledgerctl bundle --unit UNIT --year YEAR --report REPORT_ID --out FILE

Saves the auditor bundle of a submitted report to FILE, byte for byte as the
server sends it (written atomically): the unit-year's events up to the
submission with their inclusion proofs, the report's seal, a signed tree
head, and the report's canonical text. Anyone can then check it offline
with verify-bundle. Waits (up to --timeout-ms) while the server is still
sealing or signing the report.

  --unit UNIT        the unit code, e.g. 35.08.19
  --year YEAR        the fiscal year
  --report ID        the id of the submitted report
  --out FILE         where to write the bundle

example:
  ledgerctl bundle --unit 35.08.19 --year 2024 --report LKI-CAMAT-KLAKAH-TW2-2024 --out klakah-tw2.bundle
)",
       {{"unit"}, {"year"}, {"report"}, {"out"}}, 0, 0, RunBundle},
      {"verify-bundle", "check an auditor bundle offline, with the public key only",
       R"(usage: ledgerctl verify-bundle FILE --public_key FILE|HEX [--figures]

Checks an auditor bundle (written by 'ledgerctl bundle') with nothing but the
file and the public key you trust; it makes no connection at all. It checks
that the file is the bundle's one canonical encoding (no byte can change
unnoticed); that its tree head is signed by your key; that every event and
the report's seal are in that signed tree (inclusion proofs over the SHA-256
of their exact bytes); that the events are the whole unit-year stream up to
the report's submission; that the seal holds the SHA-256 of the report's
canonical text; and that computing the report again from the events gives
exactly that text. Then it prints what was verified and the figures.
Exits 0 when everything verifies, 4 with the reason when anything does not.

  --public_key FILE|HEX  the server's public key as its operator gave it to you
  --figures              also print every figure of the canonical report text

example:
  ledgerctl verify-bundle klakah-tw2.bundle --public_key ledger.pub
)",
       {{"public_key"}, {"figures", false}}, 1, 1, RunVerifyBundle},
      {"backup", "online backups on the server: create, list, verify, prune",
       R"(usage: ledgerctl backup create
       ledgerctl backup list
       ledgerctl backup verify [BACKUP_ID] [--deep]
       ledgerctl backup prune --keep N [--dry-run]

Online backups of the ledger (docs/BACKUP.md), written by ledgerd into its
own --backup_dir (never a path you choose here), while appends go on. Needs
the admin role with scope "*".

  create   takes a backup; prints its id and what it holds: the head
           position, hash and time, the Merkle root, files and size. It
           holds every event acknowledged before the command ran.
  list     every backup, oldest first (and any whose metadata is corrupt)
  verify   checks a backup's files against their checksums (default: the
           latest); exits 1 with DATA_LOSS naming the backup and the file
           when one does not match
  --deep   verify also restores the backup into a scratch directory on the
           server and verifies the whole hash chain and Merkle tree there
  prune    deletes every backup but the newest N (--keep N, at least 1),
           with the files only they hold; first checks that the newest
           backup verifies, and deletes nothing when it does not (DATA_LOSS).
           Backups with corrupt metadata are listed and left alone.
  --dry-run  prune only prints what it would delete

A backup of a large ledger takes a while: raise --timeout-ms (the call is not
cancelled on the server when the client gives up). Restoring is done with the
server stopped: ledgerd --restore_from=BACKUP_DIR --data_dir=NEW_DIR.

examples:
  ledgerctl --timeout-ms 600000 backup create
  ledgerctl backup verify 3 --deep --json
  ledgerctl backup prune --keep 30 --dry-run
)",
       {{"deep", false}, {"keep"}, {"dry-run", false}}, 1, 2, RunBackup},
  };
  return commands;
}

const Command* FindCommand(const std::string& name) {
  for (const Command& command : Commands()) {
    if (name == command.name) return &command;
  }
  return nullptr;
}

// Width of the subcommand column of the general help ("verify-bundle" and two spaces).
constexpr size_t kSubcommandColumn = 15;

void PrintGeneralHelp(std::ostream& out) {
  out << "ledgerctl: the command-line client of the SAKIP audit ledger (ledgerd).\n\n"
         "usage: ledgerctl [global flags] SUBCOMMAND [args] [flags]\n\nSubcommands:\n";
  for (const Command& command : Commands()) {
    std::string name = command.name;
    out << "  " << name << std::string(kSubcommandColumn - name.size(), ' ') << command.summary << "\n";
  }
  out << "\nRun 'ledgerctl SUBCOMMAND --help' for its flags and an example.\n\n" << kGlobalHelp;
}

bool IsHelp(const std::string& token) { return token == "--help" || token == "-h"; }

bool WantsHelp(const std::vector<std::string>& tokens) {
  for (const std::string& token : tokens) {
    if (token == "--") return false;
    if (IsHelp(token)) return true;
  }
  return false;
}

// True for "--server" and the other global flags whose value is the next
// token (in either spelling, "--timeout-ms" or "--timeout_ms", as the parser
// accepts both).
bool TakesNextToken(std::string token) {
  std::replace(token.begin(), token.end(), '_', '-');
  for (const FlagSpec& flag : GlobalFlags()) {
    if (flag.takes_value && token == "--" + flag.name) return true;
  }
  return false;
}

// Index of the subcommand in `args`: the first token that is neither a flag
// nor the value of a global flag.
size_t FindSubcommand(const std::vector<std::string>& args) {
  size_t i = 0;
  while (i < args.size() && args[i].rfind("--", 0) == 0 && !IsHelp(args[i])) {
    i += TakesNextToken(args[i]) ? 2 : 1;
  }
  return i;
}

std::vector<FlagSpec> FlagsOf(const Command& command) {
  std::vector<FlagSpec> flags = GlobalFlags();
  flags.insert(flags.end(), command.flags.begin(), command.flags.end());
  bool json_is_payload = false;
  for (const FlagSpec& flag : command.flags) json_is_payload |= flag.name == "json";
  if (!json_is_payload) flags.push_back({"json", false});
  flags.push_back({"csv", false});
  return flags;
}

bool JsonOutput(const Command& command, const ParsedArgs& args) {
  std::string output = args.GetOr("output", "human");
  if (output != "human" && output != "json" && output != "csv") {
    throw UsageError("--output: '" + output + "' is not one of human, json, csv");
  }
  bool json_flag = args.Has("json") && std::string(command.name) != "append";
  return output == "json" || json_flag;
}

bool CsvOutput(const Command& command, const ParsedArgs& args) {
  const bool csv = args.Has("csv") || args.GetOr("output", "human") == "csv";
  if (csv && !command.csv) {
    throw UsageError(std::string("--csv: '") + command.name +
                     "' prints no table; CSV is for history, explain, diff, late and replay");
  }
  if (csv && JsonOutput(command, args)) throw UsageError("--csv and --json: give one of them");
  return csv;
}

void CheckPositionals(const Command& command, const ParsedArgs& args) {
  size_t count = args.positionals.size();
  if (count >= command.min_positionals && count <= command.max_positionals) return;
  std::string help = command.help;
  std::string usage = help.substr(0, help.find('\n'));
  throw UsageError(std::string(count < command.min_positionals ? "missing" : "unexpected") +
                   " argument; " + usage);
}

std::string ServerAddress(const ParsedArgs& args) {
  if (std::optional<std::string> server = args.Get("server")) return *server;
  const char* env = std::getenv("LEDGER_SERVER");
  return env != nullptr && *env != '\0' ? env : kDefaultServer;
}

int64_t TimeoutMs(const ParsedArgs& args) {
  uint64_t timeout = args.GetUint("timeout-ms").value_or(kDefaultTimeoutMs);
  if (timeout == 0 || timeout > 24ull * 3600 * 1000) {
    throw UsageError("--timeout-ms: must be between 1 and 86400000");
  }
  return static_cast<int64_t>(timeout);
}

std::string FlagOrEnvironment(const ParsedArgs& args, const char* flag, const char* variable) {
  if (std::optional<std::string> value = args.Get(flag)) return *value;
  const char* env = std::getenv(variable);
  return env != nullptr ? env : "";
}

// The contents of the file named by --`flag` (or $`variable`), "" if none.
std::string FileFlag(const ParsedArgs& args, const char* flag, const char* variable) {
  const std::string path = FlagOrEnvironment(args, flag, variable);
  if (path.empty()) return "";
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError(std::string("--") + flag + ": cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

Connection ConnectionOf(const ParsedArgs& args) {
  Connection connection;
  connection.server = ServerAddress(args);
  connection.timeout_ms = TimeoutMs(args);
  connection.tls_ca = FileFlag(args, "tls-ca", "LEDGER_TLS_CA");
  connection.tls_cert = FileFlag(args, "tls-cert", "LEDGER_TLS_CERT");
  connection.tls_key = FileFlag(args, "tls-key", "LEDGER_TLS_KEY");
  connection.tls_server_name = FlagOrEnvironment(args, "tls-server-name", "LEDGER_TLS_SERVER_NAME");
  connection.token = Trimmed(FileFlag(args, "token-file", "LEDGER_TOKEN_FILE"));
  if (const char* token = std::getenv("LEDGER_TOKEN"); connection.token.empty() && token != nullptr) {
    connection.token = Trimmed(token);
  }
  if (connection.tls_cert.empty() != connection.tls_key.empty()) {
    throw UsageError("--tls-cert, --tls-key: give both or neither");
  }
  if (connection.tls_ca.empty() && (!connection.tls_cert.empty() || !connection.token.empty())) {
    throw UsageError("--tls-ca: needed to send a client certificate or a token (never in clear)");
  }
  return connection;
}

int Dispatch(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  size_t at = FindSubcommand(args);
  if (at >= args.size() || IsHelp(args[at]) || args[at] == "help") {
    const Command* topic =
        at + 1 < args.size() && args[at] == "help" ? FindCommand(args[at + 1]) : nullptr;
    if (topic != nullptr) {
      out << topic->help << "\n" << kGlobalHelp;
      return kExitOk;
    }
    PrintGeneralHelp(at >= args.size() ? err : out);
    return at >= args.size() ? kExitUsage : kExitOk;
  }
  const Command* command = FindCommand(args[at]);
  if (command == nullptr) {
    throw UsageError("unknown subcommand '" + args[at] + "'; see 'ledgerctl --help'");
  }
  std::vector<std::string> rest;
  for (size_t i = 0; i < at; ++i) {
    rest.push_back(args[i] == "--json" ? "--output=json" : args[i] == "--csv" ? "--output=csv" : args[i]);
  }
  rest.insert(rest.end(), args.begin() + at + 1, args.end());
  if (WantsHelp(rest)) {
    out << command->help << "\n" << kGlobalHelp;
    return kExitOk;
  }
  ParsedArgs parsed = ParseFlags(rest, FlagsOf(*command), command->name);
  CheckPositionals(*command, parsed);
  Client client(ConnectionOf(parsed));
  CommandContext context{parsed, client, JsonOutput(*command, parsed), CsvOutput(*command, parsed), out, err};
  return command->run(context);
}

}  // namespace

int LedgerctlMain(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  try {
    return Dispatch(args, out, err);
  } catch (const CliError& error) {
    out.flush();
    err << "ledgerctl: " << error.what() << std::endl;
    return error.code();
  }
}

}  // namespace ledgerctl
