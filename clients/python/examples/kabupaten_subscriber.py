#!/usr/bin/python3
"""Keep a local copy of a kabupaten's SAKIP events, and print them as they come.

A starting point for another government system (a provincial dashboard, a
BPK working copy, a regional planning database) that needs the performance
and budget events of every unit under a Kemendagri code, e.g. every
kecamatan of Kabupaten Lumajang (35.08):

    /usr/bin/python3 kabupaten_subscriber.py --server 127.0.0.1:7070 \\
        --prefix 35.08 --state-dir ./lumajang

It replays the ledger from the beginning (AuditService.Replay, filtered by
unit prefix on the server), then follows live appends until stopped
(Ctrl-C or SIGTERM). Stop it, kill it, pull the network cable, restart
ledgerd: started again with the same --state-dir it continues where it
stopped, and the local copy holds every matching event exactly once, in
ledger order.

The state directory holds two files:

  events.jsonl     one event a line, in position order: the envelope (position,
                   stream, event id and type, recorded time in UTC micros and
                   WIB, actor, reason, hashes) and the decoded
                   sakip.v1.SakipEvent ("sakip", proto3 JSON).
  checkpoint.json  {"next_position": N, ...}: every ledger position before N
                   has been examined; replaced atomically (write a temporary
                   file, fsync, rename, fsync the directory) after each
                   message.

Exactly once across crashes: for each message the events are appended to
events.jsonl and fsynced first, the checkpoint second. A crash between the
two leaves events newer than the checkpoint; on restart the replay resumes
from the checkpoint and receives them again, and the local copy skips every
event whose position is not above the last one it holds (positions are
unique and increasing). A line torn by a crash mid-write is cut off at
start-up. So the local copy is idempotent by position, and the checkpoint
only ever saves work.

Against a ledgerd whose AuditService is not implemented yet, the client
library falls back to LedgerService.Subscribe and filters on the client
(see sakip_ledger.replay): the same events, the same positions.

Exit codes: 0 stopped (or caught up with --no-follow); 1 the server refused
(e.g. INVALID_ARGUMENT); 2 bad arguments or a state directory written for
another filter.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from typing import Iterable, Optional

# The package sits next to this folder (clients/python/sakip_ledger); the
# generated stubs must be on PYTHONPATH (docs/INTEGRATORS.md).
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
try:
    import sakip_ledger  # noqa: F401
except ImportError as error:
    sys.exit(f"kabupaten_subscriber: {error}")

from sakip_ledger import (LedgerError, add_connection_arguments, connect_from_arguments,
                          describe_event, event_to_dict)

EVENTS_FILE = "events.jsonl"
CHECKPOINT_FILE = "checkpoint.json"


class StateError(Exception):
    """The state directory cannot be used (another filter, a damaged file)."""


def _fsync_directory(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: str, text: str) -> None:
    """Replaces ``path`` with ``text`` so that a reader (or a restart after a
    crash) sees the old or the new content, never a mix: temp file, fsync,
    rename over, fsync the directory."""
    directory = os.path.dirname(os.path.abspath(path))
    temporary = f"{path}.tmp.{os.getpid()}"
    with open(temporary, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
    _fsync_directory(directory)


class LocalCopy:
    """The local copy of the matching events in a state directory.

    ``resume_position`` is where the replay must start; ``store(batch)``
    appends the batch's new events and then saves the checkpoint. Idempotent
    by position: an event at or below ``last_position`` is never written twice.
    """

    def __init__(self, state_dir: str, prefixes: Iterable[str], event_types: Iterable[str],
                 from_position: int = 1):
        self.state_dir = state_dir
        self.filter = {"prefixes": sorted(prefixes), "event_types": sorted(event_types)}
        os.makedirs(state_dir, exist_ok=True)
        self.events_path = os.path.join(state_dir, EVENTS_FILE)
        self.checkpoint_path = os.path.join(state_dir, CHECKPOINT_FILE)
        self.last_position = self._repair_and_scan()
        checkpoint = self._read_checkpoint()
        if checkpoint is None:
            self.checkpoint_position = max(from_position, 1)
        else:
            if checkpoint.get("filter") != self.filter:
                raise StateError(
                    f"{self.checkpoint_path} was written for {checkpoint.get('filter')}, not "
                    f"{self.filter}: use another --state-dir")
            self.checkpoint_position = int(checkpoint["next_position"])
        self.count = self._count_lines()

    @property
    def resume_position(self) -> int:
        """The first position to ask for: after the checkpoint and after the
        last event held (the later of the two)."""
        return max(self.checkpoint_position, self.last_position + 1)

    def _repair_and_scan(self) -> int:
        """Cuts a torn last line (a crash mid-write) and returns the position
        of the last complete event (0 if none)."""
        if not os.path.exists(self.events_path):
            return 0
        with open(self.events_path, "rb+") as stream:
            data = stream.read()
            end = data.rfind(b"\n") + 1
            if end != len(data):
                stream.truncate(end)
                stream.flush()
                os.fsync(stream.fileno())
                data = data[:end]
        last = 0
        lines = data.splitlines()
        if lines:
            last = int(json.loads(lines[-1])["position"])
        return last

    def _count_lines(self) -> int:
        if not os.path.exists(self.events_path):
            return 0
        with open(self.events_path, "rb") as stream:
            return sum(1 for _ in stream)

    def _read_checkpoint(self) -> Optional[dict]:
        try:
            with open(self.checkpoint_path, encoding="utf-8") as stream:
                return json.load(stream)
        except FileNotFoundError:
            return None
        except ValueError as error:  # cannot happen with atomic writes; say so loudly
            raise StateError(f"{self.checkpoint_path} is damaged: {error}") from error

    def store(self, events: list, next_position: int) -> list:
        """Appends the events above ``last_position`` (fsynced), then saves
        ``next_position`` as the checkpoint. Returns the events written."""
        fresh = [e for e in events if e.envelope.position > self.last_position]
        if fresh:
            with open(self.events_path, "a", encoding="utf-8") as out:
                for event in fresh:
                    out.write(json.dumps(event_to_dict(event), ensure_ascii=False,
                                         sort_keys=True) + "\n")
                out.flush()
                os.fsync(out.fileno())
            self.last_position = fresh[-1].envelope.position
            self.count += len(fresh)
        if next_position > self.checkpoint_position or fresh:
            self.checkpoint_position = max(next_position, self.last_position + 1)
            write_atomically(self.checkpoint_path, json.dumps(
                {"next_position": self.checkpoint_position, "filter": self.filter,
                 "events_held": self.count, "last_position": self.last_position},
                sort_keys=True) + "\n")
        return fresh


class _Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise _Stop()


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, epilog="example: kabupaten_subscriber.py --prefix 35.08 "
                                    "--state-dir ./lumajang",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_connection_arguments(parser)
    parser.add_argument("--prefix", action="append", required=True,
                        help="Kemendagri code whose units to copy, e.g. 35.08 (repeatable)")
    parser.add_argument("--event-type", action="append", default=[],
                        help="copy only this event type, e.g. RealizationRecorded "
                             "(repeatable; default: every type)")
    parser.add_argument("--state-dir", required=True,
                        help="directory of events.jsonl and checkpoint.json (created)")
    parser.add_argument("--from-position", type=int, default=1,
                        help="where a new state directory starts (default 1: the beginning)")
    parser.add_argument("--no-follow", action="store_true",
                        help="stop once caught up with the head instead of following")
    parser.add_argument("--quiet", action="store_true", help="do not print the events")
    parser.add_argument("--mode", choices=["auto", "server", "client"], default="auto",
                        help="auto (default): AuditService.Replay, or client-side filtering "
                             "when the server lacks it; server; client")
    args = parser.parse_args(argv)
    try:
        client = connect_from_arguments(args)
    except (ValueError, OSError) as error:
        parser.error(str(error))

    try:
        copy = LocalCopy(args.state_dir, args.prefix, args.event_type, args.from_position)
    except StateError as error:
        print(f"kabupaten_subscriber: {error}", file=sys.stderr)
        return 2
    print(f"kabupaten_subscriber: {copy.count} events held in {copy.events_path}; "
          f"resuming at position {copy.resume_position} from {args.server}", file=sys.stderr)

    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)

    def on_retry(error: LedgerError, delay_s: float, position: int) -> None:
        print(f"kabupaten_subscriber: disconnected ({error.code_name}: {error.message}); "
              f"reconnecting in {delay_s:.1f} s from position {position}",
              file=sys.stderr, flush=True)

    announced_caught_up = False
    batches = client.resilient_replay(
        from_position=copy.resume_position, unit_prefixes=args.prefix,
        event_types=args.event_type, follow=not args.no_follow, on_retry=on_retry,
        mode=args.mode)
    try:
        for batch in batches:
            for event in copy.store(batch.events, batch.next_position):
                if not args.quiet:
                    print(describe_event(event), flush=True)
            if batch.caught_up and not announced_caught_up:
                announced_caught_up = True
                how = ("AuditService.Replay" if batch.mode == "server" else
                       "client-side filter over LedgerService.Subscribe")
                print(f"kabupaten_subscriber: caught up with head {batch.head_position} "
                      f"({how}); {copy.count} events held"
                      + ("" if args.no_follow else "; following"), file=sys.stderr, flush=True)
    except _Stop:
        print(f"kabupaten_subscriber: stopped; {copy.count} events held, next position "
              f"{copy.resume_position}", file=sys.stderr)
    except LedgerError as error:
        print(f"kabupaten_subscriber: {error}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        batches.cancel()
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
