"""Unit tests of the pure parts of sakip_ledger and of the subscriber's local
copy: no server needed."""

import datetime as dt
import importlib.util
import json
import os
import shutil
import tempfile
import time
import unittest
from fractions import Fraction
from unittest import mock

import grpc

import sakip_ledger
from sakip_ledger import (WIB, LedgerError, SubmissionOf, audit_service_pb2, event_pb2, events_pb2,
                          ledger_pb2, report_service_pb2)
from sakip_ledger import numbers, replay as replay_module, times
from sakip_ledger.events import (changed_figure_keys, decode_sakip, event_to_dict, index_figures,
                                 parse_interchange_line, proposed, read_interchange, sakip_event,
                                 stream_matches)

from support import EXAMPLES_DIR, REFERENCE_REPORT


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(EXAMPLES_DIR, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def recorded(position, stream_id="35.08.19/2024", event_type="StrategicGoalDefined",
             event=None, event_id=None):
    """A RecordedEvent carrying a SAKIP payload, as the server would send it."""
    unit, year = stream_id.split("/")[0], 2024
    event = event or sakip_event(unit, year, strategic_goal_defined={"goal_id": f"SS-{position}",
                                                                     "name": "goal"})
    envelope = event_pb2.EventEnvelope(
        position=position, stream_id=stream_id, stream_version=position, event_id=event_id
        or f"e-{position}", event_type=event_type, payload=event.SerializeToString(),
        content_type=sakip_ledger.SAKIP_CONTENT_TYPE, recorded_at_micros=1_721_010_600_000_000,
        actor="local:test", prev_hash=bytes(32))
    return event_pb2.RecordedEvent(envelope=envelope, hash=bytes(range(32)))


class FakeRpcError(grpc.RpcError):
    def __init__(self, code, details):
        self._code, self._details = code, details

    def code(self):
        return self._code

    def details(self):
        return self._details


class NumbersTest(unittest.TestCase):
    def test_indonesian_notation_of_exact_figures(self):
        self.assertEqual(numbers.format_id("109680/1909"), "57,45")  # 57,454...
        self.assertEqual(numbers.format_id("500000/14583"), "34,29")  # 34,286...
        self.assertEqual(numbers.format_id("1077194452"), "1.077.194.452,00")
        self.assertEqual(numbers.format_id("100/3", 0), "33")
        self.assertEqual(numbers.format_id("999"), "999,00")
        self.assertEqual(numbers.format_id("1000"), "1.000,00")
        self.assertEqual(numbers.format_rupiah("1077194452"), "Rp1.077.194.452,00")
        self.assertEqual(numbers.format_plain("109680/1909"), "57.45")

    def test_rounding_is_half_up_and_exact(self):
        self.assertEqual(numbers.format_id("0.005"), "0,01")
        self.assertEqual(numbers.format_id("0.0049999"), "0,00")
        self.assertEqual(numbers.format_id("-0.005"), "-0,01")
        self.assertEqual(numbers.format_id("1/8", 2), "0,13")  # 0.125 -> 0.13, not banker's 0.12
        self.assertEqual(numbers.round_half_up("2.675"), Fraction(268, 100))  # float would say 2.67

    def test_refuses_inexact_or_ambiguous_input(self):
        for bad in (0.1, "1e3", "57,45", "", True, None):
            with self.assertRaises(ValueError, msg=repr(bad)):
                numbers.to_fraction(bad)

    def test_absent_figure(self):
        figure = report_service_pb2.Figure(present=False, formula="not reported")
        self.assertIsNone(numbers.figure_fraction(figure))
        self.assertEqual(numbers.figure_text(figure), "-")
        present = report_service_pb2.Figure(present=True, exact="100/3", indonesian="33,33")
        self.assertEqual(numbers.figure_fraction(present), Fraction(100, 3))
        self.assertEqual(numbers.figure_text(present), "33,33")


class TimesTest(unittest.TestCase):
    def test_aware_datetimes_in_micros_and_wib(self):
        when = dt.datetime(2024, 7, 15, 9, 30, tzinfo=WIB)
        self.assertEqual(times.to_micros(when), 1_721_010_600_000_000)
        self.assertEqual(times.to_micros(when.astimezone(dt.timezone.utc)), 1_721_010_600_000_000)
        self.assertEqual(times.format_wib(1_721_010_600_000_000), "2024-07-15 09:30:00 WIB")
        self.assertEqual(times.from_micros(1_721_010_600_000_123), when.replace(microsecond=123))

    def test_naive_datetime_refused(self):
        with self.assertRaisesRegex(ValueError, "naive"):
            times.to_micros(dt.datetime(2024, 7, 15))

    def test_parse_moment_text(self):
        self.assertEqual(times.parse_moment_text("2024-07-15"),
                         dt.datetime(2024, 7, 15, 23, 59, 59, 999999, tzinfo=WIB))
        self.assertEqual(times.parse_moment_text("2024-07-15", date_means_end_of_day=False),
                         dt.datetime(2024, 7, 15, tzinfo=WIB))
        self.assertEqual(times.parse_moment_text("2024-07-15 10:00"),
                         dt.datetime(2024, 7, 15, 10, tzinfo=WIB))
        self.assertEqual(times.to_micros(times.parse_moment_text("2024-07-15T02:30:00Z")),
                         1_721_010_600_000_000)
        with self.assertRaisesRegex(ValueError, "not a time"):
            times.parse_moment_text("15/07/2024")


class EventsTest(unittest.TestCase):
    def test_stream_filter_is_at_or_under_a_code(self):
        self.assertTrue(stream_matches("35.08.19/2024", ["35.08"]))
        self.assertTrue(stream_matches("35.08/notes", ["35.08"]))
        self.assertTrue(stream_matches("35.08.19/2024", ["35.09", "35.08.19"]))
        self.assertFalse(stream_matches("35.080/notes", ["35.08"]))
        self.assertFalse(stream_matches("35.09.01/2024", ["35.08"]))
        self.assertFalse(stream_matches("35/2024", ["35.08"]))
        self.assertTrue(stream_matches("anything", []))

    def test_decode_and_describe(self):
        correction = sakip_event("35.08.19", 2024, realization_corrected={
            "corrects_event_id": "klakah-2024-0042", "value": "40.12"})
        event = recorded(7, event_type="RealizationCorrected", event=correction)
        self.assertEqual(decode_sakip(event), correction)
        self.assertEqual(sakip_ledger.sakip_case(correction)[0], "RealizationCorrected")
        as_dict = event_to_dict(event)
        self.assertEqual(as_dict["position"], 7)
        self.assertEqual(as_dict["recorded_at_wib"], "2024-07-15 09:30:00.000 WIB")
        self.assertEqual(as_dict["sakip"]["realizationCorrected"]["value"], "40.12")
        self.assertEqual(as_dict["prev_hash"], "00" * 32)
        self.assertIn("corrects klakah-2024-0042: 40.12", sakip_ledger.describe_event(event))

    def test_decode_refuses_other_content(self):
        event = recorded(1)
        event.envelope.content_type = "application/json"
        with self.assertRaisesRegex(ValueError, "not a SAKIP event"):
            decode_sakip(event)
        event = recorded(1)
        event.envelope.payload = b"\xff\xff\xff"
        with self.assertRaisesRegex(ValueError, "does not decode"):
            decode_sakip(event)

    def test_sakip_event_builder_checks_the_case(self):
        with self.assertRaisesRegex(ValueError, "not a case"):
            sakip_event("35.08.19", 2024, no_such_event={})
        with self.assertRaisesRegex(ValueError, "exactly one"):
            sakip_event("35.08.19", 2024)
        message = proposed("x-1", sakip_event("35.08.19", 2024, report_disposed={
            "report_id": "R", "options": ["TARGET_DAN_REALISASI_DITELITI_ULANG"]}), reason="r")
        self.assertEqual(list(message.event.report_disposed.options),
                         [events_pb2.TARGET_DAN_REALISASI_DITELITI_ULANG])

    def test_reference_interchange_file(self):
        events = read_interchange(REFERENCE_REPORT)
        self.assertEqual(len(events), 235)
        self.assertEqual(events[41].event_id, "klakah-2024-0042")
        self.assertEqual(events[41].event.realization_recorded.value, "37.84")
        self.assertEqual(len({e.event_id for e in events}), 235)

    def test_interchange_errors_name_the_line(self):
        good = ('{"event_id": "a", "event_type": "StrategicGoalDefined", "event": {"unitCode": '
                '"35.08.19", "fiscalYear": 2024, "strategicGoalDefined": {"goalId": "SS-1"}}}')
        self.assertEqual(parse_interchange_line(good).event.strategic_goal_defined.goal_id, "SS-1")
        with self.assertRaisesRegex(ValueError, "line 3: event_type 'RealizationRecorded'"):
            parse_interchange_line(good.replace("StrategicGoalDefined\"", "RealizationRecorded\"",
                                                1), 3)
        with self.assertRaisesRegex(ValueError, "line 4"):
            parse_interchange_line('{"event_id": "a", "bogus": 1}', 4)
        with self.assertRaisesRegex(ValueError, "event_id is required"):
            parse_interchange_line(good.replace('"event_id": "a", ', ""))

    def test_figure_keys_and_changes(self):
        report = report_service_pb2.Report(quarter=2)
        row = report.indicators.add(indicator_id="IKU-1")
        for _ in range(4):
            row.quarters.add()
        row.quarters[0].realization.CopyFrom(report_service_pb2.Figure(present=True, exact="946/25"))
        for _ in range(4):
            report.average.quarters.add()
        programme = report.programmes.add(programme_id="PRG-1")
        for _ in range(4):
            programme.realized.add()
            programme.absorption.add()
        report.checklist.add(activity_id="A01")
        report.cost_per_outcome.add(indicator_id="IKU-1")
        keys = index_figures(report)
        for key in ("indicator/IKU-1/target", "indicator/IKU-1/q4/capaian",
                    "indicator/IKU-1/year_end/realization", "average/q1/capaian",
                    "average/year_end/capaian", "programme/PRG-1/q3/absorption",
                    "programme/PRG-1/cumulative/realized", "total/allocation",
                    "cost_per_outcome/IKU-1/absorption", "checklist/A01/ratio"):
            self.assertIn(key, keys)
        self.assertIs(keys["indicator/IKU-1/q1/realization"], row.quarters[0].realization)
        after = report_service_pb2.Report()
        after.CopyFrom(report)
        after.indicators[0].quarters[0].realization.exact = "1003/25"
        after.indicators[0].year_end_capaian.present = True
        self.assertEqual(changed_figure_keys(report, after),
                         {"indicator/IKU-1/q1/realization", "indicator/IKU-1/year_end/capaian"})
        self.assertEqual(changed_figure_keys(report, report), set())


class MomentAndErrorTest(unittest.TestCase):
    def test_moments(self):
        self.assertIsNone(sakip_ledger.to_moment(None).WhichOneof("at"))
        self.assertEqual(sakip_ledger.to_moment(42).position, 42)
        self.assertEqual(sakip_ledger.to_moment(SubmissionOf("LK-TW2")).submission_of_report,
                         "LK-TW2")
        self.assertEqual(sakip_ledger.to_moment(dt.datetime(2024, 7, 15, 9, 30, tzinfo=WIB))
                         .at_micros, 1_721_010_600_000_000)
        with self.assertRaises(ValueError):
            sakip_ledger.to_moment(-1)
        with self.assertRaises(TypeError):
            sakip_ledger.to_moment(True)
        with self.assertRaises(ValueError):
            sakip_ledger.to_moment(dt.datetime(2024, 7, 15))

    def test_error_carries_code_and_field(self):
        error = LedgerError.from_rpc_error(
            FakeRpcError(grpc.StatusCode.INVALID_ARGUMENT,
                         "events[0].realization_recorded.quarter: 5 is outside 1..4"),
            "ReportService.RecordEvents")
        self.assertEqual(error.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(error.code_name, "INVALID_ARGUMENT")
        self.assertIn("events[0].realization_recorded.quarter", error.message)
        self.assertEqual(str(error), "ReportService.RecordEvents: INVALID_ARGUMENT: "
                                     "events[0].realization_recorded.quarter: 5 is outside 1..4")
        self.assertFalse(error.retryable)
        self.assertTrue(LedgerError(grpc.StatusCode.UNAVAILABLE, "x").retryable)


class FakeReplay:
    """Serves batches of a fixed log from from_position; may fail after k."""

    def __init__(self, log, from_position, fail_after=None, error_code=None):
        self.log, self.from_position = log, from_position
        self.fail_after, self.error_code = fail_after, error_code
        self.cancelled = False

    def batches(self):
        served = 0
        for position in range(self.from_position, len(self.log) + 1):
            if self.fail_after is not None and served == self.fail_after:
                raise LedgerError(self.error_code, "server went away", "AuditService.Replay")
            events = [self.log[position - 1]] if self.log[position - 1] is not None else []
            served += 1
            yield sakip_ledger.ReplayBatch(events, position + 1, len(self.log),
                                           position >= len(self.log))

    def cancel(self):
        self.cancelled = True


class FakeClient:
    def __init__(self, log, failures):
        self.log, self.failures = log, list(failures)
        self.requests = []
        self.replays = []

    def replay(self, from_position, unit_prefixes, event_types, follow, mode):
        self.requests.append(from_position)
        fail_after, code = self.failures.pop(0) if self.failures else (None, None)
        replay = FakeReplay(self.log, max(from_position, 1), fail_after, code)
        self.replays.append(replay)
        return replay


class ResilientReplayTest(unittest.TestCase):
    def setUp(self):
        # 20 positions; every third matches the filter.
        self.log = [f"event-{p}" if p % 3 == 0 else None for p in range(1, 21)]
        self.sleeps = []

    def run_replay(self, client, **options):
        delivered = []
        for batch in replay_module.resilient_replay(client, from_position=0, follow=False,
                                                    sleep=self.sleeps.append, **options):
            delivered.extend(batch.events)
        return delivered

    def test_resumes_from_the_last_next_position_without_gap_or_duplicate(self):
        client = FakeClient(self.log, [(4, grpc.StatusCode.UNAVAILABLE),
                                       (0, grpc.StatusCode.UNAVAILABLE),
                                       (7, grpc.StatusCode.CANCELLED)])
        retries = []
        delivered = self.run_replay(client, on_retry=lambda e, d, p: retries.append(p))
        self.assertEqual(delivered, [e for e in self.log if e is not None])
        self.assertEqual(client.requests, [1, 5, 5, 12])
        self.assertEqual(retries, [5, 5, 12])
        self.assertEqual(len(self.sleeps), 3)
        # Backoff grows while failures are consecutive, and resets after progress.
        # (initial 0.2 s, jitter [d/2, d]): the second failure follows the first
        # with no progress in between (doubled), the third follows progress (reset).
        self.assertTrue(0.1 <= self.sleeps[0] <= 0.2, self.sleeps)
        self.assertTrue(0.2 <= self.sleeps[1] <= 0.4, self.sleeps)
        self.assertTrue(0.1 <= self.sleeps[2] <= 0.2, self.sleeps)
        self.assertTrue(all(replay.cancelled for replay in client.replays))

    def test_other_errors_are_raised(self):
        client = FakeClient(self.log, [(2, grpc.StatusCode.INVALID_ARGUMENT)])
        with self.assertRaises(LedgerError) as raised:
            self.run_replay(client)
        self.assertEqual(raised.exception.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(self.sleeps, [])

    def test_gives_up_after_max_attempts(self):
        client = FakeClient(self.log, [(0, grpc.StatusCode.UNAVAILABLE)] * 5)
        with self.assertRaises(LedgerError):
            self.run_replay(client, max_attempts=3)
        self.assertEqual(len(client.requests), 3)

    def test_cancel_ends_a_backoff_wait_quietly(self):
        client = FakeClient(self.log, [(0, grpc.StatusCode.UNAVAILABLE)] * 100)
        replay = replay_module.resilient_replay(client, initial_backoff_s=60, max_backoff_s=60,
                                                on_retry=lambda *args: replay.cancel())
        started = time.monotonic()
        self.assertEqual(list(replay), [])
        self.assertLess(time.monotonic() - started, 5)  # did not wait the 30..60 s backoff
        self.assertEqual((replay.retries, len(client.requests)), (1, 1))

    def test_backoff_delays(self):
        delays = replay_module.backoff_delays(0.1, 1.0, rng=lambda: 1.0)
        self.assertEqual([round(next(delays), 3) for _ in range(6)], [0.1, 0.2, 0.4, 0.8, 1.0, 1.0])


class FakeCall:
    def __init__(self, responses=(), error=None):
        self.responses, self.error, self.cancelled = list(responses), error, False

    def __iter__(self):
        yield from self.responses
        if self.error is not None:
            raise self.error

    def cancel(self):
        self.cancelled = True


class ClientSideReplayTest(unittest.TestCase):
    """The fallback when AuditService.Replay is UNIMPLEMENTED: Subscribe plus
    the same filter on the client."""

    def make_client(self, subscribe_responses):
        client = sakip_ledger.LedgerClient.__new__(sakip_ledger.LedgerClient)
        client.timeout_s = 1
        client._audit = mock.Mock()
        client._audit.Replay.return_value = FakeCall(error=FakeRpcError(
            grpc.StatusCode.UNIMPLEMENTED, "Method not found"))
        client._ledger = mock.Mock()
        client._ledger.GetHead.return_value = ledger_pb2.GetHeadResponse(position=4)
        client._ledger.Subscribe.return_value = FakeCall(subscribe_responses)
        return client

    def test_fallback_filters_by_prefix_and_type_and_tracks_positions(self):
        events = [recorded(1, "35.08.19/2024"), recorded(2, "35.09.01/2024"),
                  recorded(3, "35.08.02/2024", event_type="AgreementEstablished"),
                  recorded(4, "35.080/notes"), recorded(5, "35.08.19/2024")]
        responses = [ledger_pb2.SubscribeResponse(event=e) for e in events[:4]]
        responses.append(ledger_pb2.SubscribeResponse(
            caught_up=ledger_pb2.SubscribeResponse.CaughtUp(head_position=4)))
        responses.append(ledger_pb2.SubscribeResponse(event=events[4]))
        client = self.make_client(responses)
        replay = client.replay(from_position=0, unit_prefixes=["35.08"],
                               event_types=["StrategicGoalDefined"], follow=True)
        batches = list(replay.batches())
        self.assertEqual(replay.mode, "client")
        self.assertEqual({b.mode for b in batches}, {"client"})
        self.assertEqual([[e.envelope.position for e in b.events] for b in batches],
                         [[1], [], [], [], [], [5]])
        self.assertEqual([b.next_position for b in batches], [2, 3, 4, 5, 5, 6])
        self.assertEqual([b.caught_up for b in batches], [False, False, False, True, True, True])
        self.assertEqual(client._ledger.Subscribe.call_args[0][0].from_position, 1)

    def test_iteration_tracks_next_position_per_event(self):
        responses = [ledger_pb2.SubscribeResponse(event=recorded(p)) for p in (1, 2, 3)]
        client = self.make_client(responses)
        replay = client.replay(from_position=1, unit_prefixes=["35.08"], follow=True)
        seen = [(e.envelope.position, replay.next_position) for e in replay]
        self.assertEqual(seen, [(1, 2), (2, 3), (3, 4)])

    def test_server_mode_does_not_fall_back(self):
        client = self.make_client([])
        with self.assertRaises(LedgerError) as raised:
            list(client.replay(mode="server").batches())
        self.assertEqual(raised.exception.code, grpc.StatusCode.UNIMPLEMENTED)

    def test_server_replay_messages_become_batches(self):
        client = self.make_client([])
        client._audit.Replay.return_value = FakeCall([
            audit_service_pb2.ReplayResponse(events=[recorded(3), recorded(9)], next_position=12,
                                             head_position=20),
            audit_service_pb2.ReplayResponse(next_position=21, head_position=20, caught_up=True)])
        replay = client.replay(from_position=3, unit_prefixes=["35.08"])
        positions = []
        for event in replay:
            positions.append((event.envelope.position, replay.next_position))
        self.assertEqual(positions, [(3, 4), (9, 10)])
        self.assertEqual(replay.next_position, 21)
        self.assertTrue(replay.caught_up)
        self.assertEqual(replay.mode, "server")
        request = client._audit.Replay.call_args[0][0]
        self.assertEqual((request.from_position, list(request.unit_prefixes)), (3, ["35.08"]))


class LocalCopyTest(unittest.TestCase):
    """The subscriber's local copy: idempotent by position across the crash
    window between writing events and writing the checkpoint."""

    def setUp(self):
        self.subscriber = load_example("kabupaten_subscriber")
        self.dir = tempfile.mkdtemp(prefix="py-local-copy-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def open(self):
        return self.subscriber.LocalCopy(self.dir, ["35.08"], [])

    def positions(self):
        with open(os.path.join(self.dir, "events.jsonl")) as stream:
            return [json.loads(line)["position"] for line in stream]

    def test_crash_between_events_and_checkpoint_loses_and_duplicates_nothing(self):
        copy = self.open()
        copy.store([recorded(1), recorded(3)], 4)
        with mock.patch.object(self.subscriber, "write_atomically",
                               side_effect=OSError("crash before the checkpoint")):
            with self.assertRaises(OSError):
                copy.store([recorded(4), recorded(6)], 8)
        with open(os.path.join(self.dir, "checkpoint.json")) as stream:
            self.assertEqual(json.load(stream)["next_position"], 4)
        reopened = self.open()
        self.assertEqual(reopened.last_position, 6)
        self.assertEqual(reopened.resume_position, 7)
        # Even a replay from the old checkpoint re-delivering 4 and 6 adds nothing twice.
        written = reopened.store([recorded(4), recorded(6), recorded(7)], 9)
        self.assertEqual([e.envelope.position for e in written], [7])
        self.assertEqual(self.positions(), [1, 3, 4, 6, 7])
        self.assertEqual(self.open().resume_position, 9)
        self.assertEqual(self.open().count, 5)

    def test_progress_without_events_moves_the_checkpoint(self):
        copy = self.open()
        copy.store([], 50)
        self.assertEqual(self.open().resume_position, 50)
        self.assertFalse([n for n in os.listdir(self.dir) if ".tmp." in n])

    def test_torn_last_line_is_cut(self):
        copy = self.open()
        copy.store([recorded(1), recorded(2)], 3)
        with open(os.path.join(self.dir, "events.jsonl"), "a") as stream:
            stream.write('{"position": 3, "stream_id": "35.08')
        reopened = self.open()
        self.assertEqual((reopened.last_position, reopened.count), (2, 2))
        reopened.store([recorded(3)], 4)
        self.assertEqual(self.positions(), [1, 2, 3])

    def test_state_of_another_filter_is_refused(self):
        self.open().store([recorded(1)], 2)
        with self.assertRaisesRegex(self.subscriber.StateError, "another --state-dir"):
            self.subscriber.LocalCopy(self.dir, ["35.09"], [])


if __name__ == "__main__":
    unittest.main()
