"""Run a command that serves MediaNest (`medianest serve`, `scripts/start`) as an operator does."""

from __future__ import annotations

import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass
class Served:
    url: str
    output: str = ""
    returncode: int | None = None


@contextmanager
def serving(
    command: Sequence[str | Path],
    *,
    port: int,
    env: Mapping[str, str],
    within: float = 30,
) -> Iterator[Served]:
    """Run `command` until it says it listens on 127.0.0.1:`port` and answers /health there
    (failing with its output if it exits first, or after `within` seconds); stopped with SIGTERM
    afterwards, its console output then in `output`.

    Its own "running on" line is waited for, not only an answer on the port: on a busy machine
    another test's server can take a free port first, and would answer /health in its place."""
    with tempfile.TemporaryFile() as console:
        proc = subprocess.Popen(
            [str(part) for part in command], env=dict(env), stdout=console, stderr=console
        )
        served = Served(f"http://127.0.0.1:{port}")
        listening = f"running on {served.url}".encode()

        def said() -> bytes:
            console.seek(0)
            return console.read()

        try:
            deadline = time.monotonic() + within
            while True:
                if listening in said():
                    try:
                        httpx.get(f"{served.url}/health", timeout=1)
                        break
                    except httpx.TransportError:
                        pass
                assert proc.poll() is None, said().decode(errors="replace")
                assert time.monotonic() < deadline, f"no answer on /health within {within} s"
                time.sleep(0.2)
            yield served
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
            finally:
                served.output = said().decode(errors="replace")
                served.returncode = proc.returncode
