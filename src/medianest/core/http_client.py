"""The one way MediaNest builds an HTTP client for an upstream (Plex, Overseerr, Uptime Kuma ...).

Each wire adapter owns one client from `create_http_client`, opened and closed by the lifespan;
calls then go through `core.resilience.Upstream` for the breaker, retries and error translation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import httpx

from medianest import __version__
from medianest.config import Settings

USER_AGENT = f"MediaNest/{__version__} (self-hosted media portal)"

# Upstreams are a handful of home servers: a small pool is plenty, and idle connections are
# dropped after 5 s because that is as long as common servers (uvicorn, Node) keep them open;
# reusing one the server has just closed would fail a request that cannot be retried.
_LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=10, keepalive_expiry=5.0)


def default_timeout(settings: Settings) -> httpx.Timeout:
    """Short connect (a dead host should fail fast), the configured read and write.

    Waiting for a free pooled connection is bounded like a connect: when all of them are busy,
    the upstream is already struggling and queueing more callers behind it would not help.
    """
    return httpx.Timeout(
        connect=settings.http_connect_timeout,
        read=settings.http_read_timeout,
        write=settings.http_read_timeout,
        pool=settings.http_connect_timeout,
    )


def create_http_client(
    settings: Settings,
    *,
    base_url: str = "",
    headers: Mapping[str, str] | None = None,
    timeout: httpx.Timeout | None = None,
) -> httpx.AsyncClient:
    """A pooled HTTP/1.1 keep-alive client; the caller closes it with `aclose()`.

    `headers` are sent with every request, after MediaNest's `User-Agent` (they may replace it).
    Redirects are not followed: an upstream that redirects is usually behind a misconfigured
    proxy or login page, which the adapter should report rather than silently follow.
    """
    merged = httpx.Headers({"User-Agent": USER_AGENT})
    merged.update(headers or {})
    return httpx.AsyncClient(
        base_url=base_url,
        headers=merged,
        timeout=timeout or default_timeout(settings),
        limits=_LIMITS,
        http1=True,
        http2=False,
        follow_redirects=False,
    )


def client_key(url: str, secret: str | None) -> str:
    """What an adapter keeps its client for `url` and `secret` under: a digest, so the secret
    itself is never held as a dictionary key next to the client."""
    return hashlib.sha256(f"{url.rstrip('/')}\n{secret or ''}".encode()).hexdigest()
