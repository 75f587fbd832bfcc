"""What MediaNest's own HTTP stack costs, against a bare FastAPI app on the same uvicorn settings.

    .venv/bin/python bench/http_overhead.py [--duration 10] [--connections 32] [--threads 2]
                                            [--rounds 2]

Both apps (`bench/apps.py`) run as one uvicorn worker process each, one at a time, on a free port
of 127.0.0.1, driven by `wrk`; every step has a timeout, so a run always ends. Each round starts
both in turn (the order alternates from round to round), warms them up and measures `GET /health`
and `GET /api/v1/bench/cached` (on the bare app also `GET /health-plain`, a plain Starlette route
like MediaNest's own /health). Figures are only comparable within one run on one machine: it
prints ratios, never asserts on timings.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from apps import CACHED_PATH, PLAIN_HEALTH_PATH
from medianest.config import load_settings
from medianest.core.migrate import upgrade

BENCH_DIR = Path(__file__).resolve().parent
HOST = "127.0.0.1"
ENDPOINTS = {"/health": "/health", "cached": CACHED_PATH}
# Measured on the bare server only: /health served the way MediaNest serves its own.
BARE_ONLY = {"plain": PLAIN_HEALTH_PATH}
SERVERS = {"bare": "apps:bare_app", "medianest": "apps:medianest_app"}
WARMUP_SECONDS = 2
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
HTTP_TIMEOUT = 5.0
WRK_GRACE = 30  # seconds wrk may overrun its -d before it is killed
TARGET_OVERHEAD = 15.0  # percent of bare /health throughput MediaNest may cost
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


@dataclass(frozen=True)
class Result:
    rps: float
    p50_ms: float
    p99_ms: float


class BenchError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def get_status(port: int, path: str) -> int:
    conn = http.client.HTTPConnection(HOST, port, timeout=HTTP_TIMEOUT)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def server_env(data_dir: Path) -> dict[str, str]:
    """This environment without MEDIANEST_* settings (so no Redis, CORS, proxies leak in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIANEST_")}
    env["MEDIANEST_DATA_DIR"] = str(data_dir)
    return env


@contextmanager
def running(name: str, args: argparse.Namespace, workdir: Path) -> Iterator[int]:
    """Start one server (uvicorn, one worker), wait until /health answers, stop it on exit."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", SERVERS[name], "--factory", "--app-dir", str(BENCH_DIR),
        "--host", HOST, "--port", str(port), "--workers", "1", "--loop", args.loop,
        "--http", args.http, "--log-level", "warning", "--no-access-log",
        "--no-server-header",  # as `medianest serve` runs
    ]  # fmt: skip
    log_path = workdir / f"{name}.log"
    with log_path.open("ab") as log:
        # cwd is the temp dir, so no `.env` of the checkout is read by the server.
        proc = subprocess.Popen(
            command, cwd=workdir, env=server_env(workdir / "data"), stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                log_tail = log_path.read_text(errors="replace").splitlines()[-20:]
                raise BenchError(f"{name} exited with {proc.returncode}:\n" + "\n".join(log_tail))
            try:
                if get_status(port, "/health") == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise BenchError(f"{name} did not answer within {START_TIMEOUT:.0f} s")
            time.sleep(0.1)
        yield port
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def parse_wrk(output: str) -> Result:
    """Requests/s and the 50th/99th percentiles of wrk's `--latency` distribution."""
    if "Non-2xx or 3xx responses" in output:
        raise BenchError(f"wrk saw error responses:\n{output}")
    errors = re.search(r"Socket errors: (.*)", output)
    if errors:
        raise BenchError(f"wrk saw socket errors ({errors.group(1)}):\n{output}")
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    # "    99%   12.34ms": wrk picks the unit (us, ms, s, m, h) per value.
    p50, p99 = (re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.M) for p in (50, 99))
    if not (rps and p50 and p99):
        raise BenchError(f"cannot read wrk's output:\n{output}")
    p50_ms, p99_ms = (float(m.group(1)) * _UNITS[m.group(2)] for m in (p50, p99))
    return Result(float(rps.group(1)), p50_ms, p99_ms)


def wrk(port: int, path: str, seconds: int, args: argparse.Namespace) -> Result:
    url = f"http://{HOST}:{port}{path}"
    command = [args.wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s"]
    timeout = seconds + WRK_GRACE
    done = subprocess.run(
        [*command, "--latency", url], capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}) on {url}:\n{done.stderr}")
    return parse_wrk(done.stdout)


