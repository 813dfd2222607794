"""Interop tests: the real `brook` binary driven by real Kafka clients.

Each test gets its own broker on 127.0.0.1 with an ephemeral port and a temporary data
directory; the broker is stopped (SIGTERM, then SIGKILL after a deadline) when the test ends.
"""
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"listening on PLAINTEXT://([0-9.]+):(\d+)")


def brook_binary() -> Path:
    configured = os.environ.get("BROOK_BINARY")
    if configured:
        return Path(configured)
    for candidate in (ROOT / ".build" / "debug" / "brook", ROOT / ".build" / "release" / "brook"):
        if candidate.exists():
            return candidate
    raise RuntimeError("brook is not built: run `swift build` first")


class BrokerProcess:
    """A running `brook server`, with helpers to restart or kill it."""

    # The brokers made during the running test, whose output a failure report shows.
    made_in_test: list["BrokerProcess"] = []

    def __init__(self, data_dir: Path, overrides: list[str]):
        BrokerProcess.made_in_test.append(self)
        self.data_dir = data_dir
        self.overrides = overrides
        self.process: subprocess.Popen | None = None
        self.port: int | None = None
        self.output: list[str] = []

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        port = self.port or 0
        args = [
            str(brook_binary()), "server",
            "--override", f"listeners=PLAINTEXT://127.0.0.1:{port}",
            "--override", f"log.dirs={self.data_dir}",
        ]
        for override in self.overrides:
            args += ["--override", override]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"brook exited before listening: {''.join(self.output)}")
            self.output.append(line)
            match = LISTENING.search(line)
            if match:
                self.port = int(match.group(2))
                # Keep draining the output so a chatty broker never blocks on a full pipe.
                self._reader = threading.Thread(target=self._collect, args=(self.process,), daemon=True)
                self._reader.start()
                return
        raise RuntimeError(f"brook did not report its port within {timeout}s: {''.join(self.output)}")

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait; returns the exit status."""
        if self.process is None:
            return 0
        self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            status = self.process.wait()
        self._drain()
        self.process = None
        return status

    def kill(self) -> None:
        """SIGKILL: an unclean stop."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self._drain()
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _collect(self, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.output.append(line)

    def _drain(self) -> None:
        """Waits until the output of the stopped process has been collected."""
        reader = getattr(self, "_reader", None)
        if reader is not None:
            reader.join(timeout=10)
            self._reader = None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.brook_call_failed = report.failed


@pytest.fixture(autouse=True)
def broker_output_on_failure(request):
    """When a test fails, prints the end of each of its brokers' output (shown with the failure)."""
    BrokerProcess.made_in_test = []
    yield
    if getattr(request.node, "brook_call_failed", False):
        for index, made in enumerate(BrokerProcess.made_in_test):
            tail = made.output[-BROKER_OUTPUT_LINES:]
            print(f"--- broker {index} ({made.data_dir}), last {len(tail)} lines of output ---")
            print("".join(tail), end="")
    BrokerProcess.made_in_test = []


BROKER_OUTPUT_LINES = 60


@pytest.fixture
def broker_factory():
    brokers: list[BrokerProcess] = []
    directories: list[tempfile.TemporaryDirectory] = []

    def make(*overrides: str) -> BrokerProcess:
        directory = tempfile.TemporaryDirectory(prefix="brook-interop-")
        directories.append(directory)
        broker = BrokerProcess(Path(directory.name), list(overrides))
        broker.start()
        brokers.append(broker)
        return broker

    yield make
    for broker in brokers:
        if broker.is_running():
            broker.stop()
    for directory in directories:
        directory.cleanup()


@pytest.fixture
def broker(broker_factory) -> BrokerProcess:
    return broker_factory()


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05, message: str = "condition"):
    """Polls `predicate` until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(interval)
