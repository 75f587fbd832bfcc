"""The administrator's alert channels (`/api/v1/admin/notifications/channels`), on both
databases, sending through Apprise to a local receiver that stands in for a JSON webhook
(`json://`) and an ntfy server (`ntfy://`): saved sealed and shown masked, tried with the Test
button, and sent each alert once per event, however many administrators are told."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from medianest.app import create_app
from medianest.auth.models import Role
from medianest.core.db import Database
from medianest.notifications.models import AlertChannel
from tests.conftest import SettingsFactory
from tests.factories.users import make_user
from tests.fakes.alerts import AlertReceiver, alert_receiver
from tests.integration.auth.conftest import csrf, finish_first_run
from tests.integration.notifications.conftest import signed_in, tell
from tests.support.app import Started, ok_data, started

CHANNELS = "/api/v1/admin/notifications/channels"
SECRET = "s3cretWebhookToken"


@pytest.fixture
def receiver() -> Iterator[AlertReceiver]:
    with alert_receiver() as running:
        yield running


def _webhook(receiver: AlertReceiver) -> str:
    return f"json://{receiver.url.removeprefix('http://')}/hooks/{SECRET}"


def _ntfy(receiver: AlertReceiver) -> str:
    return f"ntfy://{receiver.url.removeprefix('http://')}/medianest-alerts"


async def _save(http: httpx.AsyncClient, channels: list[dict[str, Any]]) -> httpx.Response:
    return await http.put(CHANNELS, json={"channels": channels}, headers=csrf(http))


async def _both(http: httpx.AsyncClient, receiver: AlertReceiver) -> list[dict[str, Any]]:
    """A webhook for services going down and up, ntfy for announcements and outages."""
    saved = await _save(
        http,
        [
            {"name": "Webhook", "url": _webhook(receiver), "types": ["service.down", "service.up"]},
            {"url": _ntfy(receiver), "types": ["broadcast", "service.down"]},
        ],
    )
    assert saved.status_code == 200, saved.text
    channels: list[dict[str, Any]] = ok_data(saved)["channels"]
    return channels


async def _stored(database_url: str) -> list[AlertChannel]:
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            return list(await session.scalars(select(AlertChannel)))
    finally:
        await db.close()


def _to(receiver: AlertReceiver, path: str) -> list[dict[str, Any]]:
    return [posted.body for posted in receiver.posted if posted.path == path]


class TestSaving:
    async def test_saved_sealed_and_never_shown_in_full(
        self, admin: httpx.AsyncClient, database_url: str, receiver: AlertReceiver
    ) -> None:
        channels = await _both(admin, receiver)
        listed = await admin.get(CHANNELS)
        assert [(c["name"], c["service"], c["types"]) for c in channels] == [
            ("Webhook", "JSON", ["service.down", "service.up"]),
            ("ntfy", "ntfy", ["service.down", "broadcast"]),
        ]
        assert ok_data(listed)["channels"] == channels
        assert ok_data(listed)["types"] == ["service.down", "service.up", "broadcast"]
        assert channels[0]["url"].startswith(f"json://{receiver.url.removeprefix('http://')}/")
        assert SECRET not in listed.text
        stored = await _stored(database_url)
        assert all(row.url_encrypted.startswith("v1.") for row in stored)
        assert all(SECRET not in row.url_encrypted for row in stored)

    async def test_a_saved_channel_keeps_its_address_when_renamed_and_one_left_out_goes(
        self, admin: httpx.AsyncClient, database_url: str, receiver: AlertReceiver
    ) -> None:
        webhook, _ = await _both(admin, receiver)
        renamed = await _save(
            admin, [{"id": webhook["id"], "name": "Family server", "types": ["service.up"]}]
        )
        (kept,) = ok_data(renamed)["channels"]
        tried = await admin.post(f"{CHANNELS}/test", json={"id": kept["id"]}, headers=csrf(admin))
        assert (kept["id"], kept["name"], kept["url"]) == (
            webhook["id"],
            "Family server",
            webhook["url"],
        )
        assert kept["types"] == ["service.up"]
        assert len(await _stored(database_url)) == 1
        assert ok_data(tried) == {"ok": True, "error": None}
        assert len(_to(receiver, f"/hooks/{SECRET}")) == 1

    @pytest.mark.parametrize(
        ("channel", "field"),
        [
            ({"url": "not an address", "types": ["broadcast"]}, "channels.0.url"),
            ({"url": "nonsense://somewhere", "types": ["broadcast"]}, "channels.0.url"),
            ({"types": ["broadcast"]}, "channels.0.url"),
            ({"url": "json://127.0.0.1/x", "types": ["request.status"]}, "channels.0.types.0"),
            ({"url": "json://127.0.0.1/x", "types": "broadcast"}, "channels.0.types"),
        ],
    )
    async def test_a_channel_apprise_cannot_send_to_is_refused(
        self, channel: dict[str, Any], field: str, admin: httpx.AsyncClient, database_url: str
    ) -> None:
        answer = await _save(admin, [channel])
        error = answer.json()["error"]
        assert answer.status_code == 400
        assert error["code"] == "VALIDATION_ERROR"
        assert [d["field"] for d in error["details"]] == [field]
        assert await _stored(database_url) == []

    async def test_an_id_that_is_not_saved_is_not_found(self, admin: httpx.AsyncClient) -> None:
        answer = await _save(
            admin, [{"id": "7b0e4f1c-0000-4000-8000-000000000000", "types": ["broadcast"]}]
        )
        assert answer.status_code == 404

    async def test_members_are_kept_out(self, medianest: Started, database_url: str) -> None:
        async with signed_in(medianest, database_url, "ann") as (http, _):
            answers = [
                await http.get(CHANNELS),
                await _save(http, []),
                await http.post(f"{CHANNELS}/test", json={"url": "json://x/"}, headers=csrf(http)),
            ]
        assert [a.status_code for a in answers] == [403, 403, 403]


class TestTestButton:
    async def test_a_url_not_saved_yet_gets_the_test_message(
        self, admin: httpx.AsyncClient, receiver: AlertReceiver
    ) -> None:
        answer = await admin.post(
            f"{CHANNELS}/test", json={"url": _ntfy(receiver)}, headers=csrf(admin)
        )
        assert ok_data(answer) == {"ok": True, "error": None}
        (posted,) = receiver.posted
        assert posted.body["topic"] == "medianest-alerts"
        assert posted.body["title"] == "MediaNest test alert"
        assert "reach this channel" in posted.body["message"]

    async def test_a_channel_that_fails_says_so_in_words(
        self, admin: httpx.AsyncClient, receiver: AlertReceiver
    ) -> None:
        receiver.fail(500)
        answer = await admin.post(
            f"{CHANNELS}/test", json={"url": _webhook(receiver)}, headers=csrf(admin)
        )
        result = ok_data(answer)
        assert result["ok"] is False
        assert result["error"].startswith("The test message was not delivered.")
        assert SECRET not in answer.text


@pytest.fixture
async def admins(admin: httpx.AsyncClient, database_url: str) -> list[uuid.UUID]:
    """The first administrator and a second one."""
    first = ok_data(await admin.get("/api/v1/auth/session"))["user"]["id"]
    second = await make_user(database_url, username="second-admin", role=Role.ADMIN)
    return [uuid.UUID(first), second.id]


class TestAlerts:
    async def test_a_service_going_down_reaches_each_channel_once(
        self,
        medianest: Started,
        admin: httpx.AsyncClient,
        admins: list[uuid.UUID],
        receiver: AlertReceiver,
    ) -> None:
        await _both(admin, receiver)
        for _ in range(2):
            made = await tell(
                medianest,
                admins,
                type="service.down",
                title="Plex is down",
                message="Plex stopped answering at 21:04.",
                link="/status",
                severity="critical",
                dedup_key="service:plex:down:1",
            )
        assert made == 0  # the second telling: everyone was told the first time
        (webhook,) = _to(receiver, f"/hooks/{SECRET}")
        (ntfy,) = _to(receiver, "/")
        assert (webhook["title"], webhook["message"], webhook["type"]) == (
            "Plex is down",
            "Plex stopped answering at 21:04.",
            "failure",
        )
        assert (ntfy["topic"], ntfy["title"]) == ("medianest-alerts", "Plex is down")

    async def test_a_channel_gets_only_the_types_it_wants(
        self, medianest: Started, admin: httpx.AsyncClient, receiver: AlertReceiver
    ) -> None:
        await _both(admin, receiver)
        await tell(medianest, [], type="broadcast", title="Maintenance tonight", dedup_key="b:1")
        assert _to(receiver, f"/hooks/{SECRET}") == []
        assert [p["title"] for p in _to(receiver, "/")] == ["Maintenance tonight"]

    async def test_other_notifications_never_leave_medianest(
        self,
        medianest: Started,
        admin: httpx.AsyncClient,
        admins: list[uuid.UUID],
        receiver: AlertReceiver,
    ) -> None:
        await _both(admin, receiver)
        await tell(medianest, admins, type="request.available")
        await tell(medianest, admins, type="download.failed", title="Playlist failed")
        assert receiver.posted == []

    async def test_a_failing_channel_is_tried_again_alone(
        self,
        medianest: Started,
        admin: httpx.AsyncClient,
        admins: list[uuid.UUID],
        receiver: AlertReceiver,
    ) -> None:
        await _save(
            admin, [{"name": "Webhook", "url": _webhook(receiver), "types": ["service.up"]}]
        )
        receiver.fail(503)
        await tell(medianest, admins, type="service.up", title="Plex is back", dedup_key="up:1")
        assert [p["title"] for p in _to(receiver, f"/hooks/{SECRET}")] == [
            "Plex is back",
            "Plex is back",
        ]


async def test_the_link_is_given_in_full_when_the_public_address_is_known(
    make_settings: SettingsFactory, database_url: str, receiver: AlertReceiver
) -> None:
    settings = make_settings(database_url=database_url, public_url="https://media.example.org")
    async with started(create_app(settings)) as medianest, medianest.client() as http:
        await finish_first_run(http)
        await _save(http, [{"url": _webhook(receiver), "types": ["service.down"]}])
        await tell(medianest, [], type="service.down", title="Overseerr is down", link="/status")
    (posted,) = _to(receiver, f"/hooks/{SECRET}")
    assert posted["message"].endswith("\n\nhttps://media.example.org/status")
    assert json.dumps(posted).count("media.example.org") == 1
