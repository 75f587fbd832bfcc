"""What signing in and being signed in cost.

    .venv/bin/python bench/auth.py [--logins 60] [--duration 10] [--rounds 2]

In one run, against one MediaNest (embedded default, one uvicorn worker) and a fake plex.tv and
Plex server on 127.0.0.1: p50/p99 of a password login and of a Plex PIN verify, each timed one at
a time from this process, then requests/s (wrk) of an authenticated `GET /api/v1/auth/session`
next to `GET /health`, with the ratio. Targets: login p99 under 300 ms, and an authenticated
request costing at most 15% more than /health. Figures, never assertions.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.fakes

from tests.fakes.plex_server import FakePlexServer
from tests.fakes.plex_tv import FakePlexTv

from http_overhead import BenchError, free_port, get_status, parse_wrk
from medianest.config import load_settings
from medianest.core.migrate import upgrade

HOST = "127.0.0.1"
BENCH_DIR = Path(__file__).resolve().parent
PASSWORD = "benchmark-owner-passphrase"
FRIEND_TOKEN = "bench-friend-token"
# Never refused during a run, yet paid for as in production. A moving window keeps one entry per
# hit for the length of the window, so a per-minute allowance this large would grow to every request
# of the last minute (a cost no real allowance has); a one-second window keeps at most one second's.
UNLIMITED = "1000000/second"
SERVER_PIDS: dict[str, int] = {}
"""The process id of each MediaNest `medianest_with` runs, by its address."""


@contextmanager
def medianest(workdir: Path, plex_tv: FakePlexTv, server: FakePlexServer) -> Iterator[str]:
    env = {
        "MEDIANEST_PLEX_TV_URL": plex_tv.url,
        "MEDIANEST_PLEX_APP_URL": plex_tv.url,
        "MEDIANEST_PLEX_URL": server.url,
        "MEDIANEST_PLEX_TOKEN": server.owner_token,
    }
    with medianest_with(workdir, env) as base:
        yield base


@contextmanager
def medianest_with(
    workdir: Path, settings: dict[str, str], app: str = "auth_app:app"
) -> Iterator[str]:
    """MediaNest under uvicorn on a free port, its data in `workdir`, with these settings;
    `app` is the `uvicorn --factory` entry point in bench/."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIANEST_")}
    env.update(
        MEDIANEST_DATA_DIR=str(workdir / "data"),
        MEDIANEST_LOG_LEVEL="WARNING",
        MEDIANEST_RATE_LIMIT_API=UNLIMITED,
        MEDIANEST_RATE_LIMIT_LOGIN=UNLIMITED,
        **settings,
    )
    command = [
        sys.executable, "-m", "uvicorn", app, "--factory", "--app-dir", str(BENCH_DIR),
        "--host", HOST, "--port", str(port), "--workers", "1", "--loop", "uvloop",
        "--http", "httptools", "--log-level", "warning", "--no-access-log", "--no-server-header",
    ]  # fmt: skip
    log_path = workdir / "medianest.log"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise BenchError(f"MediaNest exited with {proc.returncode}:\n{tail(log_path)}")
            try:
                if get_status(port, "/health") == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise BenchError("MediaNest did not answer within 30 s")
            time.sleep(0.1)
        base = f"http://{HOST}:{port}"
        SERVER_PIDS[base] = proc.pid
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used so far (Linux). A figure that the rest of
    the machine's load barely moves, unlike the wall clock."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[98]


def first_run(base: str) -> str:
    """Change the first admin's password; returns a bearer token of a signed-in session."""
    with httpx.Client(base_url=base, timeout=10) as http:
        http.post("/api/v1/auth/login", json={"username": "admin", "password": "admin"})
        csrf = {"X-CSRF-Token": http.cookies.get("csrf_token") or ""}
        changed = http.post(
            "/api/v1/auth/change-password",
            json={"currentPassword": "admin", "newPassword": PASSWORD},
            headers=csrf,
        )
        if changed.status_code != 200:
            raise BenchError(f"first-run password change failed: {changed.text}")
        login = http.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
        return str(login.json()["data"]["token"])


