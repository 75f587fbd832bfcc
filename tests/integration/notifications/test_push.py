"""Web Push on both databases, against a fake push service on 127.0.0.1 that checks each message
the way a real one and a browser do: the VAPID header's JWT verified with its key, the RFC 8291
`aes128gcm` body opened with the browser's own keys. So what a test reads is what a browser
would show."""

from __future__ import annotations

import json

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select

from medianest.app import create_app
from medianest.core.db import Database
from medianest.notifications.models import Notification, PushKey, PushSubscription
from medianest.notifications.push import PAYLOAD_LIMIT
from medianest.notifications.service import Notice
from tests.conftest import SettingsFactory
from tests.fakes.push.crypto import unb64url
from tests.fakes.push.server import FakePushService
from tests.integration.auth.conftest import csrf
from tests.integration.notifications.conftest import (
    SUBSCRIPTIONS,
    domain,
    settle,
    signed_in,
    subscribe,
    tell,
)
from tests.support.app import Started, ok_data, started

KEY = "/api/v1/notifications/push/key"
PREFERENCES = "/api/v1/notifications/preferences"


async def _subscriptions(database_url: str) -> int:
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            found = await session.scalar(select(func.count()).select_from(PushSubscription))
    finally:
        await db.close()
    return found or 0


async def _inbox(database_url: str) -> list[Notification]:
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            return list(await session.scalars(select(Notification)))
    finally:
        await db.close()


async def _choose(http: httpx.AsyncClient, type: str, *, in_app: bool, push: bool) -> None:
    answer = await http.put(
        PREFERENCES,
        json={"types": {type: {"inApp": in_app, "push": push}}},
        headers=csrf(http),
    )
    assert answer.status_code == 200, answer.text


class TestPublicKey:
    async def test_is_the_point_push_manager_subscribes_with_and_is_kept(
        self, pushing: Started, make_settings: SettingsFactory, database_url: str
    ) -> None:
        async with signed_in(pushing, database_url, "ada") as (http, _):
            key = ok_data(await http.get(KEY))["publicKey"]
        raw = unb64url(key)
        assert len(raw) == 65
        assert raw[0] == 4
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        # Another process (or the next start) signs with the same pair.
        again = create_app(make_settings(database_url=database_url))
        async with started(again) as other:
            assert await domain(other).push.public_key() == key
        db = Database(database_url)
        try:
            async with db.unit_of_work() as session:
                (row,) = list(await session.scalars(select(PushKey)))
        finally:
            await db.close()
        assert row.public_key == key
        assert row.private_key_encrypted.startswith("v1.")

    async def test_is_for_people_signed_in(self, pushing: Started) -> None:
        async with pushing.client() as http:
            answer = await http.get(KEY)
        assert answer.status_code == 401


