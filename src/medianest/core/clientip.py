"""Who is really on the other end of a connection.

`X-Forwarded-For` is written by whoever sent the request, so it is believed only as far as it was
written by proxies the operator listed in `MEDIANEST_TRUSTED_PROXIES`. Each proxy appends the
address it received the request from, so the list is read from the right: addresses of trusted
proxies are skipped, and the first address that is not one is the client. Anything a client wrote
to the left of that is ignored, so a client cannot pick its own address (and with it its rate
limit bucket, or the address shown in its session list).

When a trusted proxy recorded something that is not an address, the walk stops there and the
answer is the nearest hop known for certain: the trusted proxy that recorded it. Requests through
a proxy that misbehaves that way then share one address, which errs towards limiting them together
rather than letting a client choose where it is counted.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence

from starlette.requests import HTTPConnection
from starlette.types import Scope

from medianest.config import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

UNKNOWN = "unknown"


def client_ip(
    scope_client_host: str | None, forwarded_for: str | None, trusted: Sequence[Network]
) -> str:
    """The client's address, normalised (IPv4-mapped IPv6 as IPv4, IPv6 compressed).

    `scope_client_host` is the direct peer as the ASGI server saw it; `forwarded_for` is the
    `X-Forwarded-For` value (several header lines joined with commas). Never raises: returns a
    valid IP address, the peer as given when it is not one (a Unix socket name), or "unknown".
    """
    if not scope_client_host:
        return UNKNOWN
    peer = parse_ip(scope_client_host)
    if peer is None:
        return scope_client_host
    if not forwarded_for or not _is_trusted(peer, trusted):
        return str(peer)
    nearest = peer
    for entry in reversed(forwarded_for.split(",")):
        hop = parse_ip(entry)
        if hop is None:
            break
        nearest = hop
        if not _is_trusted(hop, trusted):
            break
    return str(nearest)


def request_client_ip(connection: HTTPConnection | Scope, settings: Settings) -> str:
    """`client_ip` for a Starlette request, WebSocket or raw ASGI scope."""
    scope = connection.scope if isinstance(connection, HTTPConnection) else connection
    client = scope.get("client")
    host = client[0] if client else None
    if not settings.trusted_proxies:
        # Nobody's X-Forwarded-For is believed: the peer is the client (this is on every request).
        return _peer(host)
    values = [
        value.decode("latin-1")
        for name, value in scope.get("headers") or ()
        if name.lower() == b"x-forwarded-for"
    ]
    return client_ip(host, ",".join(values) or None, settings.trusted_proxies)


@functools.lru_cache(maxsize=4096)
def _peer(host: str | None) -> str:
    """`client_ip` of a peer with no proxy believed, for the few peers a server sees."""
    return client_ip(host, None, ())


# Every request parses its peer's address: the few a server sees are parsed once. Bounded, so
# a stranger sending many forged headers only evicts entries.
@functools.lru_cache(maxsize=4096)
def parse_ip(text: str) -> Address | None:
    """An address from one `X-Forwarded-For` entry, or None when it is not one.

    Accepts what proxies write: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]` and
    `[2001:db8::1]:443`. IPv4-mapped IPv6 becomes IPv4; an IPv6 zone (`%eth0`) is dropped, as it
    means nothing outside the host that wrote it.
    """
    text = text.strip()
    if text.startswith("["):
        end = text.find("]")
        if end == -1 or not _is_port_suffix(text[end + 1 :], optional=True):
            return None
        text = text[1:end]
    elif text.count(":") == 1:
        text, _, port = text.partition(":")
        if not _is_port_suffix(":" + port, optional=False):
            return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.scope_id is not None:
            return ipaddress.IPv6Address(int(address))
    return address


def _is_port_suffix(text: str, *, optional: bool) -> bool:
    if not text:
        return optional
    port = text[1:]
    return text[0] == ":" and 0 < len(port) <= 5 and port.isascii() and port.isdigit()


def _is_trusted(address: Address, trusted: Sequence[Network]) -> bool:
    return any(address in net for net in trusted)
