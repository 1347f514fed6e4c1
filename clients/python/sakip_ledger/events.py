"""Decoding and building SAKIP events, and the figure keys of a report.

A ledger event (``ledger.v1.RecordedEvent``) carries an envelope whose
payload, for the SAKIP streams (``"<unit_code>/<fiscal_year>"``), is a
serialized ``sakip.v1.SakipEvent`` with content type
``application/x-protobuf;proto=sakip.v1.SakipEvent``. The helpers here decode
it, turn events into JSON-friendly dictionaries, build the events a client
records, and read the JSON Lines interchange format (docs/DOMAIN-EVENTS.md).
"""

from __future__ import annotations

import base64
import json
from typing import Any, Iterable, Mapping

from google.protobuf import json_format

from ._stubs import events_pb2, ledger_pb2, report_service_pb2
from .times import format_wib

#: The content type of every SAKIP event's payload.
SAKIP_CONTENT_TYPE = "application/x-protobuf;proto=sakip.v1.SakipEvent"


def _envelope(event):
    """The EventEnvelope of a RecordedEvent, or the envelope itself."""
    return event.envelope if hasattr(event, "envelope") else event


def is_sakip(event) -> bool:
    """True when the event's payload is a ``sakip.v1.SakipEvent``."""
    return _envelope(event).content_type == SAKIP_CONTENT_TYPE


def decode_sakip(event) -> events_pb2.SakipEvent:
    """The ``sakip.v1.SakipEvent`` in a RecordedEvent (or EventEnvelope).

    Raises ``ValueError`` when the event is not a SAKIP event or its payload
    does not decode.
    """
    envelope = _envelope(event)
    if envelope.content_type != SAKIP_CONTENT_TYPE:
        raise ValueError(
            f"event {envelope.event_id} at position {envelope.position} has content type "
            f"'{envelope.content_type}', not a SAKIP event")
    message = events_pb2.SakipEvent()
    try:
        message.ParseFromString(envelope.payload)
    except Exception as error:  # protobuf raises DecodeError
        raise ValueError(
            f"event {envelope.event_id} at position {envelope.position}: payload does not "
            f"decode as sakip.v1.SakipEvent ({error})") from error
    return message


def sakip_case(event: events_pb2.SakipEvent) -> tuple[str, Any]:
    """``("RealizationRecorded", <the RealizationRecorded message>)``: the name
    of the set case of the ``event`` oneof (the ledger's event type) and its
    message. Raises ``ValueError`` when no case is set."""
    field = event.WhichOneof("event")
    if field is None:
        raise ValueError("SakipEvent has no event case set")
    inner = getattr(event, field)
    return inner.DESCRIPTOR.name, inner


def unit_of_stream(stream_id: str) -> str:
    """The unit part of a stream id: ``"35.08.19/2024"`` -> ``"35.08.19"``
    (the part before the first ``/``; the whole id when there is none)."""
    return stream_id.split("/", 1)[0]


def unit_is_under(unit_code: str, prefix: str) -> bool:
    """True when ``unit_code`` is ``prefix`` or lies under it: ``"35.08.19"`` is
    under ``"35.08"``; ``"35.081"`` is not."""
    return unit_code == prefix or unit_code.startswith(prefix + ".")


def stream_matches(stream_id: str, unit_prefixes: Iterable[str]) -> bool:
    """The Replay filter on streams: true when the stream's unit is at or under
    one of the prefixes (always true for no prefixes)."""
    prefixes = list(unit_prefixes)
    if not prefixes:
        return True
    unit = unit_of_stream(stream_id)
    return any(unit_is_under(unit, prefix) for prefix in prefixes)


