"""``LedgerClient``: the common calls of ledgerd's three services.

    from datetime import datetime
    from sakip_ledger import LedgerClient, WIB, SubmissionOf

    with LedgerClient("127.0.0.1:7070", timeout_s=10) as client:
        head = client.head()
        report = client.get_report("35.08.19", 2024, 2,
                                   as_of=datetime(2024, 7, 15, 17, 0, tzinfo=WIB))
        for entry in client.history("35.08.19", subject="indicator/IKU-1"):
            print(entry.summary, entry.reason)

Every failed call raises ``LedgerError`` (the gRPC code and the server's
message, which names the offending field). Unary calls have a deadline of
``timeout_s``; streams (replay, subscribe) have none.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import time
from dataclasses import dataclass
from typing import Iterable, Iterator, List, Optional, Sequence, Union

import grpc
from google.protobuf.message import DecodeError

from ._stubs import (
    audit_service_pb2,
    audit_service_pb2_grpc,
    event_pb2,
    ledger_pb2,
    ledger_pb2_grpc,
    report_service_pb2,
    report_service_pb2_grpc,
)
from .errors import EventProofError, LedgerError
from .replay import Replay, ReplayBatch, ResilientReplay, resilient_replay
from .times import to_micros
from .trust import (KeyLike, ProvenEvent, SignedHead, TrustStore, VerifiedHead, check_signed_head,
                    leaf_hash, load_public_key, verify_inclusion)

#: Default address of ledgerd (scripts/run.sh).
DEFAULT_ADDRESS = "127.0.0.1:7070"

#: Between two requests for a signed head that covers an event (verify_event).
_HEAD_RETRY_INTERVAL_S = 0.25


@dataclass(frozen=True)
class SubmissionOf:
    """A moment: the position at which report ``report_id`` of the same
    unit-year was submitted, i.e. the report "as published"."""
    report_id: str


#: What ``as_of`` / moment arguments accept: None (now), a global position
#: (int), an aware datetime, ``SubmissionOf(report_id)`` or a
#: ``sakip.v1.Moment``.
MomentLike = Union[None, int, _dt.datetime, SubmissionOf, "audit_service_pb2.Moment"]


def to_moment(value: MomentLike) -> audit_service_pb2.Moment:
    """The ``sakip.v1.Moment`` of a moment argument (see ``MomentLike``)."""
    if value is None:
        return audit_service_pb2.Moment()
    if isinstance(value, audit_service_pb2.Moment):
        return value
    if isinstance(value, SubmissionOf):
        return audit_service_pb2.Moment(submission_of_report=value.report_id)
    if isinstance(value, _dt.datetime):
        return audit_service_pb2.Moment(at_micros=to_micros(value))
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"position {value} is negative")
        return audit_service_pb2.Moment(position=value)
    raise TypeError(f"a moment is None, a position, an aware datetime, SubmissionOf or "
                    f"Moment, not {type(value).__name__}")


def _expected_version(value) -> ledger_pb2.ExpectedVersion:
    if value is None or value == "any":
        return ledger_pb2.ExpectedVersion(any=ledger_pb2.ExpectedVersion.Any())
    if value == "no_stream":
        return ledger_pb2.ExpectedVersion(no_stream=ledger_pb2.ExpectedVersion.NoStream())
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return ledger_pb2.ExpectedVersion(exact=value)
    raise ValueError(f"expected_version is 'any', 'no_stream' or a version >= 1, not {value!r}")


def _micros_or_zero(value: Optional[_dt.datetime]) -> int:
    return 0 if value is None else to_micros(value)


class LedgerClient:
    """A connection to ledgerd: plaintext gRPC, or TLS with ``credentials``
    (``connect()`` builds them from a CA file, a client certificate and a
    bearer token, or from the ``LEDGER_*`` environment).

    Args:
        address: ``"host:port"`` of ledgerd.
        timeout_s: the deadline of every unary call, in seconds.
        channel: an existing ``grpc.Channel`` to use instead (``address`` is
            then ignored); the client does not close it.
        options: extra gRPC channel options.
        credentials: ``grpc.ChannelCredentials`` for a TLS channel
            (``connection.channel_credentials``); None: plaintext.

    Use as a context manager, or call ``close()``. Thread-safe like a gRPC
    channel: one client may serve several threads.
    """

    def __init__(self, address: str = DEFAULT_ADDRESS, timeout_s: float = 10.0,
                 channel: Optional[grpc.Channel] = None, options: Sequence = (),
                 credentials: Optional[grpc.ChannelCredentials] = None):
        self.address = address
        self.timeout_s = timeout_s
        self._own_channel = channel is None
        if channel is None:
            channel_options = [
                ("grpc.max_receive_message_length", 64 << 20),
                ("grpc.initial_reconnect_backoff_ms", 100),
                ("grpc.max_reconnect_backoff_ms", 2000),
                *options,
            ]
            if credentials is None:
                channel = grpc.insecure_channel(address, options=channel_options)
            else:
                channel = grpc.secure_channel(address, credentials, options=channel_options)
        self._channel = channel
        self._ledger = ledger_pb2_grpc.LedgerServiceStub(channel)
        self._report = report_service_pb2_grpc.ReportServiceStub(channel)
        self._audit = audit_service_pb2_grpc.AuditServiceStub(channel)

    # -- lifecycle -------------------------------------------------------------

    def close(self) -> None:
        """Closes the channel (if the client opened it); running streams end."""
        if self._own_channel:
            self._channel.close()

    def __enter__(self) -> "LedgerClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def wait_ready(self, timeout_s: Optional[float] = None) -> None:
        """Waits until the channel is connected; ``LedgerError`` UNAVAILABLE
        if it is not within ``timeout_s`` (default: the client's timeout)."""
        try:
            grpc.channel_ready_future(self._channel).result(
                timeout=self.timeout_s if timeout_s is None else timeout_s)
        except grpc.FutureTimeoutError:
            raise LedgerError(grpc.StatusCode.UNAVAILABLE,
                              f"cannot connect to ledgerd at {self.address}", "connect") from None

    def _call(self, method: str, function, request):
        try:
            return function(request, timeout=self.timeout_s)
        except grpc.RpcError as error:
            raise LedgerError.from_rpc_error(error, method) from None

    # -- LedgerService -----------------------------------------------------------

    def head(self) -> ledger_pb2.GetHeadResponse:
        """The head of the log: ``position``, ``hash``, ``recorded_at_micros``,
        ``writable`` (and ``write_refusal_reason`` when it is not)."""
        return self._call("LedgerService.GetHead", self._ledger.GetHead,
                          ledger_pb2.GetHeadRequest())

    def append(self, stream_id: str, events: Iterable[ledger_pb2.ProposedEvent],
               expected_version: Union[None, str, int] = None) -> ledger_pb2.AppendResponse:
        """Appends raw events to one stream atomically (not SAKIP events: those
        go through ``record_events``). ``expected_version``: None or
        ``"any"``, ``"no_stream"``, or the stream's exact last version
        (ABORTED when stale). Retrying with the same event ids is safe."""
        request = ledger_pb2.AppendRequest(stream_id=stream_id,
                                           expected_version=_expected_version(expected_version),
                                           events=list(events))
        return self._call("LedgerService.Append", self._ledger.Append, request)

    def read_stream(self, stream_id: str, from_version: int = 0, backward: bool = False,
                    page_size: int = 0, limit: Optional[int] = None,
                    include_stored_bytes: bool = False) -> Iterator:
        """Yields a stream's ``RecordedEvent``s from ``from_version`` (0: the
        first, or the last when ``backward``), fetching page after page, at
        most ``limit`` of them."""
        direction = ledger_pb2.DIRECTION_BACKWARD if backward else ledger_pb2.DIRECTION_FORWARD
        request = ledger_pb2.ReadStreamRequest(stream_id=stream_id, from_version=from_version,
                                               direction=direction, max_count=page_size,
                                               include_stored_bytes=include_stored_bytes)
        yield from self._pages("LedgerService.ReadStream", self._ledger.ReadStream, request,
                               "from_version", limit)

    def read_log(self, from_position: int = 0, backward: bool = False, page_size: int = 0,
                 limit: Optional[int] = None, include_stored_bytes: bool = False) -> Iterator:
        """Yields the global log's ``RecordedEvent``s from ``from_position``
        (0: the start, or the head when ``backward``), page after page, up to
        the head as it is while reading, at most ``limit`` of them."""
        direction = ledger_pb2.DIRECTION_BACKWARD if backward else ledger_pb2.DIRECTION_FORWARD
        request = ledger_pb2.ReadAllRequest(from_position=from_position, direction=direction,
                                            max_count=page_size,
                                            include_stored_bytes=include_stored_bytes)
        yield from self._pages("LedgerService.ReadAll", self._ledger.ReadAll, request,
                               "from_position", limit)

    def _pages(self, method, function, request, cursor_field, limit):
        delivered = 0
        while True:
            response = self._call(method, function, request)
            for event in response.events:
                if limit is not None and delivered >= limit:
                    return
                delivered += 1
                yield event
            if response.end_of_range or not response.events:
                return
            setattr(request, cursor_field, response.next_from)

    def get_event(self, event_id: str, include_stored_bytes: bool = False):
        """The ``RecordedEvent`` with this event id (NOT_FOUND if none)."""
        response = self._call("LedgerService.GetEvent", self._ledger.GetEvent,
                              ledger_pb2.GetEventRequest(event_id=event_id,
                                                         include_stored_bytes=include_stored_bytes))
        return response.event

    def position_at(self, when: _dt.datetime) -> int:
        """The last position recorded at or before an aware datetime (0 if none)."""
        response = self._call("LedgerService.GetPositionAt", self._ledger.GetPositionAt,
                              ledger_pb2.GetPositionAtRequest(at_micros=to_micros(when)))
        return response.position

    def verify(self, from_position: int = 0, to_position: int = 0) -> ledger_pb2.VerifyResponse:
        """Recomputes the hash chain over a range (0, 0: the whole log) and,
        when it starts at position 1, the Merkle tree; the answer's ``ok``, ``first_bad_position``, ``problem`` and ``detail``
        say what is wrong, if anything. Uses a deadline of 10 x timeout_s."""
        try:
            return self._ledger.Verify(ledger_pb2.VerifyRequest(from_position=from_position,
                                                                to_position=to_position),
                                       timeout=self.timeout_s * 10)
        except grpc.RpcError as error:
            raise LedgerError.from_rpc_error(error, "LedgerService.Verify") from None

    def subscribe(self, from_position: int = 0, from_head: bool = False) -> Iterator:
        """Yields ``SubscribeResponse``s of the whole log (an ``event`` or, once,
        ``caught_up``), following live appends until the generator is closed.
        For a filtered, resumable feed use ``replay``."""
        call = self._ledger.Subscribe(ledger_pb2.SubscribeRequest(from_position=from_position,
                                                                  from_head=from_head))
        try:
            yield from call
        except grpc.RpcError as error:
            raise LedgerError.from_rpc_error(error, "LedgerService.Subscribe") from None
        finally:
            call.cancel()

    # -- ReportService -------------------------------------------------------------

    def record_events(self, events: Iterable[report_service_pb2.ProposedSakipEvent]
                      ) -> report_service_pb2.RecordEventsResponse:
        """Validates and appends SAKIP events of one unit-year atomically (at
        most 1000). Build them with ``sakip_event`` and ``proposed``, or read
        them with ``read_interchange``. A retry with the same event ids answers
        ``already_recorded`` and writes nothing. INVALID_ARGUMENT or
        FAILED_PRECONDITION name the field; nothing is written then."""
        return self._call("ReportService.RecordEvents", self._report.RecordEvents,
                          report_service_pb2.RecordEventsRequest(events=list(events)))

    def record_all(self, events: Sequence[report_service_pb2.ProposedSakipEvent],
                   batch_size: int = 500) -> int:
        """Records events that may span unit-years: consecutive events of one
        unit-year go together, ``batch_size`` at a time, in order. Returns the
        number of batches sent. Safe to repeat (idempotent by event id)."""
        batches = 0
        batch: list = []
        key = None
        for event in events:
            event_key = (event.event.unit_code, event.event.fiscal_year)
            if batch and (event_key != key or len(batch) >= batch_size):
                self.record_events(batch)
                batches += 1
                batch = []
            key = event_key
            batch.append(event)
        if batch:
            self.record_events(batch)
            batches += 1
        return batches

    def get_report(self, unit_code: str, fiscal_year: int, quarter: int,
                   as_of: MomentLike = None) -> report_service_pb2.GetReportResponse:
        """The "Triwulan ``quarter``" report of a unit-year as it stood at a
        moment: None (now), a global position, an aware datetime (the last
        position recorded at or before it), or ``SubmissionOf(report_id)``
        (as published; resolved through ``reconcile``). The answer has
        ``report`` and ``as_of_position``. NOT_FOUND when no agreement is
        recorded as of that moment."""
        request = report_service_pb2.GetReportRequest(unit_code=unit_code,
                                                      fiscal_year=fiscal_year, quarter=quarter)
        if isinstance(as_of, SubmissionOf):
            as_of = self.reconcile(unit_code, fiscal_year, as_of.report_id).as_of_position
        if isinstance(as_of, audit_service_pb2.Moment):
            kind = as_of.WhichOneof("at")
            if kind == "submission_of_report":
                as_of = self.reconcile(unit_code, fiscal_year,
                                       as_of.submission_of_report).as_of_position
            elif kind == "position":
                as_of = as_of.position
            elif kind == "at_micros":
                request.at_micros = as_of.at_micros
                as_of = None
            else:
                as_of = None
        if isinstance(as_of, _dt.datetime):
            request.at_micros = to_micros(as_of)
        elif isinstance(as_of, int) and not isinstance(as_of, bool):
            request.position = as_of
        elif as_of is not None:
            raise TypeError(f"as_of: unsupported {type(as_of).__name__}")
        return self._call("ReportService.GetReport", self._report.GetReport, request)

    def reconcile(self, unit_code: str, fiscal_year: int, report_id: str
                  ) -> report_service_pb2.ReconcileResponse:
        """The figures a submitted report declared against those recomputed as
        of its submission (``as_of_position``), with every ``discrepancies``
        entry's formula and events. NOT_FOUND if no such report."""
        return self._call("ReportService.Reconcile", self._report.Reconcile,
                          report_service_pb2.ReconcileRequest(unit_code=unit_code,
                                                              fiscal_year=fiscal_year,
                                                              report_id=report_id))

    # -- AuditService ------------------------------------------------------------------

    def history_page(self, unit_code: str, *, fiscal_years: Iterable[int] = (),
                     subject: str = "", actor: str = "", event_types: Iterable[str] = (),
                     since: Optional[_dt.datetime] = None, until: Optional[_dt.datetime] = None,
                     newest_first: bool = False, page_size: int = 0, page_token: str = ""
                     ) -> audit_service_pb2.GetHistoryResponse:
        """One page of ``history`` (see there), with ``next_page_token``,
        ``as_of_position`` and ``total_matching``."""
        request = audit_service_pb2.GetHistoryRequest(
            unit_code=unit_code, fiscal_years=list(fiscal_years), subject=subject, actor=actor,
            event_types=list(event_types), from_micros=_micros_or_zero(since),
            to_micros=_micros_or_zero(until), newest_first=newest_first, page_size=page_size,
            page_token=page_token)
        return self._call("AuditService.GetHistory", self._audit.GetHistory, request)

    def history(self, unit_code: str, **filters) -> Iterator:
        """Yields the ``HistoryEntry``s of a unit (or every unit under a prefix
        such as ``"35.08"``), page after page: who (``actor``), when
        (``recorded_at_micros``), which quarter (``quarter``), what
        (``subjects``, ``summary``, ``changes`` with old and new values) and
        why (``reason``).

        Filters (keyword only): ``fiscal_years``, ``subject``
        (``"indicator/IKU-1"``, ``"report/LK-TW2"``, ``"village/35.08.19.2001"``,
        ...), ``actor``, ``event_types``, ``since`` / ``until`` (aware
        datetimes, recorded time), ``newest_first``, ``page_size``.
        """
        token = ""
        while True:
            page = self.history_page(unit_code, page_token=token, **filters)
            yield from page.entries
            token = page.next_page_token
            if not token:
                return

    def explain(self, unit_code: str, fiscal_year: int, quarter: int, key: str,
                as_of: MomentLike = None) -> audit_service_pb2.ExplainFigureResponse:
        """Where a figure of the "Triwulan ``quarter``" report comes from, as of
        a moment: its ``figure`` (value and formula), ``inputs`` (every event
        behind it, with ``in_force`` and ``replaced_by_event_id`` for the
        values a correction replaced) and ``depends_on`` (the figure keys it
        is computed from). ``key`` as in docs/DOMAIN-EVENTS.md, e.g.
        ``"indicator/IKU-1/q1/realization"``."""
        request = audit_service_pb2.ExplainFigureRequest(
            unit_code=unit_code, fiscal_year=fiscal_year, quarter=quarter, key=key,
            as_of=to_moment(as_of))
        return self._call("AuditService.ExplainFigure", self._audit.ExplainFigure, request)

    def diff(self, unit_code: str, fiscal_year: int, quarter: int, from_moment: MomentLike,
             to_moment_: MomentLike = None) -> audit_service_pb2.DiffReportResponse:
        """The report as of two moments, every changed figure (``changes``: key,
        ``before``, ``after`` and the events between the two moments that
        changed it). ``from_moment`` is required: e.g.
        ``SubmissionOf("LKI-CAMAT-KLAKAH-TW2-2024")`` for "as published";
        ``to_moment_`` defaults to now."""
        if from_moment is None:
            raise ValueError("diff: from_moment is required")
        request = audit_service_pb2.DiffReportRequest(
            unit_code=unit_code, fiscal_year=fiscal_year, quarter=quarter)
        getattr(request, "from").CopyFrom(to_moment(from_moment))
        request.to.CopyFrom(to_moment(to_moment_))
        return self._call("AuditService.DiffReport", self._audit.DiffReport, request)

    def late_entries(self, unit_code: str, fiscal_year: int = 0, as_of: MomentLike = None
                     ) -> audit_service_pb2.ListLateEntriesResponse:
        """The submitted reports (of a unit or every unit under a prefix; of
        one year, or every year for 0) whose figures changed because of
        events recorded after their submission: ``reports``, each with its
        ``changes`` and ``late_events``."""
        request = audit_service_pb2.ListLateEntriesRequest(
            unit_code=unit_code, fiscal_year=fiscal_year, as_of=to_moment(as_of))
        return self._call("AuditService.ListLateEntries", self._audit.ListLateEntries, request)

    def replay(self, from_position: int = 0, unit_prefixes: Iterable[str] = (),
               event_types: Iterable[str] = (), follow: bool = False,
               include_stored_bytes: bool = False, mode: str = "auto") -> Replay:
        """A filtered replay of the log from ``from_position`` (0 or 1: the
        start): the events of the units at or under ``unit_prefixes`` (e.g.
        ``["35.08"]``) whose type is in ``event_types`` (empty: all), until
        caught up, or on and on with ``follow``.

        Iterate over the returned ``Replay`` for ``RecordedEvent``s, or over
        ``replay.batches()`` for ``ReplayBatch``es; resume later from
        ``replay.next_position``. ``mode``: ``"auto"`` (AuditService.Replay,
        or client-side filtering over LedgerService when the server answers
        UNIMPLEMENTED), ``"server"`` or ``"client"``. The stream starts when
        iteration starts; failures raise ``LedgerError``.
        """
        return Replay(self, from_position, unit_prefixes, event_types, follow,
                      include_stored_bytes, mode)

    def resilient_replay(self, from_position: int = 0, unit_prefixes: Iterable[str] = (),
                         event_types: Iterable[str] = (), follow: bool = True,
                         **options) -> ResilientReplay:
        """``replay(...).batches()`` that reconnects with backoff after
        UNAVAILABLE and resumes from the last ``next_position``; iterate over
        it for ``ReplayBatch``es, ``cancel()`` it from any thread (see
        ``sakip_ledger.replay.resilient_replay`` for the options)."""
        return resilient_replay(self, from_position, unit_prefixes, event_types, follow,
                                **options)

    # -- Signed tree heads and proofs (trust.py) ---------------------------------------

    def signed_head(self, sign_now: bool = False) -> audit_service_pb2.GetSignedTreeHeadResponse:
        """The server's latest signed tree head (``signed_head``: tree_size,
        timestamp_micros, root_hash, key_id, signature; and
        ``recorded_at_position``), or, with ``sign_now``, a head of the log as
        it is now (the server signs at most one per its minimum interval).
        NOT verified: use ``verified_head`` for that."""
        return self._call("AuditService.GetSignedTreeHead", self._audit.GetSignedTreeHead,
                          audit_service_pb2.GetSignedTreeHeadRequest(sign_now=sign_now))

    def server_public_key(self) -> audit_service_pb2.GetPublicKeyResponse:
        """The key the server says it signs with (``public_key``, ``key_id``).
        For comparison only: a key fetched over the connection it is meant to
        check proves nothing; trust the ``.pub`` file the operator gives you."""
        return self._call("AuditService.GetPublicKey", self._audit.GetPublicKey,
                          audit_service_pb2.GetPublicKeyRequest())

    def consistency_proof(self, old_size: int, new_size: int) -> List[bytes]:
        """The server's RFC 9162 consistency proof between two tree sizes
        (unverified; ``trust.verify_consistency`` checks it)."""
        response = self._call("AuditService.GetConsistencyProof", self._audit.GetConsistencyProof,
                              audit_service_pb2.GetConsistencyProofRequest(old_size=old_size,
                                                                           new_size=new_size))
        return [bytes(h) for h in response.proof]

    def inclusion_proof(self, position: int, tree_size: int) -> List[bytes]:
        """The server's RFC 9162 inclusion path of the event at ``position`` in
        the tree of ``tree_size`` events (unverified)."""
        response = self._call("AuditService.GetInclusionProof", self._audit.GetInclusionProof,
                              audit_service_pb2.GetInclusionProofRequest(position=position,
                                                                         tree_size=tree_size))
        return [bytes(h) for h in response.proof]

    def verified_head(self, public_key: KeyLike, trust_dir: Optional[str] = None,
                      sign_now: bool = False) -> VerifiedHead:
        """The server's signed head, verified with ``public_key`` (32 bytes, 64
        hex digits, or the server's ``.pub`` file, as the operator gave it to
        you) and against the last head verified with that key in
        ``trust_dir`` (default ``~/.sakip-ledger/trusted-heads``, the
        directory ``ledgerctl`` uses): a larger tree must come with a valid
        consistency proof. Stores it when it verified.

        Raises ``BadSignatureError``, ``RollbackError``, ``ForkError`` (all
        ``VerificationError``; nothing stored), ``TrustStoreError``, or
        ``LedgerError`` when a call fails."""
        key = load_public_key(public_key)
        response = self.signed_head(sign_now)
        return check_signed_head(SignedHead.from_proto(response.signed_head), key, TrustStore(trust_dir),
                                 self.consistency_proof, response.recorded_at_position)

    def verify_event(self, event_id: str, public_key: KeyLike,
                     trust_dir: Optional[str] = None) -> ProvenEvent:
        """Proves that the event's exact stored bytes are in the signed log: a
        verified head (as ``verified_head``; a new one is asked for when the
        latest does not cover the event), the bytes' SHA-256 equal to the
        hash the server claims, and the inclusion proof of their position
        checked against the signed root.

        Raises ``EventProofError`` (bytes or proof do not verify), the
        errors of ``verified_head``, or ``LedgerError`` (``UNAVAILABLE``
        when no signed head covers the event yet: retry shortly)."""
        key = load_public_key(public_key)
        event = self.get_event(event_id, include_stored_bytes=True)
        stored = bytes(event.stored_bytes)
        if not stored:
            raise EventProofError(f"event {event_id}: the server sent no stored bytes")
        digest = hashlib.sha256(stored).digest()
        if digest != bytes(event.hash):
            raise EventProofError(f"event {event_id}: its {len(stored)} stored bytes hash to "
                                  f"{digest.hex()}, not to the hash {bytes(event.hash).hex()} the "
                                  f"server claims")
        envelope = event_pb2.EventEnvelope()
        try:
            envelope.ParseFromString(stored)
        except DecodeError:
            envelope = event_pb2.EventEnvelope()  # refused just below, naming nothing
        if envelope.event_id != event_id or envelope.position == 0:
            raise EventProofError(f"event {event_id}: the stored bytes are not an envelope of that "
                                  f"event id with a position (they name {envelope.event_id!r} at "
                                  f"position {envelope.position})")
        position = envelope.position
        # A head that covers the event: the latest, else one signed on request
        # (the server signs at most one per short interval on request: ask
        # again until timeout_s has passed).
        verified = self.verified_head(key, trust_dir)
        deadline = time.monotonic() + self.timeout_s
        while verified.head.tree_size < position:
            if time.monotonic() + _HEAD_RETRY_INTERVAL_S > deadline:
                raise LedgerError(grpc.StatusCode.UNAVAILABLE,
                                  f"event {event_id} is at position {position} but the latest signed "
                                  f"head covers {verified.head.tree_size} events; retry shortly",
                                  "AuditService.GetSignedTreeHead")
            verified = self.verified_head(key, trust_dir, sign_now=True)
            if verified.head.tree_size < position:
                time.sleep(_HEAD_RETRY_INTERVAL_S)
        proof = self.inclusion_proof(position, verified.head.tree_size)
        leaf = leaf_hash(digest)
        if not verify_inclusion(leaf, position - 1, verified.head.tree_size, proof,
                                verified.head.root_hash):
            raise EventProofError(f"event {event_id}: the inclusion proof of position {position} does "
                                  f"not verify against the signed root of {verified.head.tree_size} "
                                  f"events: the server's log does not hold these bytes there")
        return ProvenEvent(event_id, position, envelope, stored, digest, leaf, proof, verified)

