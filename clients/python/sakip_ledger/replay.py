"""Filtered replay of the log, resumable without gap or duplicate.

``AuditService.Replay`` streams the events of the log from a position,
filtered by unit prefix and event type; each message says up to where the
log has been examined (``next_position``). A client that remembers the
``next_position`` of the last message it has *processed* and resumes from
it receives every matching event exactly once across reconnects:

    replay = client.replay(from_position=checkpoint, unit_prefixes=["35.08"], follow=True)
    for batch in replay.batches():
        store(batch.events)               # make this idempotent by position
        save_checkpoint(batch.next_position)

``resilient_replay`` does the reconnecting: after UNAVAILABLE (ledgerd
restarting, a network cut) it waits with exponential backoff and resumes
from the last ``next_position``.

Against a server that does not implement ``AuditService.Replay`` yet (it
answers UNIMPLEMENTED), mode ``"auto"`` falls back to ``LedgerService``
(``Subscribe`` when following, ``ReadAll`` otherwise) and applies the same
filter on the client: the same events, the same positions, more bytes on the
wire.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Optional

import grpc

from ._stubs import audit_service_pb2, ledger_pb2
from .errors import LedgerError
from .events import stream_matches

#: Codes after which a replay is resumed from its last next_position.
#: CANCELLED counts when the client did not cancel: the server stopped.
RESUMABLE_CODES = frozenset({
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.CANCELLED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
})


@dataclass
class ReplayBatch:
    """One message of a replay.

    Attributes:
        events: the matching ``ledger.v1.RecordedEvent``s, in position order
            (possibly none: the message then only reports progress).
        next_position: every position before it has been examined; resume here.
        head_position: the head of the log when the replay started.
        caught_up: true from the first message at or past ``head_position``.
        mode: ``"server"`` (AuditService.Replay) or ``"client"`` (filtered on
            the client over LedgerService).
    """
    events: list = field(default_factory=list)
    next_position: int = 1
    head_position: int = 0
    caught_up: bool = False
    mode: str = ""


class Replay:
    """A running replay (see ``LedgerClient.replay``); iterate over it for
    events, or over ``batches()`` for messages with their ``next_position``.

    Attributes:
        next_position: where to resume to receive nothing twice and miss
            nothing: after each event yielded by iteration it is that event's
            position + 1; after each batch, the batch's ``next_position``.
        head_position: the head when the replay started (0 until known).
        caught_up: whether the replay has reached ``head_position``.
        mode: ``"server"`` (AuditService.Replay) or ``"client"`` (filtered
            on the client over LedgerService), once the first message came.
    """

    def __init__(self, client, from_position: int = 0, unit_prefixes: Iterable[str] = (),
                 event_types: Iterable[str] = (), follow: bool = False,
                 include_stored_bytes: bool = False, mode: str = "auto"):
        if mode not in ("auto", "server", "client"):
            raise ValueError(f"mode must be auto, server or client, not {mode!r}")
        self._client = client
        self.unit_prefixes = list(unit_prefixes)
        self.event_types = list(event_types)
        self.follow = follow
        self.include_stored_bytes = include_stored_bytes
        self.next_position = max(int(from_position), 1)
        self.head_position = 0
        self.caught_up = False
        self.mode = mode if mode != "auto" else None
        self._allow_fallback = mode == "auto"
        self._call = None
        self._cancelled = False

    # -- public ------------------------------------------------------------

    def cancel(self) -> None:
        """Stops the replay; a loop over it ends without an error."""
        self._cancelled = True
        if self._call is not None:
            self._call.cancel()

    def batches(self) -> Iterator[ReplayBatch]:
        """Yields each message as a ``ReplayBatch``; ``self.next_position`` is
        the batch's ``next_position`` when it is yielded. Raises
        ``LedgerError`` when the stream fails (UNAVAILABLE: resume from
        ``next_position``, or use ``resilient_replay``)."""
        for batch in self._raw_batches():
            self.next_position = batch.next_position
            self.head_position = batch.head_position
            self.caught_up = batch.caught_up
            batch.mode = self.mode
            yield batch

    def __iter__(self) -> Iterator:
        for batch in self._raw_batches():
            self.head_position = batch.head_position
            for event in batch.events:
                self.next_position = event.envelope.position + 1
                yield event
            self.next_position = batch.next_position
            self.caught_up = batch.caught_up

    # -- internals -----------------------------------------------------------

    def _matches(self, envelope) -> bool:
        if self.event_types and envelope.event_type not in self.event_types:
            return False
        return stream_matches(envelope.stream_id, self.unit_prefixes)

    def _raw_batches(self) -> Iterator[ReplayBatch]:
        if self.mode in (None, "server"):
            received = False
            try:
                for batch in self._server_batches():
                    received = True
                    self.mode = "server"
                    yield batch
                return
            except LedgerError as error:
                if (error.code == grpc.StatusCode.UNIMPLEMENTED and self._allow_fallback
                        and not received):
                    self.mode = "client"
                else:
                    raise
        yield from self._client_batches()

    def _server_batches(self) -> Iterator[ReplayBatch]:
        request = audit_service_pb2.ReplayRequest(
            from_position=self.next_position, unit_prefixes=self.unit_prefixes,
            event_types=self.event_types, follow=self.follow,
            include_stored_bytes=self.include_stored_bytes)
        self._call = self._client._audit.Replay(request)
        try:
            for response in self._call:
                yield ReplayBatch(list(response.events), response.next_position,
                                  response.head_position, response.caught_up)
        except grpc.RpcError as error:
            if self._cancelled:
                return
            raise LedgerError.from_rpc_error(error, "AuditService.Replay") from None

    def _client_batches(self) -> Iterator[ReplayBatch]:
        head = self._client.head().position
        position = self.next_position
        if not self.follow:
            yield from self._read_until(position, head)
            return
        request = ledger_pb2.SubscribeRequest(
            from_position=position, include_stored_bytes=self.include_stored_bytes)
        self._call = self._client._ledger.Subscribe(request)
        caught_up = position > head
        try:
            for response in self._call:
                if response.WhichOneof("item") == "caught_up":
                    caught_up = True
                    yield ReplayBatch([], position, head, True)
                    continue
                envelope = response.event.envelope
                position = envelope.position + 1
                caught_up = caught_up or envelope.position >= head
                events = [response.event] if self._matches(envelope) else []
                yield ReplayBatch(events, position, head, caught_up)
        except grpc.RpcError as error:
            if self._cancelled:
                return
            raise LedgerError.from_rpc_error(error, "LedgerService.Subscribe") from None

    def _read_until(self, position: int, head: int) -> Iterator[ReplayBatch]:
        while position <= head and not self._cancelled:
            response = self._client._call(
                "LedgerService.ReadAll", self._client._ledger.ReadAll,
                ledger_pb2.ReadAllRequest(from_position=position, max_count=1000,
                                          include_stored_bytes=self.include_stored_bytes))
            events = [e for e in response.events if e.envelope.position <= head]
            if not events:
                break
            position = events[-1].envelope.position + 1
            yield ReplayBatch([e for e in events if self._matches(e.envelope)], position,
                              head, position > head)
        if position <= head:  # an empty range (nothing left): report the end
            yield ReplayBatch([], position, head, True)


def backoff_delays(initial_s: float = 0.2, maximum_s: float = 10.0,
                   rng: Callable[[], float] = random.random) -> Iterator[float]:
    """Exponential backoff with jitter: about initial, 2 x initial, ... up to
    ``maximum_s``; each delay is drawn from [d/2, d]."""
    delay = initial_s
    while True:
        yield delay * (0.5 + rng() / 2)
        delay = min(delay * 2, maximum_s)


class ResilientReplay:
    """A replay that survives disconnects (see ``resilient_replay``).

    Iterate over it for ``ReplayBatch``es. ``next_position`` is the
    ``next_position`` of the last batch yielded (where it resumes);
    ``retries`` counts reconnections. ``cancel()`` (from any thread) ends
    the iteration without an error.
    """

    def __init__(self, client, from_position: int = 0, unit_prefixes: Iterable[str] = (),
                 event_types: Iterable[str] = (), follow: bool = True,
                 initial_backoff_s: float = 0.2, max_backoff_s: float = 10.0,
                 max_attempts: Optional[int] = None,
                 on_retry: Optional[Callable[[LedgerError, float, int], None]] = None,
                 mode: str = "auto", sleep: Optional[Callable[[float], None]] = None):
        self._client = client
        self.unit_prefixes = list(unit_prefixes)
        self.event_types = list(event_types)
        self.follow = follow
        self.initial_backoff_s, self.max_backoff_s = initial_backoff_s, max_backoff_s
        self.max_attempts = max_attempts
        self.on_retry = on_retry
        self.mode = mode
        self.next_position = max(int(from_position), 1)
        self.retries = 0
        self._cancelled = threading.Event()
        self._sleep = sleep or self._cancellable_sleep
        self._replay: Optional[Replay] = None

    def _cancellable_sleep(self, seconds: float) -> None:
        self._cancelled.wait(seconds)

    def cancel(self) -> None:
        """Stops the replay (and any backoff wait); iteration ends quietly."""
        self._cancelled.set()
        replay = self._replay
        if replay is not None:
            replay.cancel()

    def __iter__(self) -> Iterator[ReplayBatch]:
        delays = None
        failures = 0
        while not self._cancelled.is_set():
            replay = self._client.replay(from_position=self.next_position,
                                         unit_prefixes=self.unit_prefixes,
                                         event_types=self.event_types, follow=self.follow,
                                         mode=self.mode)
            self._replay = replay
            try:
                for batch in replay.batches():
                    failures, delays = 0, None
                    self.next_position = batch.next_position
                    yield batch
                return
            except LedgerError as error:
                if self._cancelled.is_set():
                    return
                if error.code not in RESUMABLE_CODES:
                    raise
                failures += 1
                if self.max_attempts is not None and failures >= self.max_attempts:
                    raise
                delays = delays or backoff_delays(self.initial_backoff_s, self.max_backoff_s)
                delay = next(delays)
                self.retries += 1
                if self.on_retry is not None:
                    self.on_retry(error, delay, self.next_position)
                self._sleep(delay)
            finally:
                replay.cancel()


def resilient_replay(client, from_position: int = 0, unit_prefixes: Iterable[str] = (),
                     event_types: Iterable[str] = (), follow: bool = True,
                     initial_backoff_s: float = 0.2, max_backoff_s: float = 10.0,
                     max_attempts: Optional[int] = None,
                     on_retry: Optional[Callable[[LedgerError, float, int], None]] = None,
                     mode: str = "auto", sleep: Optional[Callable[[float], None]] = None,
                     ) -> ResilientReplay:
    """Like ``client.replay(...).batches()``, but survives disconnects.

    When the stream fails with UNAVAILABLE, RESOURCE_EXHAUSTED or a CANCELLED
    the client did not ask for, it waits (exponential backoff with jitter,
    reset after every message received) and starts a new replay from the
    ``next_position`` of the last batch yielded. Nothing is yielded twice and
    nothing is skipped. Other errors are raised as ``LedgerError``, as is the
    last one after ``max_attempts`` consecutive failures (None: retry forever).
    ``on_retry(error, delay_s, next_position)`` is called before each wait.
    Without ``follow`` the iteration ends once it has caught up. Returns a
    ``ResilientReplay``: iterate over it; ``cancel()`` stops it from any thread.
    """
    return ResilientReplay(client, from_position, unit_prefixes, event_types, follow,
                           initial_backoff_s, max_backoff_s, max_attempts, on_retry, mode, sleep)