def event_to_dict(event) -> dict:
    """A JSON-friendly dictionary of a RecordedEvent: the envelope's fields,
    ``recorded_at_wib``, hashes in hex, and the payload decoded (``sakip``: the
    SakipEvent in the proto3 JSON mapping; ``json``: a JSON payload; else
    ``payload_base64``)."""
    envelope = _envelope(event)
    out = {
        "position": envelope.position,
        "stream_id": envelope.stream_id,
        "stream_version": envelope.stream_version,
        "event_id": envelope.event_id,
        "event_type": envelope.event_type,
        "recorded_at_micros": envelope.recorded_at_micros,
        "recorded_at_wib": format_wib(envelope.recorded_at_micros, with_millis=True),
        "actor": envelope.actor,
        "content_type": envelope.content_type,
    }
    for name in ("reason", "correlation_id", "causation_id"):
        if getattr(envelope, name):
            out[name] = getattr(envelope, name)
    if hasattr(event, "hash") and event.hash:
        out["hash"] = event.hash.hex()
    out["prev_hash"] = envelope.prev_hash.hex()
    if is_sakip(envelope):
        out["sakip"] = json_format.MessageToDict(decode_sakip(envelope))
    elif envelope.content_type.startswith("application/json"):
        try:
            out["json"] = json.loads(envelope.payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            out["payload_base64"] = base64.b64encode(envelope.payload).decode("ascii")
    else:
        out["payload_base64"] = base64.b64encode(envelope.payload).decode("ascii")
    return out


def _measure(message) -> str:
    if message.WhichOneof("measure") == "value":
        return message.value
    if message.WhichOneof("measure") == "counts":
        num = "+".join(part.value for part in message.counts.numerator_parts)
        den = "+".join(part.value for part in message.counts.denominator_parts)
        return f"({num})/({den})"
    return "?"


def describe_sakip(event: events_pb2.SakipEvent) -> str:
    """A short human description of a SakipEvent, e.g.
    ``"IKU-1 TW 1 realization 37.84"``."""
    name, inner = sakip_case(event)
    if name == "RealizationRecorded":
        return f"{inner.indicator_id} TW {inner.quarter} realization {_measure(inner)}"
    if name == "RealizationCorrected":
        return f"corrects {inner.corrects_event_id}: {_measure(inner)}"
    if name == "DisbursementRecorded":
        return f"{inner.programme_id} TW {inner.quarter} disbursed {inner.amount}"
    if name == "DisbursementReversed":
        return f"reverses {inner.reverses_event_id}"
    if name == "ReportSubmitted":
        return f"report {inner.report_id} (TW {inner.quarter}) signed {inner.signed_on}"
    if name == "ReportDisposed":
        options = ", ".join(events_pb2.DispositionOption.Name(o) for o in inner.options)
        return f"report {inner.report_id} disposed: {options}"
    if name == "IndicatorDefined":
        return f"{inner.indicator_id} {inner.name} (target {inner.annual_target})"
    if name == "TargetRevised":
        return f"{inner.indicator_id} target -> {inner.annual_target}"
    if name == "ProgrammeDefined":
        return f"{inner.programme_id} allocation {inner.allocation}"
    if name == "BudgetRevised":
        return f"{inner.programme_id} allocation -> {inner.allocation}"
    if name == "StrategicGoalDefined":
        return f"{inner.goal_id} {inner.name}"
    if name == "AgreementEstablished":
        return f"agreement of {inner.unit_name}"
    if name == "VillageRegistered":
        return f"{inner.village_code} {inner.name}"
    if name == "ChecklistActivityDefined":
        return f"{inner.activity_id} {inner.name}"
    if name == "ChecklistEntryRecorded":
        done = "done" if inner.done else "not done"
        return f"{inner.activity_id} {inner.village_code} TW {inner.quarter} {done}"
    return name


def describe_event(event) -> str:
    """One line for a RecordedEvent: position, WIB time, stream, type, event id
    and, for SAKIP events, what it says."""
    envelope = _envelope(event)
    line = (f"#{envelope.position} {format_wib(envelope.recorded_at_micros)} "
            f"{envelope.stream_id} {envelope.event_type} {envelope.event_id}")
    if is_sakip(envelope):
        try:
            line += " — " + describe_sakip(decode_sakip(envelope))
        except ValueError as error:
            line += f" — undecodable: {error}"
    if envelope.reason:
        line += f" (reason: {envelope.reason})"
    return line


def sakip_event(unit_code: str, fiscal_year: int, **case) -> events_pb2.SakipEvent:
    """Builds a SakipEvent with exactly one case, given as a message or a dict::

        sakip_event("35.08.19", 2024, realization_corrected={
            "corrects_event_id": "klakah-2024-0042", "value": "40.12"})
    """
    if len(case) != 1:
        raise ValueError(f"give exactly one event case, got {sorted(case)}")
    (field, value), = case.items()
    event = events_pb2.SakipEvent(unit_code=unit_code, fiscal_year=fiscal_year)
    cases = {f.name for f in events_pb2.SakipEvent.DESCRIPTOR.oneofs_by_name["event"].fields}
    if field not in cases:
        raise ValueError(f"'{field}' is not a case of sakip.v1.SakipEvent.event")
    target = getattr(event, field)
    target.SetInParent()
    if isinstance(value, Mapping):
        json_format.ParseDict(dict(value), target)
    else:
        target.CopyFrom(value)
    return event


def proposed(event_id: str, event: events_pb2.SakipEvent, reason: str = "",
             correlation_id: str = "", causation_id: str = ""
             ) -> report_service_pb2.ProposedSakipEvent:
    """A ``ProposedSakipEvent`` for ``LedgerClient.record_events``. ``reason`` is
    required for TargetRevised, RealizationCorrected, BudgetRevised and
    DisbursementReversed."""
    return report_service_pb2.ProposedSakipEvent(
        event_id=event_id, reason=reason, correlation_id=correlation_id,
        causation_id=causation_id, event=event)


def parse_interchange_line(line: str, line_number: int = 0
                           ) -> report_service_pb2.ProposedSakipEvent:
    """One line of the JSON Lines interchange format (``InterchangeLine``) as a
    ProposedSakipEvent. Raises ``ValueError`` naming the line and the problem
    (bad JSON, unknown field, or an ``event_type`` that is not the set case)."""
    where = f"line {line_number}: " if line_number else ""
    interchange = report_service_pb2.InterchangeLine()
    try:
        json_format.Parse(line, interchange)
    except json_format.ParseError as error:
        raise ValueError(f"{where}{error}") from error
    if not interchange.event_id:
        raise ValueError(f"{where}event_id is required")
    case = interchange.event.WhichOneof("event")
    if case is None:
        raise ValueError(f"{where}event: no event case set")
    actual = getattr(interchange.event, case).DESCRIPTOR.name
    if interchange.event_type != actual:
        raise ValueError(f"{where}event_type '{interchange.event_type}' does not name the "
                         f"event's case ({actual})")
    return report_service_pb2.ProposedSakipEvent(
        event_id=interchange.event_id, reason=interchange.reason,
        correlation_id=interchange.correlation_id, causation_id=interchange.causation_id,
        event=interchange.event)


def read_interchange(path: str) -> list:
    """Every event of a JSON Lines interchange file (blank lines skipped), as
    ProposedSakipEvent messages in file order."""
    out = []
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            if line.strip():
                out.append(parse_interchange_line(line, number))
    return out


def _index_quarters(index: dict, prefix: str, quarters) -> None:
    for number, quarter in enumerate(quarters, start=1):
        index[f"{prefix}/q{number}/realization"] = quarter.realization
        index[f"{prefix}/q{number}/capaian"] = quarter.capaian


def _index_budget_row(index: dict, prefix: str, row) -> None:
    index[f"{prefix}/allocation"] = row.allocation
    for number, figure in enumerate(row.realized, start=1):
        index[f"{prefix}/q{number}/realized"] = figure
    for number, figure in enumerate(row.absorption, start=1):
        index[f"{prefix}/q{number}/absorption"] = figure
    index[f"{prefix}/cumulative/realized"] = row.cumulative_realized
    index[f"{prefix}/cumulative/absorption"] = row.cumulative_absorption


def index_figures(report) -> dict:
    """Every figure of a ``sakip.v1.Report`` by its canonical key
    (docs/DOMAIN-EVENTS.md, "Declared-figure keys"), e.g.
    ``"indicator/IKU-1/q1/capaian"`` -> ``Figure``."""
    index: dict = {}
    for row in report.indicators:
        prefix = f"indicator/{row.indicator_id}"
        index[f"{prefix}/target"] = row.target
        _index_quarters(index, prefix, row.quarters)
        index[f"{prefix}/year_end/realization"] = row.year_end_realization
        index[f"{prefix}/year_end/capaian"] = row.year_end_capaian
    index["average/target"] = report.average.target
    _index_quarters(index, "average", report.average.quarters)
    index["average/year_end/realization"] = report.average.year_end_realization
    index["average/year_end/capaian"] = report.average.year_end_capaian
    for row in report.programmes:
        _index_budget_row(index, f"programme/{row.programme_id}", row)
    _index_budget_row(index, "total", report.total)
    for row in report.cost_per_outcome:
        prefix = f"cost_per_outcome/{row.indicator_id}"
        index[f"{prefix}/budget"] = row.budget
        index[f"{prefix}/realized"] = row.realized
        index[f"{prefix}/absorption"] = row.absorption
    for row in report.checklist:
        index[f"checklist/{row.activity_id}/count"] = row.count
        index[f"checklist/{row.activity_id}/ratio"] = row.ratio
    return index


def changed_figure_keys(before_report, after_report) -> set:
    """The keys whose figure differs between two reports (value, or presence);
    a figure that exists in only one of them counts as changed."""
    before, after = index_figures(before_report), index_figures(after_report)
    changed = set()
    for key in before.keys() | after.keys():
        a, b = before.get(key), after.get(key)
        value_a = (a.present, a.exact) if a is not None else (False, "")
        value_b = (b.present, b.exact) if b is not None else (False, "")
        if value_a != value_b:
            changed.add(key)
    return changed
