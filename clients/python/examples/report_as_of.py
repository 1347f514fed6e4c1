#!/usr/bin/python3
"""Reconstruct a unit's quarterly SAKIP report as it stood at a moment.

A starting point for a system that needs "the Triwulan N report of unit U,
as the ledger knew it on date D": an inspector checking what was known when
a report was signed, a provincial system archiving quarter ends, a dashboard
comparing "as published" with "as corrected". The ledger folds the
unit-year's events up to that moment; every figure is exact and printed
the Indonesian way (57,45; 1.077.194.452,00), times in WIB (UTC+7):

    /usr/bin/python3 report_as_of.py --unit 35.08.19 --year 2024 --quarter 2 \\
        --as-of 2024-07-15

--as-of accepts:
  2024-07-15                 the end of that day in WIB (everything recorded that day)
  "2024-07-15 10:00"         a WIB time
  2024-07-15T03:00:00Z       any ISO 8601 time with a zone
  now                        the head (the default)
  position:N                 a global position of the ledger
  submitted:REPORT_ID        the moment report REPORT_ID was submitted ("as published")

The moment is the ledger's *recorded* time (when the events were written),
not the quarter they concern: a realization of Triwulan I recorded in
August is not in the report as of July.

Exit codes: 0 printed; 1 the server refused (e.g. NOT_FOUND: nothing
recorded for the unit-year as of that moment); 2 bad arguments; 3 cannot
reach the server.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Optional

sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
try:
    import sakip_ledger  # noqa: F401
except ImportError as error:
    sys.exit(f"report_as_of: {error}")

import grpc
from google.protobuf import json_format

from sakip_ledger import (LedgerClient, LedgerError, SubmissionOf, add_connection_arguments,
                          connect_from_arguments, figure_text, format_wib, parse_moment_text)
from sakip_ledger import events_pb2

ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
# The options of the disposition box (Tanggapan Atasan Langsung) as printed.
DISPOSITION_TEXT = {
    events_pb2.LAPORAN_KURANG_BAIK: "Laporan kurang baik",
    events_pb2.LAPORAN_SUDAH_BAIK: "Laporan sudah baik",
    events_pb2.LAPORAN_DIPERBAIKI: "Laporan diperbaiki",
    events_pb2.TARGET_DAN_REALISASI_DITELITI_ULANG: "Target dan realisasi diteliti ulang",
    events_pb2.CAPAIAN_DITELITI_ULANG: "Capaian diteliti ulang",
    events_pb2.LAIN_LAIN: "Lain-lain",
}


def parse_as_of(text: str):
    """The --as-of argument as a moment for LedgerClient.get_report."""
    if text == "now":
        return None
    if text.startswith("position:"):
        return int(text.split(":", 1)[1])
    if text.startswith("submitted:"):
        return SubmissionOf(text.split(":", 1)[1])
    return parse_moment_text(text)


def shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def table(headers: list, rows: list, right: set) -> str:
    """A plain-text table; columns in ``right`` are right-aligned."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    lines = []
    for row in [headers] + rows:
        cells = [str(cell).rjust(w) if i in right else str(cell).ljust(w)
                 for i, (cell, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def indicator_table(report) -> str:
    quarter = report.quarter
    headers = ["No", "Indikator", "Satuan", "Target"]
    for q in range(1, quarter + 1):
        headers += [f"Real. TW {ROMAN[q]}", f"Capaian TW {ROMAN[q]} (%)"]
    headers += ["Real. s.d. TW " + ROMAN[quarter], "Capaian (%)", "Predikat"]
    rows = []
    for row in report.indicators:
        cells = [str(row.number), shorten(row.name, 48), row.unit, figure_text(row.target)]
        for q in range(quarter):
            cells += [figure_text(row.quarters[q].realization),
                      figure_text(row.quarters[q].capaian)]
        cells += [figure_text(row.year_end_realization), figure_text(row.year_end_capaian),
                  row.predicate or "-"]
        rows.append(cells)
    average = report.average
    cells = ["", "Capaian rata-rata", "", figure_text(average.target)]
    for q in range(quarter):
        cells += [figure_text(average.quarters[q].realization),
                  figure_text(average.quarters[q].capaian)]
    cells += [figure_text(average.year_end_realization), figure_text(average.year_end_capaian), ""]
    rows.append(cells)
    right = set(range(3, len(headers) - 1))
    return table(headers, rows, right)


def budget_table(report) -> str:
    quarter = report.quarter
    headers = ["No", "Program", "Anggaran (Rp)"]
    for q in range(1, quarter + 1):
        headers += [f"Realisasi TW {ROMAN[q]} (Rp)"]
    headers += ["Realisasi s.d. TW " + ROMAN[quarter] + " (Rp)", "Serapan (%)"]
    rows = []
    for row in list(report.programmes) + [report.total]:
        name = shorten(row.name, 44) if row.programme_id else "JUMLAH"
        cells = [str(row.number) if row.programme_id else "", name, figure_text(row.allocation)]
        cells += [figure_text(row.realized[q]) for q in range(quarter)]
        cells += [figure_text(row.cumulative_realized), figure_text(row.cumulative_absorption)]
        rows.append(cells)
    return table(headers, rows, set(range(2, len(headers))))


def status_lines(report) -> list:
    lines = []
    for status in report.reports:
        line = f"  {status.report_id} (TW {ROMAN.get(status.quarter, status.quarter)}), " \
               f"ditandatangani {status.signed_on or '-'}"
        if status.disposed:
            options = ", ".join(DISPOSITION_TEXT.get(o, str(o)) for o in status.options)
            line += f"; disposisi {status.supervisor_name or '-'}: {options}"
            if status.note:
                line += f" ({status.note})"
        else:
            line += "; belum didisposisi"
        lines.append(line)
    return lines


def recorded_time_of(client: LedgerClient, position: int) -> Optional[int]:
    """The recorded time (micros) of the event at a position (None for 0).
    None too when the caller's principal may not read the whole log (with
    access control on, only inspectors, systems and admins of every unit
    may; the report is then shown without the time)."""
    if position == 0:
        return None
    try:
        for event in client.read_log(from_position=position, limit=1):
            return event.envelope.recorded_at_micros
    except LedgerError as error:
        if error.code == grpc.StatusCode.PERMISSION_DENIED:
            return None
        raise
    return None


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__[__doc__.index("--as-of accepts"):__doc__.index("Exit codes")],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_connection_arguments(parser)
    parser.add_argument("--unit", required=True, help="Kemendagri unit code, e.g. 35.08.19")
    parser.add_argument("--year", type=int, required=True, help="fiscal year, e.g. 2024")
    parser.add_argument("--quarter", type=int, required=True, choices=[1, 2, 3, 4],
                        help="N of the Triwulan N report")
    parser.add_argument("--as-of", default="now", help="the moment (see below); default now")
    parser.add_argument("--json", action="store_true",
                        help="print the report as JSON (proto3 JSON mapping) instead of tables")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per call (10)")
    args = parser.parse_args(argv)
    try:
        as_of = parse_as_of(args.as_of)
    except ValueError as error:
        parser.error(f"--as-of: {error}")

    try:
        client = connect_from_arguments(args, timeout_s=args.timeout)
    except (ValueError, OSError) as error:
        parser.error(str(error))
    with client:
        try:
            answer = client.get_report(args.unit, args.year, args.quarter, as_of=as_of)
            recorded = recorded_time_of(client, answer.as_of_position)
        except LedgerError as error:
            print(f"report_as_of: {error}", file=sys.stderr)
            if error.code == grpc.StatusCode.UNAVAILABLE:
                return 3
            if error.code == grpc.StatusCode.NOT_FOUND and hasattr(as_of, "tzinfo"):
                first = recorded_time_of(client, 1)
                if first is not None:
                    print(f"report_as_of: note: --as-of is the ledger's recorded time; its "
                          f"first event was recorded {format_wib(first)}", file=sys.stderr)
            return 1
    report = answer.report
    if args.json:
        out = json_format.MessageToDict(answer, preserving_proto_field_name=True)
        out["as_of_recorded_at_wib"] = format_wib(recorded) if recorded else None
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0

    print(f"Laporan Kinerja Triwulan {ROMAN[report.quarter]} {report.fiscal_year} — "
          f"{report.unit_name} ({report.unit_code})")
    moment = f"posisi {answer.as_of_position}"
    if recorded:
        moment += f", dicatat {format_wib(recorded)}"
    asked = args.as_of if as_of is None or not hasattr(as_of, "tzinfo") else \
        format_wib(sakip_ledger.to_micros(as_of))
    print(f"Keadaan per: {moment} (diminta: {asked})")
    if report.capaian_capped:
        print("Capaian dibatasi 100 % (kebijakan perjanjian kinerja)")
    print()
    print("Pengukuran kinerja")
    print(indicator_table(report))
    print()
    print("Anggaran")
    print(budget_table(report))
    if report.reports:
        print()
        print("Laporan yang diserahkan")
        print("\n".join(status_lines(report)))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stderr.close()
        sys.exit(0)