def time_logins(base: str, count: int) -> list[float]:
    samples = []
    with httpx.Client(base_url=base, timeout=10) as http:
        for _ in range(count):
            started = time.perf_counter()
            response = http.post(
                "/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}
            )
            samples.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise BenchError(f"login answered {response.status_code}: {response.text}")
    return samples


def time_plex_verifies(base: str, plex_tv: FakePlexTv, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        with httpx.Client(base_url=base, timeout=10) as http:
            pin = http.post("/api/v1/auth/plex/pin", json={}).json()["data"]
            plex_tv.approve(pin["id"], FRIEND_TOKEN)
            started = time.perf_counter()
            response = http.post("/api/v1/auth/plex/verify", json={"pinId": pin["id"]})
            samples.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise BenchError(f"Plex verify answered {response.status_code}: {response.text}")
    return samples


def wrk(url: str, seconds: int, headers: list[str]) -> tuple[float, float, float]:
    command = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    done = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=seconds + 30, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"wrk failed on {url}: {done.stderr}")
    result = parse_wrk(done.stdout)
    return result.rps, result.p50_ms, result.p99_ms


def run(args: argparse.Namespace) -> None:
    plex_tv, server = FakePlexTv().start(), FakePlexServer().start()
    plex_tv.add_account(server.owner_token, id=1, username="owner")
    plex_tv.add_account(FRIEND_TOKEN, id=2, username="friend", email="friend@example.com")
    plex_tv.share(server.owner_token, 2, server.machine_identifier)
    try:
        with tempfile.TemporaryDirectory(prefix="medianest-bench-auth-") as tmp:
            workdir = Path(tmp)
            (workdir / "data").mkdir()
            upgrade(load_settings(data_dir=workdir / "data").resolved_database_url)
            with medianest(workdir, plex_tv, server) as base:
                token = first_run(base)
                time_logins(base, 3)  # warm-up: first argon2 and SQLite pages
                logins = time_logins(base, args.logins)
                verifies = time_plex_verifies(base, plex_tv, args.logins)
                auth = [f"Authorization: Bearer {token}"]
                session_url = f"{base}/api/v1/auth/session"
                if get_status(int(base.rsplit(":", 1)[1]), "/health") != 200:
                    raise BenchError("/health did not answer 200")
                wrk(f"{base}/health", 2, [])
                wrk(session_url, 2, auth)
                health, session = [], []
                for _ in range(args.rounds):
                    health.append(wrk(f"{base}/health", args.duration, []))
                    session.append(wrk(session_url, args.duration, auth))
    finally:
        plex_tv.stop()
        server.stop()
    for label, samples in (("password login", logins), ("Plex PIN verify", verifies)):
        p50, p99 = percentiles(samples)
        print(f"{label:<18} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   ({len(samples)} one at a time)")
    best_health, best_session = max(health), max(session)
    print(f"\n{'endpoint':<30} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for label, (rps, p50, p99) in (
        ("GET /health", best_health),
        ("GET /api/v1/auth/session", best_session),
    ):
        print(f"{label:<30} {rps:>9.0f} {p50:>8.2f} {p99:>8.2f}")
    extra = (best_health[0] / best_session[0] - 1) * 100
    print(
        f"an authenticated request costs {extra:.1f}% more than /health (target: at most 15%); "
        f"login p99 {percentiles(logins)[1]:.0f} ms (target: under 300 ms)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=60, help="timed logins and Plex verifies")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk measurement")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if not 5 <= args.logins <= 1000 or not 1 <= args.duration <= 300:
        parser.error("--logins must be 5-1000 and --duration 1-300")
    try:
        run(args)
    except BenchError as exc:
        print(f"\nbenchmark failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
