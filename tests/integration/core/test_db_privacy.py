"""What the database layer keeps to itself: no bound value in any log line or error at any log
level, and a SQLite file only the service's user can read."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa

from medianest.app import create_app
from medianest.auth.models import User
from medianest.core.db import Database, create_engine
from tests.conftest import SettingsFactory
from tests.factories.users import PASSWORD, make_user
from tests.integration.auth.conftest import csrf, sign_in
from tests.support.app import started


class TestNothingBoundIsLogged:
    async def test_a_password_change_at_debug_level_logs_no_hash(
        self,
        make_settings: SettingsFactory,
        database_url: str,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        await make_user(database_url, username="mum")
        app = create_app(make_settings(database_url=database_url, log_level="DEBUG"))
        async with started(app) as medianest, medianest.client() as http:
            signed_in = await sign_in(http, "mum", PASSWORD, rememberMe=True)
            changed = await http.post(
                "/api/v1/auth/change-password",
                json={"currentPassword": PASSWORD, "newPassword": "a-brand-new-passphrase-7"},
                headers=csrf(http),
            )
        output = capsys.readouterr().err

        assert signed_in.status_code == changed.status_code == 200
        assert "auth.login" in output
        # The new hash is a bound value of the write.
        assert "$argon2" not in output

    async def test_a_failed_statement_names_no_value(self, database_url: str) -> None:
        await make_user(database_url, username="twin")
        db = Database(database_url)
        try:
            with pytest.raises(sa.exc.IntegrityError) as failed:
                async with db.unit_of_work() as session:
                    session.add(
                        User(username="twin", username_key="twin", password_hash="$argon2id$x")
                    )
        finally:
            await db.close()

        assert "$argon2id$x" not in str(failed.value)
        assert "hidden" in str(failed.value)


class TestSqliteFile:
    async def test_a_new_database_file_is_private_to_the_service(self, tmp_path: Path) -> None:
        path = tmp_path / "data" / "medianest.db"
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            async with engine.begin() as connection:
                await connection.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        finally:
            await engine.dispose()

        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        for companion in path.parent.glob("medianest.db-*"):
            assert stat.S_IMODE(companion.stat().st_mode) & 0o077 == 0, companion.name

    async def test_a_file_left_readable_by_an_older_version_is_closed_off(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "medianest.db"
        path.touch()
        os.chmod(path, 0o644)

        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await engine.dispose()

        assert stat.S_IMODE(path.stat().st_mode) == 0o600
