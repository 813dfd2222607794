"""Running the `brook` admin commands (topics, configs, cluster, delete-records) as a user would,
and checking how they fail: a non-zero exit status and one line on stderr, never a trace."""
import socket
import subprocess
import time
from contextlib import contextmanager

from conftest import brook_binary

TIMEOUT = 30


def brook(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Runs `brook ARGS...` and returns what it printed and its exit status."""
    return subprocess.run([str(brook_binary()), *args], capture_output=True, text=True, timeout=timeout)


def succeeded(result: subprocess.CompletedProcess) -> str:
    """Asserts `result` exited 0 with nothing on stderr; returns its stdout."""
    assert result.returncode == 0, f"exit {result.returncode}: {result.stdout}{result.stderr}"
    assert result.stderr == "", result.stderr
    return result.stdout


def failed_with(result: subprocess.CompletedProcess, *fragments: str, status: int = 1) -> str:
    """Asserts `result` exited with `status`, printed exactly one stderr line starting `Error: `
    that holds every fragment, and no trace; returns that line."""
    assert result.returncode == status, f"exit {result.returncode}: {result.stdout}{result.stderr}"
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    for trace in ("Fatal error", "Stack dump", "Backtrace", "Traceback"):
        assert trace not in result.stdout + result.stderr
    return lines[0]


def usage_error(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """Asserts `result` is the refusal of a malformed command line (an unknown flag, a missing
    or ill-typed value): exit status 64 and one stderr line; returns that line."""
    return failed_with(result, *fragments, status=64)


def closed_port() -> int:
    """A local port nothing listens on (bound then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def silent_listener():
    """A local port whose kernel accepts connections that nobody ever answers: the bootstrap
    server of a hung broker. Yields its host:port."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"127.0.0.1:{listener.getsockname()[1]}"


def timed(call):
    """Runs `call()`; returns its result and how many seconds it took."""
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started
