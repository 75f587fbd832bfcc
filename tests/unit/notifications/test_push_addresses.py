"""Where MediaNest may post a push: https on a public address, checked when a browser subscribes
(through the resolver) and again by the connection each push makes."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Iterator

import pytest
import requests
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from medianest.notifications.push import PushMessage
from medianest.notifications.push_addresses import (
    AddressRefused,
    EndpointRefused,
    Resolver,
    check_endpoint,
    guarded_session,
    is_public,
)
from tests.support.server import ThreadedServer, serve


def _resolver(answers: dict[str, list[str]]) -> Resolver:
    async def resolve(host: str, port: int) -> list[str]:
        if host not in answers:
            raise OSError("name not known")
        return answers[host]

    return resolve


PUBLIC = {
    "push.example.com": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
    "rebound.example.com": ["93.184.215.14", "192.168.1.1"],
    "cgnat.example.com": ["100.64.0.7"],
    "mapped.example.com": ["::ffff:127.0.0.1"],
}


class TestCheckEndpoint:
    async def test_https_on_a_name_that_resolves_only_to_public_addresses_passes(self) -> None:
        await check_endpoint(
            "https://push.example.com/wpush/v2/abc",
            allow_insecure=False,
            resolver=_resolver(PUBLIC),
        )

    @pytest.mark.parametrize(
        ("endpoint", "says"),
        [
            ("http://push.example.com/x", "only over https"),
            ("https://93.184.215.14/x", "not a bare IP address"),
            ("https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/x", "not a bare IP address"),
            ("https://rebound.example.com/x", "private network"),
            ("https://cgnat.example.com/x", "private network"),
            ("https://mapped.example.com/x", "private network"),
            ("https://unknown.example.com/x", "cannot find"),
            ("https://a:b@push.example.com/x", "user name or password"),
            ("https://push.example.com:99999/x", "not a push address"),
            ("javascript:alert(1)", "starts with https"),
            ("https://push.example.com/" + "x" * 2100, "not a push address"),
        ],
    )
    async def test_anything_else_is_refused_with_a_reason(self, endpoint: str, says: str) -> None:
        with pytest.raises(EndpointRefused) as refused:
            await check_endpoint(endpoint, allow_insecure=False, resolver=_resolver(PUBLIC))
        assert says in refused.value.message
        assert refused.value.details == [{"field": "endpoint", "message": refused.value.message}]

    async def test_the_setting_lets_a_push_server_on_the_lan_through(self) -> None:
        for endpoint in ("http://192.168.1.20:8080/push/x", "http://localhost/push/x"):
            await check_endpoint(endpoint, allow_insecure=True, resolver=_resolver({}))

    async def test_even_then_it_must_be_an_http_address(self) -> None:
        with pytest.raises(EndpointRefused):
            await check_endpoint("file:///etc/passwd", allow_insecure=True, resolver=_resolver({}))


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.0.1", False),
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:8.8.8.8", True),
    ],
)
def test_is_public(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


@pytest.fixture(scope="module")
def lan_service() -> Iterator[tuple[ThreadedServer, list[str]]]:
    """An HTTP server on 127.0.0.1 standing in for something on the LAN; it logs what it got."""
    got: list[str] = []

    async def anything(request: Request) -> Response:
        got.append(request.url.path)
        return Response(status_code=201)

    app = Starlette(routes=[Route("/{path:path}", anything, methods=["POST", "GET"])])
    with serve(app) as server:
        yield server, got


class TestGuardedSession:
    def test_a_connection_that_reaches_a_private_address_is_cut_before_sending(
        self, lan_service: tuple[ThreadedServer, list[str]]
    ) -> None:
        server, got = lan_service
        got.clear()
        with guarded_session(allow_insecure=False) as http, pytest.raises(AddressRefused):
            http.post(f"{server.url}/router-admin", data=b"x", timeout=5)
        assert got == []

    def test_with_the_setting_on_it_connects(
        self, lan_service: tuple[ThreadedServer, list[str]]
    ) -> None:
        server, got = lan_service
        got.clear()
        with guarded_session(allow_insecure=True) as http:
            answer = http.post(f"{server.url}/push/abc", data=b"x", timeout=5)
        assert answer.status_code == 201
        assert got == ["/push/abc"]

    def test_redirects_are_not_followed(self) -> None:
        async def moved(request: Request) -> Response:
            return Response(status_code=307, headers={"Location": "http://127.0.0.1:1/"})

        with (
            serve(Starlette(routes=[Route("/", moved, methods=["POST"])])) as server,
            guarded_session(allow_insecure=True) as http,
        ):
            answer = http.post(server.url + "/", data=b"x", timeout=5)
        assert answer.status_code == 307

    def test_proxies_from_the_environment_are_not_used(
        self, monkeypatch: pytest.MonkeyPatch, lan_service: tuple[ThreadedServer, list[str]]
    ) -> None:
        server, got = lan_service
        got.clear()
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:1")
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        with guarded_session(allow_insecure=True) as http:
            assert http.post(f"{server.url}/direct", timeout=5).status_code == 201
        assert got == ["/direct"]
        with requests.Session() as plain, pytest.raises(requests.ConnectionError):
            plain.post(f"{server.url}/proxied", timeout=5)


class TestPayload:
    def test_fits_a_push_and_keeps_every_field(self) -> None:
        message = PushMessage(
            user_id=uuid.uuid4(),
            tag="t1",
            type="broadcast",
            title="Maintenance",
            body='"Quoted" line\n' * 1000,
            url="/notifications",
        )
        payload = message.payload()
        assert len(payload.encode()) <= 3800
        assert '"title": "Maintenance"' in payload
        assert payload.count('"url": "/notifications"') == 1