class TestSending:
    async def test_reaches_the_browser_encrypted_and_signed_by_medianest(
        self, pushing: Started, database_url: str, fake_push: FakePushService
    ) -> None:
        browser = fake_push.browser()
        async with signed_in(pushing, database_url, "bea") as (http, bea):
            made = await subscribe(http, browser.subscription())
            key = ok_data(await http.get(KEY))["publicKey"]
            assert made.status_code == 201, made.text
            assert set(ok_data(made)) == {"id", "createdAt"}
            assert await tell(pushing, [bea.id], title="Dune is available", link="/requests") == 1
        (row,) = await _inbox(database_url)
        assert fake_push.refusals == []
        (received,) = fake_push.received
        assert received.token == browser.token
        assert received.message == {
            "title": "Dune is available",
            "body": "It is in the Movies library now.",
            "url": "/requests",
            "type": "request.available",
            "tag": str(row.id),
        }
        assert received.vapid_key == key
        assert received.claims["aud"] == fake_push.url
        assert received.claims["sub"] == "mailto:admin@localhost"
        assert received.headers["ttl"] == "86400"
        assert received.headers["urgency"] == "normal"

    async def test_every_browser_of_the_person_and_nobody_elses(
        self, pushing: Started, database_url: str, fake_push: FakePushService
    ) -> None:
        laptop, phone, theirs = fake_push.browser(), fake_push.browser(), fake_push.browser()
        async with (
            signed_in(pushing, database_url, "cleo") as (cleo_http, cleo),
            signed_in(pushing, database_url, "dev") as (dev_http, _),
        ):
            for browser in (laptop, phone):
                assert (await subscribe(cleo_http, browser.subscription())).status_code == 201
            assert (await subscribe(dev_http, theirs.subscription())).status_code == 201
            await tell(pushing, [cleo.id], severity="critical", link=None)
        received = fake_push.received
        assert sorted(r.token for r in received) == sorted([laptop.token, phone.token])
        assert {r.message["url"] for r in received} == {"/notifications"}
        assert {r.headers["urgency"] for r in received} == {"high"}

    async def test_a_batch_pushes_each_person_their_own(
        self, pushing: Started, database_url: str, fake_push: FakePushService
    ) -> None:
        first, second = fake_push.browser(), fake_push.browser()
        async with (
            signed_in(pushing, database_url, "eli") as (eli_http, eli),
            signed_in(pushing, database_url, "fay") as (fay_http, fay),
        ):
            await subscribe(eli_http, first.subscription())
            await subscribe(fay_http, second.subscription())
            platform = pushing.state["platform"]
            async with platform.db.unit_of_work() as session:
                await domain(pushing).service.notify_many(
                    session,
                    [
                        Notice([eli.id], "request.status", "Heat was approved", "."),
                        Notice([fay.id], "request.available", "Alien is available", "."),
                    ],
                )
            await settle(pushing)
        titles = {r.token: r.message["title"] for r in fake_push.received}
        assert titles == {first.token: "Heat was approved", second.token: "Alien is available"}

    async def test_a_browser_signed_out_gets_nothing_more(
        self, pushing: Started, database_url: str, fake_push: FakePushService
    ) -> None:
        browser = fake_push.browser()
        async with signed_in(pushing, database_url, "gus") as (http, gus):
            await subscribe(http, browser.subscription())
            out = await http.post("/api/v1/auth/logout", json={}, headers=csrf(http))
            assert out.status_code in (200, 204)
            assert await tell(pushing, [gus.id]) == 1
        assert fake_push.posts == []
        assert await _subscriptions(database_url) == 0

    @pytest.mark.parametrize("status", [404, 410])
    async def test_a_subscription_the_push_service_forgot_is_removed(
        self, status: int, pushing: Started, database_url: str, fake_push: FakePushService
    ) -> None:
        browser = fake_push.browser()
        fake_push.answer(browser, status)
        async with signed_in(pushing, database_url, "hal") as (http, hal):
            await subscribe(http, browser.subscription())
            await tell(pushing, [hal.id])
            assert await _subscriptions(database_url) == 0
            await tell(pushing, [hal.id], title="Another one")
        assert fake_push.posts == [browser.token]

    @pytest.mark.parametrize("status", [429, 503])
    async def test_a_busy_push_service_is_tried_again(
        self, status: int, pushing: Started, database_url: str, fake_push: FakePushService
    ) -> None:
        browser = fake_push.browser()
        fake_push.answer(browser, status)
        async with signed_in(pushing, database_url, "ivy") as (http, ivy):
            await subscribe(http, browser.subscription())
            await tell(pushing, [ivy.id])
        assert fake_push.posts == [browser.token, browser.token]
        assert [r.message["title"] for r in fake_push.received] == ["Dune is available"]
        assert await _subscriptions(database_url) == 1

    async def test_push_turned_off_for_a_type_pushes_nothing_of_it(
        self, pushing: Started, database_url: str, fake_push: FakePushService
    ) -> None:
        browser = fake_push.browser()
        async with signed_in(pushing, database_url, "jon") as (http, jon):
            await subscribe(http, browser.subscription())
            await _choose(http, "request.available", in_app=True, push=False)
            assert await tell(pushing, [jon.id], type="request.available") == 1
            assert fake_push.posts == []
            await tell(pushing, [jon.id], type="download.completed", title="Playlist ready")
        assert [r.message["title"] for r in fake_push.received] == ["Playlist ready"]

    async def test_inbox_turned_off_still_pushes_when_push_is_on(
        self, pushing: Started, database_url: str, fake_push: FakePushService
    ) -> None:
        browser = fake_push.browser()
        async with signed_in(pushing, database_url, "kai") as (http, kai):
            await subscribe(http, browser.subscription())
            await _choose(http, "request.status", in_app=False, push=True)
            assert await tell(pushing, [kai.id], type="request.status", title="Approved") == 0
        assert await _inbox(database_url) == []
        assert [r.message["title"] for r in fake_push.received] == ["Approved"]

    async def test_the_same_event_told_again_is_not_pushed_again(
        self, pushing: Started, database_url: str, fake_push: FakePushService
    ) -> None:
        browser = fake_push.browser()
        async with signed_in(pushing, database_url, "lea") as (http, lea):
            await subscribe(http, browser.subscription())
            for _ in range(2):
                await tell(pushing, [lea.id], dedup_key="request:1:available")
        assert fake_push.posts == [browser.token]

    async def test_a_long_message_is_shortened_to_fit_a_push(
        self, pushing: Started, database_url: str, fake_push: FakePushService
    ) -> None:
        browser = fake_push.browser()
        async with signed_in(pushing, database_url, "max") as (http, max_):
            await subscribe(http, browser.subscription())
            await tell(pushing, [max_.id], message="Ünïcode and “quotes” " * 400)
        (received,) = fake_push.received
        assert len(received.plaintext) <= PAYLOAD_LIMIT
        assert received.message["body"].startswith("Ünïcode and “quotes” ")
        assert received.message["body"].endswith("…")


