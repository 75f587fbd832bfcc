"""The address plex.tv sends its sign-in window back to is always MediaNest's own."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from medianest.auth.plex_return import plex_done_url


def _request(host: str, *, scheme: str = "http", root_path: str = "", origin: str = "") -> Request:
    headers = [(b"host", host.encode())]
    if origin:
        headers.append((b"origin", origin.encode()))
    return Request(
        {
            "type": "http",
            "method": "POST",
            "scheme": scheme,
            "server": ("10.0.0.5", 8080),
            "path": root_path + "/api/v1/auth/plex/pin",
            "root_path": root_path,
            "query_string": b"",
            "headers": headers,
        }
    )


@pytest.mark.parametrize(
    ("host", "scheme", "root_path", "origin", "expected"),
    [
        ("media.example.com", "https", "", "", "https://media.example.com/auth/plex/done"),
        ("192.168.1.20:8080", "http", "", "", "http://192.168.1.20:8080/auth/plex/done"),
        ("[::1]:8080", "http", "", "http://[::1]:8080", "http://[::1]:8080/auth/plex/done"),
        # Host names are the same in any case: behind a proxy ending TLS, the browser's https.
        (
            "Media.Example.com",
            "http",
            "",
            "https://media.example.com",
            "https://Media.Example.com/auth/plex/done",
        ),
        (
            "media.example.com",
            "http",
            "/nest",
            "https://media.example.com",
            "https://media.example.com/nest/auth/plex/done",
        ),
    ],
)
def test_the_request_s_own_address(
    host: str, scheme: str, root_path: str, origin: str, expected: str
) -> None:
    request = _request(host, scheme=scheme, root_path=root_path, origin=origin)
    assert plex_done_url(request, None) == expected


@pytest.mark.parametrize(
    ("host", "origin"),
    [
        ("media.example.com", "https://evil.example"),
        ("media.example.com", "https://media.example.com.evil.example"),
        ("media.example.com", "https://media.example.com:444"),
        ("media.example.com", "null"),
        ("media.example.com", "file://media.example.com"),
    ],
)
def test_no_address_when_the_browser_names_another_site(host: str, origin: str) -> None:
    assert plex_done_url(_request(host, origin=origin), None) is None


@pytest.mark.parametrize("host", ["user@evil.example", "evil.example/path", "evil.example\\@x", ""])
def test_a_malformed_host_header_is_not_used(host: str) -> None:
    # Starlette reads such a request as addressed to the socket MediaNest listens on.
    assert plex_done_url(_request(host), None) == "http://10.0.0.5:8080/auth/plex/done"


def test_the_public_url_wins() -> None:
    request = _request("evil.example", origin="https://evil.example")
    assert plex_done_url(request, "https://media.example.com/nest") == (
        "https://media.example.com/nest/auth/plex/done"
    )
