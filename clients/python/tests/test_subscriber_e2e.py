"""End-to-end test of the resumable subscriber (examples/kabupaten_subscriber.py)
against a real ledgerd (issue #4): a subscriber to 35.08 is killed (SIGKILL,
no chance to clean up) twice in the middle of a stream of appends to several
units, some under 35.08 and some not, restarted from its state directory
each time, and ends with exactly the events of the units under 35.08, in
ledger order, once each.

Run twice: with the server's filtered replay (AuditService.Replay; skipped
while the server answers UNIMPLEMENTED) and with the client-side filter
over LedgerService.Subscribe (the fallback for servers without it).
"""

import json
import os
import signal
import subprocess
import sys
import threading
import unittest

import grpc

from sakip_ledger import (LedgerClient, LedgerError, ledger_pb2, proposed, sakip_event,
                          stream_matches)

from support import EXAMPLES_DIR, LedgerdTestCase, skip_if_unimplemented, wait_until

# Units under Kabupaten Lumajang (35.08) and outside it; the raw streams test
# the prefix rule on non-SAKIP streams ("35.080" is not under "35.08").
UNITS_IN = ["35.08.01", "35.08.19", "35.08.21"]
UNITS_OUT = ["35.09.01", "35.10.02"]
RAW_STREAMS = ["35.08/catatan", "35.080/catatan"]
PREFIX = "35.08"
YEAR = 2025
WAIT_S = 30


class Appender(threading.Thread):
    """Appends SAKIP events round-robin over the units (and a raw event now
    and then) until told to stop, and at least ``minimum`` rounds."""

    def __init__(self, client, tag, minimum):
        super().__init__(daemon=True)
        self.client, self.tag, self.minimum = client, tag, minimum
        self.stop_requested = threading.Event()
        self.rounds = 0
        self.error = None

    def check(self):
        if self.error is not None:
            raise AssertionError(f"the appender failed: {self.error!r}")

    def run(self):
        try:
            units = UNITS_IN + UNITS_OUT
            while (not self.stop_requested.is_set() or self.rounds < self.minimum) \
                    and self.rounds < 5000:
                unit = units[self.rounds % len(units)]
                goal = f"SS-{self.tag}-{self.rounds}"
                self.client.record_events([proposed(f"{unit}-{YEAR}-{goal}", sakip_event(
                    unit, YEAR, strategic_goal_defined={"goal_id": goal, "name": "Sasaran"}))])
                if self.rounds % 7 == 0:
                    stream = RAW_STREAMS[(self.rounds // 7) % 2]
                    self.client.append(stream, [ledger_pb2.ProposedEvent(
                        event_id=f"{stream}-{self.tag}-{self.rounds}", event_type="NoteWritten",
                        content_type="application/json", payload=b'{"catatan": "uji"}')])
                self.rounds += 1
        except BaseException as error:  # reported by the test
            self.error = error


class Subscriber:
    """The example as a child process (one per start)."""

    def __init__(self, address, state_dir, mode, log_dir):
        self.address, self.state_dir, self.mode, self.log_dir = address, state_dir, mode, log_dir
        self.process = None
        self.starts = 0

    def start(self):
        self.starts += 1
        self.stdout_path = os.path.join(self.log_dir, f"subscriber.{self.mode}.{self.starts}.out")
        self.stderr_path = os.path.join(self.log_dir, f"subscriber.{self.mode}.{self.starts}.err")
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, os.path.join(EXAMPLES_DIR, "kabupaten_subscriber.py"),
                 "--server", self.address, "--prefix", PREFIX, "--state-dir", self.state_dir,
                 "--mode", self.mode], stdout=out, stderr=err, stdin=subprocess.DEVNULL)

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(WAIT_S)

    def terminate(self):
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(WAIT_S)

    def check_running(self):
        if self.process.poll() is not None:
            with open(self.stderr_path) as err:
                raise AssertionError(f"subscriber exited {self.process.returncode}: {err.read()}")

    def held(self):
        """The (position, event_id) pairs of the local copy's complete lines."""
        try:
            with open(os.path.join(self.state_dir, "events.jsonl"), "rb") as stream:
                data = stream.read()
        except FileNotFoundError:
            return []
        lines = data[: data.rfind(b"\n") + 1].splitlines()
        return [(json.loads(line)["position"], json.loads(line)["event_id"]) for line in lines]

    def checkpoint(self):
        try:
            with open(os.path.join(self.state_dir, "checkpoint.json")) as stream:
                return json.load(stream)["next_position"]
        except FileNotFoundError:
            return 0


