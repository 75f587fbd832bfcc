"""A Redis server of the test's own, on a free port, that the test may kill and start again.

It keeps nothing on disk (`--save ''`, no append-only file), like many container set-ups: each
start is an empty Redis, as after a real restart. The machine's shared Redis is never touched.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.support.server import free_port

REDIS_SERVER = "/usr/bin/redis-server"


class PrivateRedis:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._workdir = workdir
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, *, within: float = 10) -> None:
        """Start an empty Redis on the port and wait until it answers PING."""
        assert self._proc is None, "already running"
        self._workdir.mkdir(parents=True, exist_ok=True)
        self._proc = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self._workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + within
        while True:
            client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
            try:
                client.ping()
                return
            except redis.ConnectionError:
                assert self._proc.poll() is None, "redis-server exited at start"
                assert time.monotonic() < deadline, f"redis-server silent after {within} s"
                time.sleep(0.05)
            finally:
                client.close()

    def kill(self) -> None:
        """Stop it as a crash would: SIGKILL, every connection dropped, every key gone."""
        assert self._proc is not None, "not running"
        self._proc.kill()
        self._proc.wait(timeout=10)
        self._proc = None

    def restart(self) -> None:
        """Kill it and start an empty one on the same port."""
        self.kill()
        self.start()

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=1)


@contextmanager
def private_redis(workdir: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(workdir)
    server.start()
    try:
        yield server
    finally:
        if server._proc is not None:
            server.kill()
