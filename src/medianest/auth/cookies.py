"""The cookies a browser session lives in."""

from __future__ import annotations

import secrets

from starlette.requests import HTTPConnection
from starlette.responses import Response

from medianest.auth.sessions import REMEMBER_IDLE

ACCESS_COOKIE = "token"
REMEMBER_COOKIE = "remember_token"
CSRF_COOKIE = "csrf_token"
PIN_COOKIE = "plex_pin"
# Sent to the routes that finish a Plex PIN: signing in (`/auth/plex`) and an administrator
# linking their Plex account (`/admin/plex/link`).
PIN_COOKIE_PATH = "/api/v1"
CSRF_HEADER = "x-csrf-token"


def is_https(conn: HTTPConnection) -> bool:
    return conn.url.scheme == "https"


def set_session_cookies(
    response: Response,
    conn: HTTPConnection,
    *,
    access_token: str,
    remember_token: str | None,
    remember: bool,
) -> str:
    """Set the session's cookies; returns the CSRF token the client must echo."""
    secure = is_https(conn)
    # Persistent only with "remember me"; otherwise they end with the browser.
    max_age = int(REMEMBER_IDLE.total_seconds()) if remember else None
    csrf = conn.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    response.set_cookie(
        ACCESS_COOKIE, access_token, max_age=max_age, httponly=True, secure=secure, samesite="lax"
    )
    if remember_token is not None:
        response.set_cookie(
            REMEMBER_COOKIE,
            remember_token,
            max_age=max_age,
            httponly=True,
            secure=secure,
            samesite="lax",
        )
    # Readable by the page's script, which sends it back in the X-CSRF-Token header.
    response.set_cookie(
        CSRF_COOKIE, csrf, max_age=max_age, httponly=False, secure=secure, samesite="lax"
    )
    return csrf


def clear_session_cookies(response: Response) -> None:
    for name in (ACCESS_COOKIE, REMEMBER_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name)
