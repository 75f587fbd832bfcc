"""Where MediaNest may post a push: an `https` endpoint on a public address, never into the LAN.

A browser hands MediaNest the endpoint its push service gave it, but anyone signed in can post
any URL as a subscription; without these rules MediaNest would post to whatever it names, the
router's admin page included. So an endpoint must be `https`, name a host (no IP literal) and
resolve only to public addresses, when it is subscribed and again when each push is sent: the
sending session (`guarded_session`) checks the address each connection actually reached, so a
name that resolves elsewhere later (DNS rebinding) is refused at that moment too.

`MEDIANEST_PUSH_ALLOW_INSECURE_ENDPOINTS=true` lifts all of it, for a push server on the LAN
and for tests.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import SplitResult, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from medianest.core.errors import ValidationFailed

ENDPOINT_LENGTH = 2048
RESOLVE_TIMEOUT = 5.0

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]
"""The addresses a host name resolves to (for the given port)."""


class EndpointRefused(ValidationFailed):
    """The endpoint is not one MediaNest posts to; the message says why, for people."""

    def __init__(self, message: str) -> None:
        super().__init__(message, details=[{"field": "endpoint", "message": message}])


class AddressRefused(Exception):
    """A push connection reached an address that is not public (raised while sending)."""


async def resolve(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(RESOLVE_TIMEOUT):
        found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in found]


def is_public(address: IPAddress) -> bool:
    """Whether `address` is on the internet: not private, loopback, link-local, shared (CGNAT),
    multicast or reserved; an IPv4 address written as IPv6 is judged as itself."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _parts(endpoint: str) -> SplitResult:
    if len(endpoint) > ENDPOINT_LENGTH or any(c.isspace() or ord(c) < 32 for c in endpoint):
        raise EndpointRefused("This is not a push address a browser gives.")
    try:
        parts = urlsplit(endpoint)
        parts.port  # noqa: B018 (reading it is what checks it)
    except ValueError:
        raise EndpointRefused("This is not a push address a browser gives.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointRefused("A push address starts with https://.")
    if parts.username is not None or parts.password is not None:
        raise EndpointRefused("A push address never holds a user name or password.")
    return parts


async def check_endpoint(
    endpoint: str, *, allow_insecure: bool, resolver: Resolver = resolve
) -> None:
    """Raises EndpointRefused unless MediaNest may post to `endpoint` (see the module)."""
    parts = _parts(endpoint)
    if allow_insecure:
        return
    if parts.scheme != "https":
        raise EndpointRefused(
            "Push notifications are sent only over https. Use a browser whose push service "
            "has an https address."
        )
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        raise EndpointRefused("A push address names its push service, not a bare IP address.")
    try:
        addresses = await resolver(host, parts.port or 443)
    except (OSError, TimeoutError):
        raise EndpointRefused(
            "MediaNest cannot find this push service. Try again in a moment."
        ) from None
    if not addresses or not all(is_public(ipaddress.ip_address(a)) for a in addresses):
        raise EndpointRefused(
            "This push address leads into a private network, so MediaNest does not post to it."
        )


def _refuse_private(sock: socket.socket, host: str) -> socket.socket:
    peer = ipaddress.ip_address(sock.getpeername()[0])
    if not is_public(peer):
        sock.close()
        raise AddressRefused(f"{host} resolved to a private address")
    return sock


class _PublicHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _refuse_private(super()._new_conn(), self.host)


class _PublicHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _refuse_private(super()._new_conn(), self.host)


class _PublicHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class _PublicOnlyAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _PublicHTTPPool,
            "https": _PublicHTTPSPool,
        }


class _NoRedirects(requests.Session):
    """A push service answers; it never sends MediaNest somewhere else to post."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        kwargs["allow_redirects"] = False
        return super().send(request, **kwargs)


def guarded_session(*, allow_insecure: bool) -> requests.Session:
    """The HTTP session pushes are posted with: no proxy or credentials from the environment, no
    redirects and, unless `allow_insecure`, no connection to an address that is not public."""
    session = _NoRedirects()
    session.trust_env = False
    if not allow_insecure:
        adapter = _PublicOnlyAdapter()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    return session
