"""Test support: a real ledgerd child process on a temporary directory and a
free port, ledgerctl, and waiting for conditions (never sleeping blindly).

The paths come from the environment that ctest sets
(clients/python/CMakeLists.txt): LEDGERD, LEDGERCTL, LEDGER_SOURCE_DIR.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from typing import Callable, Optional

import grpc

from sakip_ledger import LedgerClient, LedgerError, connect

SOURCE_DIR = os.environ.get("LEDGER_SOURCE_DIR",
                            os.path.abspath(os.path.join(os.path.dirname(__file__), "../../..")))
REFERENCE_REPORT = os.path.join(SOURCE_DIR, "tests/data/klakah-tw2-2024.jsonl")
EXAMPLES_DIR = os.path.join(SOURCE_DIR, "clients/python/examples")


def require_env(name: str) -> str:
    value = os.environ.get(name)
    if not value or not os.path.exists(value):
        raise unittest.SkipTest(f"${name} does not name a built binary ({value!r}); run via ctest")
    return value


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str,
               interval_s: float = 0.01) -> None:
    """Polls ``predicate`` until it is true; AssertionError naming ``what``
    after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(interval_s)


class Ledgerd:
    """``ledgerd --data_dir=DIR --listen=127.0.0.1:0 --port_file=...`` as a child."""

    def __init__(self, work_dir: str, extra_flags: tuple = (), connect_kwargs: Optional[dict] = None):
        self.binary = require_env("LEDGERD")
        self.work_dir = work_dir
        self.data_dir = os.path.join(work_dir, "data")
        self.port_file = os.path.join(work_dir, "ledgerd.port")
        self.log_path = os.path.join(work_dir, "ledgerd.log")
        self.extra_flags = list(extra_flags)
        # How start() reaches the server to wait until it is ready: plaintext
        # by default; ``{"tls_ca": path}`` for a TLS ledgerd (see connect()).
        self.connect_kwargs = dict(connect_kwargs or {})
        self.process: Optional[subprocess.Popen] = None
        self.port = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30, port: int = 0) -> "Ledgerd":
        """Starts ledgerd on ``port`` (0: a free one, read from the port file)."""
        if os.path.exists(self.port_file):
            os.remove(self.port_file)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [self.binary, f"--data_dir={self.data_dir}", f"--listen=127.0.0.1:{port}",
             f"--port_file={self.port_file}", *self.extra_flags],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()

        def port_written() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"ledgerd exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                with open(self.port_file) as stream:
                    text = stream.read().strip()
            except FileNotFoundError:
                return False
            if text.isdigit() and int(text) > 0:
                self.port = int(text)
                return True
            return False

        wait_until(port_written, timeout_s, "ledgerd's port file")
        with connect(self.address, environ={}, **self.connect_kwargs) as client:
            client.wait_ready(timeout_s)
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown at all."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def stop(self, timeout_s: float = 30) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log_tail(self, size: int = 4000) -> str:
        try:
            with open(self.log_path, "rb") as stream:
                return stream.read()[-size:].decode("utf-8", "replace")
        except FileNotFoundError:
            return ""


def ledgerctl(address: str, *args: str, timeout_s: float = 60) -> subprocess.CompletedProcess:
    """Runs the built ledgerctl against ``address``; raises on a non-zero exit."""
    binary = require_env("LEDGERCTL")
    result = subprocess.run([binary, f"--server={address}", *args], capture_output=True,
                            text=True, timeout=timeout_s)
    if result.returncode != 0:
        raise AssertionError(f"ledgerctl {' '.join(args)} exited {result.returncode}:\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


class LedgerdTestCase(unittest.TestCase):
    """A fresh ledgerd on a temporary directory for the whole test class."""

    ledgerd_flags: tuple = ()

    @classmethod
    def setUpClass(cls) -> None:
        cls.work_dir = tempfile.mkdtemp(prefix="py-ledger-test-")
        cls.ledgerd = Ledgerd(cls.work_dir, cls.ledgerd_flags)
        try:
            cls.ledgerd.start()
        except BaseException:
            shutil.rmtree(cls.work_dir, ignore_errors=True)
            raise
        cls.client = LedgerClient(cls.ledgerd.address, timeout_s=20)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.client.close()
        cls.ledgerd.stop()
        if os.environ.get("KEEP_TEST_DIRS"):
            print(f"kept {cls.work_dir}", file=sys.stderr)
        else:
            shutil.rmtree(cls.work_dir, ignore_errors=True)


def skip_if_unimplemented(error: LedgerError, what: str) -> None:
    """Turns UNIMPLEMENTED (a service not landed on this server) into a skip."""
    if error.code == grpc.StatusCode.UNIMPLEMENTED:
        raise unittest.SkipTest(f"{what}: the server answers UNIMPLEMENTED ({error.message})")