class SubscriberEndToEndTest(LedgerdTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for unit in UNITS_IN + UNITS_OUT:
            cls.client.record_events([proposed(f"{unit}-{YEAR}-pk", sakip_event(
                unit, YEAR, agreement_established={
                    "unit_name": f"Kecamatan {unit}", "head_title": "Camat",
                    "head_name": "CONTOH", "head_nip": "19730415 199803 1 011"}))])

    def run_scenario(self, mode):
        tag = mode
        state_dir = os.path.join(self.work_dir, f"state-{mode}")
        subscriber = Subscriber(self.ledgerd.address, state_dir, mode, self.work_dir)
        appender = Appender(self.client, tag, minimum=60)
        appender.start()
        try:
            subscriber.start()
            kills = []
            for _ in range(2):
                held_before = len(subscriber.held())
                wait_until(lambda: appender.check() or subscriber.check_running()
                           or len(subscriber.held()) >= held_before + 5,
                           WAIT_S,
                           "the subscriber to copy 5 more events")
                self.assertTrue(appender.is_alive(), "the appends must still be running")
                subscriber.kill()
                kills.append((appender.rounds, len(subscriber.held())))
                subscriber.start()
            appender.stop_requested.set()
            appender.join(WAIT_S)
            self.assertIsNone(appender.error)
            self.assertFalse(appender.is_alive())
            # One more matching event, appended while the last run follows live.
            self.client.record_events([proposed(f"35.08.19-{YEAR}-final-{tag}", sakip_event(
                "35.08.19", YEAR, strategic_goal_defined={"goal_id": f"SS-final-{tag}",
                                                          "name": "Sasaran terakhir"}))])

            head = self.client.head().position
            expected = [(e.envelope.position, e.envelope.event_id)
                        for e in self.client.read_log()
                        if stream_matches(e.envelope.stream_id, [PREFIX])]
            self.assertTrue(any(unit in eid for unit in UNITS_OUT for _, eid in
                                [(e.envelope.position, e.envelope.event_id)
                                 for e in self.client.read_log(limit=50)]))
            wait_until(lambda: subscriber.check_running() or subscriber.checkpoint() > head,
                       WAIT_S,
                       f"the subscriber's checkpoint to pass the head {head}")
            held = subscriber.held()
            self.assertEqual(held, expected)  # in order, once each, none missing, none foreign

            def printed():
                with open(subscriber.stdout_path) as out:
                    return out.read()
            # It prints each event after storing it: the last one shows up.
            wait_until(lambda: f"#{expected[-1][0]} " in printed(), WAIT_S,
                       "the subscriber to print the last event")
            self.assertIn(expected[-1][1], printed())
            self.assertEqual(subscriber.terminate(), 0)
            self.assertEqual(subscriber.held(), expected)
            self.assertEqual(subscriber.starts, 3)
            # Killed while appends went on, each time holding part of the events.
            self.assertTrue(all(count < len(expected) for _, count in kills), kills)
            return held
        finally:
            appender.stop_requested.set()
            if subscriber.process is not None and subscriber.process.poll() is None:
                subscriber.kill()

    def test_client_side_filter_resumes_exactly_once(self):
        held = self.run_scenario("client")
        self.assertTrue(any("35.08/catatan" in eid for _, eid in held))
        self.assertFalse(any("35.080/" in eid or "35.09" in eid or "35.10" in eid
                             for _, eid in held))

    def test_resilient_replay_survives_a_server_restart(self):
        """resilient_replay in this process, following 35.08 while ledgerd is
        killed (SIGKILL) and started again on the same port: it reconnects
        with backoff and delivers exactly the matching events once each."""
        head_before = self.client.head().position
        received, retries, errors = [], [], []
        client = LedgerClient(self.ledgerd.address, timeout_s=5)
        batches = client.resilient_replay(
            from_position=1, unit_prefixes=[PREFIX], follow=True, initial_backoff_s=0.05,
            max_backoff_s=0.5, on_retry=lambda error, delay, position: retries.append(
                (error.code_name, position)))

        def consume():
            try:
                for batch in batches:
                    received.extend((e.envelope.position, e.envelope.event_id)
                                    for e in batch.events)
            except BaseException as error:  # reported by the test
                errors.append(error)

        consumer = threading.Thread(target=consume, daemon=True)
        consumer.start()
        try:
            def caught_up_to(position):
                return lambda: errors or (received and received[-1][0] >= position)
            last_matching = max([p for p, _ in self.expected_log()] or [0])
            wait_until(caught_up_to(last_matching), WAIT_S, "the replay to catch up")
            self.assertLessEqual(last_matching, head_before)
            appender = Appender(self.client, "restart", minimum=10)
            appender.stop_requested.set()
            appender.run()  # in this thread: 10 rounds
            appender.check()
            self.ledgerd.kill()
            self.ledgerd.start(port=self.ledgerd.port)
            self.client.close()
            type(self).client = LedgerClient(self.ledgerd.address, timeout_s=20)
            appender = Appender(self.client, "after-restart", minimum=10)
            appender.stop_requested.set()
            appender.run()
            appender.check()
            expected = self.expected_log()
            wait_until(caught_up_to(expected[-1][0]), WAIT_S,
                       "the replay to deliver the events appended after the restart")
            self.assertEqual(errors, [])
            self.assertEqual(received, expected)
            self.assertTrue(retries, "the replay never saw the server go away")
            self.assertTrue(all(code in ("UNAVAILABLE", "CANCELLED") for code, _ in retries),
                            retries)
        finally:
            batches.cancel()
            consumer.join(WAIT_S)
            self.assertFalse(consumer.is_alive(), "cancel() did not end the replay")
            self.assertEqual(errors, [])
            client.close()

    def expected_log(self):
        return [(e.envelope.position, e.envelope.event_id) for e in self.client.read_log()
                if stream_matches(e.envelope.stream_id, [PREFIX])]

    def test_server_replay_resumes_exactly_once(self):
        try:
            list(self.client.replay(from_position=1, unit_prefixes=[PREFIX],
                                    mode="server").batches())
        except LedgerError as error:
            skip_if_unimplemented(error, "AuditService.Replay")
            raise
        held = self.run_scenario("server")
        self.assertFalse(any("35.080/" in eid or "35.09" in eid for _, eid in held))


if __name__ == "__main__":
    unittest.main()
