"""Plex sign-in follows the connection the administrator saved, in every process, at once; the
settings only seed the first one."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import select

from medianest.app import create_app
from medianest.connections.models import ServiceConnection
from medianest.core.db import Database
from tests.conftest import SettingsFactory
from tests.fakes.plex_server import FakePlexServer
from tests.fakes.plex_tv import FakePlexTv
from tests.integration.auth.conftest import finish_first_run
from tests.integration.connections.conftest import (
    CABIN_FRIEND,
    CABIN_OWNER,
    FRIEND,
    connect,
    settings_for,
)
from tests.support.app import Started, ok_data, started
from tests.support.plex import plex_sign_in


async def _rows(database_url: str) -> list[ServiceConnection]:
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            return list(await session.scalars(select(ServiceConnection)))
    finally:
        await db.close()


class TestSignInUsesTheSavedConnection:
    async def test_a_friend_shared_the_connected_server_can_sign_in(
        self, medianest: Started, admin: httpx.AsyncClient, plex: FakePlexTv, home: FakePlexServer
    ) -> None:
        async with medianest.client() as before:
            refused = await plex_sign_in(before, plex, FRIEND)
        assert (await connect(admin, home.url, home.owner_token)).status_code == 200
        async with medianest.client() as after:
            signed_in = await plex_sign_in(after, plex, FRIEND)

        assert refused.status_code == 403
        assert "not connected to a Plex server" in refused.json()["error"]["message"]
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.json()["data"]["user"]["username"] == "Grandpa Joe"

    async def test_saving_another_server_forgets_what_was_known_about_the_old_one(
        self,
        make_settings: SettingsFactory,
        database_url: str,
        plex: FakePlexTv,
        home: FakePlexServer,
        cabin: FakePlexServer,
    ) -> None:
        settings = settings_for(
            make_settings,
            database_url,
            plex,
            plex_url=home.url,
            plex_token=SecretStr(home.owner_token),
        )
        async with started(create_app(settings)) as medianest, medianest.client() as admin:
            await finish_first_run(admin)
            async with medianest.client() as http:
                # Reads Home's identity and owner, kept for ten minutes.
                home_friend = await plex_sign_in(http, plex, FRIEND)
            saved = await connect(admin, cabin.url, CABIN_OWNER)
            async with medianest.client() as http:
                home_friend_after = await plex_sign_in(http, plex, FRIEND)
            async with medianest.client() as http:
                cabin_friend = await plex_sign_in(http, plex, CABIN_FRIEND)
            status = ok_data(await admin.get("/api/v1/admin/services/plex"))

        assert home_friend.status_code == 200, home_friend.text
        assert saved.status_code == 200, saved.text
        assert home_friend_after.status_code == 403
        assert cabin_friend.status_code == 200, cabin_friend.text
        assert status["server"]["name"] == "Cabin"


class TestSeededFromSettings:
    async def test_the_settings_are_written_once_as_the_first_connection(
        self,
        make_settings: SettingsFactory,
        database_url: str,
        plex: FakePlexTv,
        home: FakePlexServer,
        cabin: FakePlexServer,
    ) -> None:
        def settings(server: FakePlexServer, token: str) -> Any:
            return settings_for(
                make_settings, database_url, plex, plex_url=server.url, plex_token=SecretStr(token)
            )

        async with started(create_app(settings(home, home.owner_token))) as medianest:
            async with medianest.client() as admin:
                await finish_first_run(admin)
                status = ok_data(await admin.get("/api/v1/admin/services/plex"))
            async with medianest.client() as http:
                friend = await plex_sign_in(http, plex, FRIEND)
        first = await _rows(database_url)
        # Started again with other settings: what is stored stays.
        async with (
            started(create_app(settings(cabin, CABIN_OWNER))) as medianest,
            medianest.client() as http,
        ):
            friend_again = await plex_sign_in(http, plex, FRIEND)
        second = await _rows(database_url)

        assert (status["url"], status["configured"], status["tokenSet"]) == (home.url, True, True)
        assert friend.status_code == 200, friend.text
        assert friend_again.status_code == 200, friend_again.text
        assert [(r.name, r.url, r.updated_by) for r in first] == [("plex", home.url, None)]
        assert first[0].token_encrypted is not None
        assert home.owner_token not in first[0].token_encrypted
        assert [(r.url, r.token_encrypted) for r in second] == [
            (home.url, first[0].token_encrypted)
        ]


class TestOtherProcesses:
    async def test_a_connection_saved_by_one_process_is_used_by_another_at_once(
        self,
        make_settings: SettingsFactory,
        database_url: str,
        redis_url: str,
        redis_prefix: str,
        plex: FakePlexTv,
        home: FakePlexServer,
        cabin: FakePlexServer,
    ) -> None:
        settings = settings_for(
            make_settings,
            database_url,
            plex,
            redis_url=redis_url,
            redis_prefix=redis_prefix,
            plex_url=home.url,
            plex_token=SecretStr(home.owner_token),
        )
        async with (
            started(create_app(settings)) as one,
            started(create_app(settings)) as two,
            one.client() as admin,
        ):
            await finish_first_run(admin)
            async with two.client() as http:
                # The second process reads and keeps Home as its connection.
                before = await plex_sign_in(http, plex, CABIN_FRIEND)
            assert (await connect(admin, cabin.url, CABIN_OWNER)).status_code == 200
            after = None
            for _ in range(50):
                async with two.client() as http:
                    after = await plex_sign_in(http, plex, CABIN_FRIEND)
                if after.status_code == 200:
                    break
                await asyncio.sleep(0.1)

        assert before.status_code == 403
        assert after is not None and after.status_code == 200, after and after.text