class TestSubscribing:
    @pytest.mark.parametrize(
        "endpoint",
        [
            "http://push.example.com/send/abc",
            "https://127.0.0.1/send/abc",
            "https://[::1]/send/abc",
            "https://10.1.2.3/send/abc",
            "https://localhost/send/abc",
            "https://user:secret@push.example.com/send/abc",
            "ftp://push.example.com/send/abc",
        ],
    )
    async def test_an_endpoint_off_the_public_https_web_is_refused(
        self, endpoint: str, medianest: Started, database_url: str, fake_push: FakePushService
    ) -> None:
        subscription = {**fake_push.browser().subscription(), "endpoint": endpoint}
        async with signed_in(medianest, database_url, "nia") as (http, _):
            answer = await subscribe(http, subscription)
        body = answer.json()
        assert answer.status_code == 400
        assert body["error"]["code"] == "VALIDATION_ERROR"
        assert [d["field"] for d in body["error"]["details"]] == ["endpoint"]
        assert await _subscriptions(database_url) == 0

    @pytest.mark.parametrize(
        ("keys", "field"),
        [
            ({"p256dh": "not base64url!", "auth": "AAAAAAAAAAAAAAAAAAAAAA"}, "keys.p256dh"),
            ({"p256dh": "BAAA", "auth": "AAAAAAAAAAAAAAAAAAAAAA"}, "keys.p256dh"),
            (None, "keys.auth"),
        ],
    )
    async def test_damaged_keys_are_refused(
        self,
        keys: dict[str, str] | None,
        field: str,
        pushing: Started,
        database_url: str,
        fake_push: FakePushService,
    ) -> None:
        subscription = fake_push.browser().subscription()
        subscription["keys"] = keys or {**subscription["keys"], "auth": "c2hvcnQ"}
        async with signed_in(pushing, database_url, "oli") as (http, _):
            answer = await subscribe(http, subscription)
        assert answer.status_code == 400
        assert [d["field"] for d in answer.json()["error"]["details"]] == [field]

    async def test_a_body_that_is_no_subscription_is_refused(
        self, pushing: Started, database_url: str
    ) -> None:
        async with signed_in(pushing, database_url, "pam") as (http, _):
            answer = await subscribe(http, {"endpoint": "https://push.example.com/x"})
        assert answer.status_code == 400
        assert answer.json()["error"]["details"][0]["field"] == "keys"

    async def test_turning_off_stops_the_pushes(
        self, pushing: Started, database_url: str, fake_push: FakePushService
    ) -> None:
        browser = fake_push.browser()
        async with signed_in(pushing, database_url, "rex") as (http, rex):
            await subscribe(http, browser.subscription())
            off = await http.request(
                "DELETE", SUBSCRIPTIONS, json={"endpoint": browser.endpoint}, headers=csrf(http)
            )
            again = await http.request(
                "DELETE", SUBSCRIPTIONS, json={"endpoint": browser.endpoint}, headers=csrf(http)
            )
            await tell(pushing, [rex.id])
        assert off.status_code == 204
        assert again.status_code == 404
        assert fake_push.posts == []

    async def test_anyone_elses_browser_is_not_found_and_keeps_its_pushes(
        self, pushing: Started, database_url: str, fake_push: FakePushService
    ) -> None:
        browser = fake_push.browser()
        async with (
            signed_in(pushing, database_url, "sol") as (owner_http, owner),
            signed_in(pushing, database_url, "tom") as (other_http, _),
        ):
            await subscribe(owner_http, browser.subscription())
            answer = await other_http.request(
                "DELETE",
                SUBSCRIPTIONS,
                json={"endpoint": browser.endpoint},
                headers=csrf(other_http),
            )
            await tell(pushing, [owner.id])
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "NOT_FOUND"
        assert [r.token for r in fake_push.received] == [browser.token]

    async def test_a_browser_signed_in_by_someone_else_is_theirs_now(
        self, pushing: Started, database_url: str, fake_push: FakePushService
    ) -> None:
        browser = fake_push.browser()
        async with (
            signed_in(pushing, database_url, "uma") as (first_http, first),
            signed_in(pushing, database_url, "vic") as (second_http, second),
        ):
            await subscribe(first_http, browser.subscription())
            await subscribe(second_http, browser.subscription())
            await tell(pushing, [first.id], title="For Uma")
            await tell(pushing, [second.id], title="For Vic")
        assert [r.message["title"] for r in fake_push.received] == ["For Vic"]
        assert await _subscriptions(database_url) == 1


class TestSendTimeCheck:
    async def test_an_endpoint_no_longer_allowed_is_refused_when_sending(
        self,
        pushing: Started,
        make_settings: SettingsFactory,
        database_url: str,
        fake_push: FakePushService,
    ) -> None:
        """Subscribed while the LAN was allowed; the process sending later does not allow it:
        it never connects (the check is made on the address each connection reaches)."""
        browser = fake_push.browser()
        async with signed_in(pushing, database_url, "wes") as (http, wes):
            await subscribe(http, browser.subscription())
        strict = create_app(make_settings(database_url=database_url))
        async with started(strict) as other:
            assert await tell(other, [wes.id]) == 1
        assert fake_push.posts == []
        assert await _subscriptions(database_url) == 1


def test_the_fake_reads_what_a_browser_reads() -> None:
    """The fake's own check: a message sealed by pywebpush opens with the fake browser's keys."""
    from pywebpush import WebPusher

    from tests.fakes.push.crypto import decrypt

    browser = FakePushService().browser()
    sealed = WebPusher(browser.subscription()).encode(json.dumps({"title": "hi"}).encode())
    assert json.loads(decrypt(sealed["body"], browser.key, browser.auth)) == {"title": "hi"}