def measure(name: str, args: argparse.Namespace, workdir: Path) -> dict[str, Result]:
    endpoints = ENDPOINTS | BARE_ONLY if name == "bare" else ENDPOINTS
    with running(name, args, workdir) as port:
        for path in endpoints.values():
            status = get_status(port, path)
            if status != 200:
                raise BenchError(f"{name}: GET {path} answered {status}, not 200")
        for path in endpoints.values():
            wrk(port, path, WARMUP_SECONDS, args)
        return {label: wrk(port, path, args.duration, args) for label, path in endpoints.items()}


def best(results: list[Result]) -> Result:
    # The best round, not the median: on a shared 2-core machine noise (another process, a
    # scheduler hiccup) only ever slows a round down, so the fastest round is the closest to
    # what the server can do, and both servers get the same number of tries. Its latencies go
    # with it. Every round is printed too, so the spread stays visible.
    return max(results, key=lambda r: r.rps)


def report(rounds: dict[str, list[dict[str, Result]]]) -> None:
    rows = [(label, name) for label in ENDPOINTS for name in SERVERS]
    rows += [(label, "bare") for label in BARE_ONLY]
    paths = ENDPOINTS | BARE_ONLY
    print(f"\n{'endpoint':<24} {'server':<10} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    got: dict[tuple[str, str], Result] = {}
    for label, name in rows:
        r = got[label, name] = best([run[label] for run in rounds[name]])
        endpoint = f"GET {paths[label]}"
        print(f"{endpoint:<24} {name:<10} {r.rps:>9.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f}")
    ratio = {label: got[label, "medianest"].rps / got[label, "bare"].rps for label in ENDPOINTS}
    health, cached = ratio["/health"], ratio["cached"]
    print(f"ratio medianest/bare (req/s): /health {health:.2f}x  cached: {cached:.2f}x")
    print(
        f"MediaNest middleware cost on /health: {(1 - health) * 100:.1f}% of bare "
        f"throughput (target: at most {TARGET_OVERHEAD:.0f}%)"
    )
    # MediaNest's /health is a plain Starlette route, cheaper than the bare app's FastAPI route,
    # which hides part of the middleware's cost above; the same kind of route shows all of it.
    like = 1 - got["/health", "medianest"].rps / got["plain", "bare"].rps
    print(f"  like for like, against the bare {PLAIN_HEALTH_PATH} (plain route): {like * 100:.1f}%")


def cpu_idle() -> float:
    """Percent of CPU time idle over one second (100 where /proc/stat cannot be read)."""

    def jiffies() -> tuple[int, int]:  # (idle + iowait, total) from the "cpu" line
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:8]]
        return fields[3] + fields[4], sum(fields)

    try:
        before = jiffies()
        time.sleep(1)
        after = jiffies()
    except (OSError, ValueError):
        return 100.0
    return 100.0 * (after[0] - before[0]) / max(1, after[1] - before[1])


def run(args: argparse.Namespace) -> None:
    measurements = args.rounds * (len(SERVERS) * len(ENDPOINTS) + len(BARE_ONLY))
    print(
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, {args.rounds} round(s), "
        f"uvicorn --loop {args.loop} --http {args.http}; about "
        f"{measurements * (WARMUP_SECONDS + args.duration + 1):.0f} s",
        flush=True,
    )
    idle = cpu_idle()
    if idle < 80:
        print(f"warning: the CPUs are only {idle:.0f}% idle; other work will skew the figures")
    with tempfile.TemporaryDirectory(prefix="medianest-bench-") as tmp:
        workdir = Path(tmp)
        data_dir = workdir / "data"
        data_dir.mkdir()
        upgrade(load_settings(data_dir=data_dir, database_url=None).resolved_database_url)
        rounds: dict[str, list[dict[str, Result]]] = {name: [] for name in SERVERS}
        for i in range(args.rounds):
            order = list(SERVERS) if i % 2 == 0 else list(reversed(SERVERS))
            for name in order:
                results = measure(name, args, workdir)
                rounds[name].append(results)
                shown = "  ".join(f"{k} {v.rps:.0f} req/s" for k, v in results.items())
                print(f"round {i + 1}: {name:<10} {shown}", flush=True)
        report(rounds)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2, help="starts of each server")
    parser.add_argument("--loop", default="uvloop", choices=["asyncio", "uvloop"])
    parser.add_argument("--http", default="httptools", choices=["h11", "httptools"])
    parser.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    args = parser.parse_args()
    if not 1 <= args.duration <= 300 or not 1 <= args.rounds <= 10:
        parser.error("--duration must be 1-300 seconds and --rounds 1-10")
    if not 1 <= args.threads <= args.connections:
        parser.error("need 1 <= --threads <= --connections")
    return args


def _terminate(signum: int, _: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through `running`, which stops the server


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, _terminate)
    try:
        run(args)
    except BenchError as exc:
        print(f"\nbenchmark failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
