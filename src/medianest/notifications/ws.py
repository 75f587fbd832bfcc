"""`GET /api/v1/ws`: the signed-in person's live updates (API.md "Real time", docs/realtime.md).

A socket is authenticated like an API request: `Authorization: Bearer`, else a `token` query
parameter, else the `token` cookie, with the same access-token and session checks. A socket
is accepted before it is refused, so a browser learns why from the close code (4401 signed
out, 4403 refused, 4001 token to renew, 4429 too many) and knows whether to come back; an
HTTP refusal of the handshake reaches a page only as a bare 1006.

A cookie goes with every request the browser makes to this site, whichever site's page makes
it, and the handshake is not covered by CORS: a cookie-authenticated socket must say it comes
from this site's pages (its `Origin`), or another site could read a signed-in person's events.
A token in the query or header was handed to that page on purpose, so it needs no such check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast
from urllib.parse import urlsplit

import structlog
from fastapi import APIRouter, WebSocket

from medianest.auth.cookies import ACCESS_COOKIE
from medianest.auth.sessions import SessionService
from medianest.auth.tokens import JwtService, TokenExpired
from medianest.config import Settings
from medianest.core.errors import RateLimited, Unauthorized
from medianest.core.ratelimit import RateLimiter
from medianest.notifications.deps import DOMAIN
from medianest.notifications.realtime import RealtimeHub
from medianest.notifications.sockets import Access, CloseCode, Recheck, SocketRefused

if TYPE_CHECKING:
    from medianest.notifications.domain import Notifications

log = structlog.get_logger(__name__)

WS_PATH = "/api/v1/ws"
_REASON_BYTES = 123
"""The most a close frame's reason may hold (RFC 6455, 5.5)."""

router = APIRouter()


@router.websocket(WS_PATH)
async def realtime_socket(websocket: WebSocket) -> None:
    admitted = await admit(websocket)
    if admitted is not None:
        await _hub(websocket).serve(websocket, *admitted)


async def admit(websocket: WebSocket) -> tuple[Access, Recheck] | None:
    """Accept the socket, then check who it is for; None once it is closed as refused."""
    services = websocket.state.services
    settings: Settings = websocket.state.platform.settings
    limiter: RateLimiter = websocket.state.platform.limiter
    token, from_cookie = credentials(websocket)
    await websocket.accept()
    try:
        if not token:
            raise SocketRefused(CloseCode.UNAUTHORIZED, "Sign in to get live updates.")
        if from_cookie and not same_site(
            websocket.headers.get("origin"), websocket.headers.get("host"), settings
        ):
            raise SocketRefused(CloseCode.FORBIDDEN, "Live updates are for this site's pages.")
        check = session_check(token, services.jwt, services.auth.sessions)
        access = await check(False)
        try:
            # Connecting spends the caller's general API allowance, as a request would.
            await limiter.hit("api", f"user:{access.user_id}")
        except RateLimited:
            reason = "Too many connections. Wait a moment."
            raise SocketRefused(CloseCode.TOO_MANY, reason) from None
    except SocketRefused as refused:
        log.info("realtime.socket_refused", code=int(refused.code))
        await websocket.close(refused.code, _short(refused.reason))
        return None
    return access, check


def credentials(websocket: WebSocket) -> tuple[str | None, bool]:
    """(the access token, whether it came from the cookie): header, query, then cookie."""
    scheme, _, value = websocket.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    query = websocket.query_params.get("token")
    if query:
        return query, False
    return websocket.cookies.get(ACCESS_COOKIE), True


def same_site(origin: str | None, host: str | None, settings: Settings) -> bool:
    """Whether a page at `origin` is this site: the address it was asked for (`Host`), the
    configured public URL, or one of the CORS origins, which may send cookies too. Browsers
    always send `Origin` on a WebSocket handshake, so none at all is refused."""
    if not origin:
        return False
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    allowed = {urlsplit(o).netloc.lower() for o in settings.cors_origins}
    if settings.public_url:
        allowed.add(urlsplit(settings.public_url).netloc.lower())
    if host:
        allowed.add(host.lower())
    return parts.netloc.lower() in allowed


def session_check(token: str, jwt: JwtService, sessions: SessionService) -> Recheck:
    """The check a socket opened with `token` passes at first and then now and then."""

    async def check(fresh: bool) -> Access:
        try:
            claims = jwt.verify_token(token)
            principal = await sessions.authenticate(token, verified=claims, fresh=fresh)
        except TokenExpired:
            raise SocketRefused(CloseCode.TOKEN_EXPIRED, "Your session needs renewing.") from None
        except Unauthorized:
            raise SocketRefused(CloseCode.UNAUTHORIZED, "You were signed out.") from None
        if principal.requires_password_change:
            raise SocketRefused(CloseCode.FORBIDDEN, "Change your password first.")
        return Access(
            user_id=claims.user_key,
            session_id=claims.session_key,
            is_admin=principal.is_admin,
            expires_at=claims.expires_at,
        )

    return check


def _hub(websocket: WebSocket) -> RealtimeHub:
    # The domain module imports this one, so its type is only named here (as in deps.py).
    domain = cast("Notifications", websocket.state.services.domain(DOMAIN))
    return domain.realtime


def _short(reason: str) -> str:
    encoded = reason.encode()
    if len(encoded) <= _REASON_BYTES:
        return reason
    return encoded[: _REASON_BYTES - 3].decode(errors="ignore") + "…"
