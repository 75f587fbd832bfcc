"""Run a command that serves MediaNest (`medianest serve`, `scripts/start`) as an operator does."""

from __future__ import annotations

import signal
import subprocess
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
    """Run `command` until it answers /health on 127.0.0.1:`port` (failing with its output if
    it exits first, or after `within` seconds); stopped with SIGTERM afterwards, its console
    output then in `output`."""
    proc = subprocess.Popen(
        [str(part) for part in command],
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    served = Served(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + within
        while True:
            try:
                httpx.get(f"{served.url}/health", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
                assert time.monotonic() < deadline, f"no answer on /health within {within} s"
                time.sleep(0.2)
        yield served
    finally:
        proc.send_signal(signal.SIGTERM)
        served.output = proc.communicate(timeout=20)[0].decode()
        served.returncode = proc.returncode
