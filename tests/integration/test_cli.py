"""The `medianest` command as an operator uses it."""

from __future__ import annotations

import json
import os
import signal
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from medianest.cli import app
from tests.support import process
from tests.support.process import Served
from tests.support.server import free_port

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"MEDIANEST_DATA_DIR": str(tmp_path / "data"), "MEDIANEST_LOG_LEVEL": "WARNING"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


class TestHelp:
    @pytest.mark.parametrize(
        "args",
        [
            [],
            ["serve"],
            ["worker"],
            ["db"],
            ["db", "upgrade"],
            ["db", "downgrade"],
            ["db", "current"],
            ["config", "show"],
            ["queue", "ping"],
        ],
    )
    def test_every_command_explains_itself(self, args: list[str]) -> None:
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0
        assert "Usage:" in result.output
        assert len(result.output.splitlines()) > 3


class TestSettingsErrors:
    def test_a_bad_value_stops_with_one_line(
        self, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("MEDIANEST_PORT", "http")
        result = runner.invoke(app, ["config", "show"])
        assert result.exit_code == 2
        assert result.output.strip() == (
            "Invalid setting MEDIANEST_PORT: Input should be a valid integer, "
            "unable to parse string as an integer (got 'http')"
        )


class TestConfigShow:
    def test_secrets_are_masked(self, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("MEDIANEST_METRICS_TOKEN", "very-secret-scrape-token")
        monkeypatch.setenv(
            "MEDIANEST_DATABASE_URL", "postgresql+asyncpg://mn:pa55word@db/medianest"
        )
        result = runner.invoke(app, ["config", "show"])
        assert result.exit_code == 0, result.output
        out = result.output
        assert "very-secret-scrape-token" not in out and "pa55word" not in out
        assert "MEDIANEST_METRICS_TOKEN=********" in out
        assert "MEDIANEST_DATABASE_URL=postgresql+asyncpg://mn:********@db/medianest" in out
        assert "MEDIANEST_SECRET_KEY=******** (generated" in out
        secrets = json.loads((Path(env["MEDIANEST_DATA_DIR"]) / "secrets.json").read_text())
        assert secrets["secret_key"] not in out


class TestDatabaseCommands:
    def test_upgrade_current_downgrade(self, env: dict[str, str]) -> None:
        empty = runner.invoke(app, ["db", "current"])
        assert "base (empty database)" in empty.output
        upgraded = runner.invoke(app, ["db", "upgrade"])
        assert upgraded.exit_code == 0, upgraded.output
        current = runner.invoke(app, ["db", "current"])
        assert current.output.strip().endswith("up to date")
        assert runner.invoke(app, ["db", "check"]).exit_code == 0
        down = runner.invoke(app, ["db", "downgrade", "base"])
        assert down.exit_code == 0
        assert "Database is at base." in down.output

    def test_an_unreachable_database_is_explained(
        self, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv(
            "MEDIANEST_DATABASE_URL", f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/x"
        )
        result = runner.invoke(app, ["db", "upgrade"])
        assert result.exit_code == 1
        assert result.output.startswith("Could not migrate the database:")


class TestWorker:
    def test_needs_redis(self, env: dict[str, str]) -> None:
        result = runner.invoke(app, ["worker"])
        assert result.exit_code == 2
        assert "MEDIANEST_REDIS_URL" in result.output

    def test_several_web_workers_need_redis(self, env: dict[str, str]) -> None:
        result = runner.invoke(app, ["serve", "--workers", "2"])
        assert result.exit_code == 2
        assert "need Redis" in result.output


class TestQueuePing:
    def test_embedded_ping_runs_in_process(self, env: dict[str, str]) -> None:
        runner.invoke(app, ["db", "upgrade"])
        result = runner.invoke(app, ["queue", "ping", "--timeout", "10"])
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("The test job ran on ")


@contextmanager
def serving(data: Path, **env: str) -> Iterator[Served]:
    """`medianest serve` on 127.0.0.1 with `data` as its data dir."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "medianest",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    environ = {**os.environ, "MEDIANEST_DATA_DIR": str(data), **env}
    with process.serving(command, port=port, env=environ) as served:
        yield served


@pytest.mark.slow
class TestServe:
    def test_fresh_data_dir_to_a_running_portal_and_a_clean_stop(self, tmp_path: Path) -> None:
        data = tmp_path / "fresh"
        with serving(data) as served:
            health = httpx.get(f"{served.url}/health", timeout=5)
            ready = httpx.get(f"{served.url}/health/ready", timeout=5)
            docs = httpx.get(f"{served.url}/api/docs", timeout=5)
        output = served.output
        assert health.json()["status"] == "ok"
        assert ready.status_code == 200, ready.text
        assert docs.status_code == 200
        # uvicorn shuts down gracefully, then re-raises the signal it caught, as a server should.
        assert served.returncode in (0, -signal.SIGTERM), output
        assert "Application shutdown complete." in output
        assert stat.S_IMODE((data / "secrets.json").stat().st_mode) == 0o600
        assert (data / "medianest.db").exists()
        lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
        assert any(line["event"] == "platform.started" for line in lines), output


@pytest.mark.slow
class TestFirstStart:
    def test_the_first_start_says_where_to_go_and_a_later_one_does_not(
        self, tmp_path: Path
    ) -> None:
        data = tmp_path / "fresh"
        with serving(data) as first:
            pass
        with serving(data) as second:
            pass
        welcome = f"Welcome to MediaNest! Open {first.url} in your browser."
        assert first.output.count(welcome) == 1, first.output
        assert (
            "Sign in as admin / admin; MediaNest then asks you for a new password right away."
            in first.output
        )
        events = [json.loads(line) for line in first.output.splitlines() if line.startswith("{")]
        assert [e["url"] for e in events if e["event"] == "auth.welcome"] == [first.url]
        assert "Welcome to MediaNest" not in second.output, second.output
        assert "admin / admin" not in second.output
        assert "Application startup complete." in second.output

    def test_it_names_the_public_url_when_there_is_one(self, tmp_path: Path) -> None:
        with serving(tmp_path / "fresh", MEDIANEST_PUBLIC_URL="https://media.example.org/") as s:
            pass
        assert "Open https://media.example.org in your browser." in s.output, s.output


class TestKeys:
    def test_rotate_reseals_stored_secrets_and_keeps_them_readable(
        self, env: dict[str, str]
    ) -> None:
        import asyncio

        from sqlalchemy import select

        from medianest.auth.models import User
        from medianest.config import load_settings
        from medianest.core.db import Database
        from medianest.core.secret_file import with_secrets
        from medianest.core.security import EncryptionService

        assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
        before = with_secrets(load_settings())
        sealed = EncryptionService(before.encryption_keys).encrypt("owner-plex-token")
        db_url = before.resolved_database_url

        async def store() -> None:
            db = Database(db_url)
            async with db.unit_of_work() as session:
                session.add(User(username="o", username_key="o", plex_token_encrypted=sealed))
            await db.close()

        async def read() -> str:
            db = Database(db_url)
            async with db.sessionmaker() as session:
                value = (await session.scalars(select(User.plex_token_encrypted))).one()
                assert value is not None
            await db.close()
            return value

        asyncio.run(store())
        result = runner.invoke(app, ["keys", "rotate"])
        assert result.exit_code == 0, result.output
        assert "1 stored secrets re-sealed" in result.output
        after = with_secrets(load_settings())
        stored = asyncio.run(read())
        assert stored != sealed
        assert after.encryption_keys[0] != before.encryption_keys[0]
        assert EncryptionService(after.encryption_keys[:1]).decrypt(stored) == "owner-plex-token"

    def test_rotate_refuses_a_key_from_the_environment(
        self, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("MEDIANEST_ENCRYPTION_KEY", "q" * 43 + "=")
        result = runner.invoke(app, ["keys", "rotate"])
        assert result.exit_code == 2
        assert "MEDIANEST_ENCRYPTION_OLD_KEYS" in result.output

    def test_generate_prints_a_usable_key(self) -> None:
        from medianest.config import decode_key

        result = runner.invoke(app, ["keys", "generate"])
        assert len(decode_key(result.stdout.strip())) == 32
