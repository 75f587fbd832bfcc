"""A MediaNest app driven like a browser: pages are asked for as text/html, the API called the way
the page scripts call it (cookies plus the CSRF token)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from medianest.app import create_app
from medianest.auth.models import Role, User
from medianest.auth.passwords import PasswordHasher
from tests.conftest import SettingsFactory
from tests.integration.auth.conftest import admin
from tests.support.app import ok_data, running
from tests.support.plex import friend, plex_server, plex_settings, plex_tv, plex_tv_server

PAGE = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
ADMIN_PASSWORD = "plum-orchard-lantern-42"
MEMBER_PASSWORD = "quiet-river-meadow-17"

AppFactory = Callable[..., FastAPI]

# The shared fixtures of the library pages, against the fake Plex server and fake plex.tv.
__all__ = ["admin", "friend", "plex_server", "plex_settings", "plex_tv", "plex_tv_server"]


class Browser:
    """An httpx client with a cookie jar, speaking to the app in-process."""

    def __init__(self, http: httpx.AsyncClient, app: FastAPI) -> None:
        self.http = http
        self.app = app

    def set_cookie(self, name: str, value: str) -> None:
        """Replace a cookie the way the browser would hold it (cookielib calls the host
        `testserver.local`)."""
        self.http.cookies.delete(name)
        self.http.cookies.set(name, value, domain="testserver.local", path="/")

    async def page(self, path: str) -> httpx.Response:
        return await self.http.get(path, headers=PAGE)

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        csrf = self.http.cookies.get("csrf_token")
        response = await self.http.request(
            method,
            "/api/v1" + path,
            json=body,
            headers={"X-CSRF-Token": csrf} if csrf else {},
        )
        return ok_data(response)

    async def sign_in(self, username: str, password: str, *, remember: bool = False) -> Any:
        return await self.call(
            "POST",
            "/auth/login",
            {"username": username, "password": password, "rememberMe": remember},
        )

    async def set_up_admin(self) -> None:
        await self.sign_in("admin", "admin")
        await self.call(
            "POST",
            "/auth/change-password",
            {"currentPassword": "admin", "newPassword": ADMIN_PASSWORD},
        )

    async def add_member(self, username: str = "bob") -> None:
        async with self.app.state.platform.db.unit_of_work() as session:
            session.add(
                User(
                    username=username,
                    username_key=username.lower(),
                    role=Role.USER,
                    password_hash=PasswordHasher().hash(MEMBER_PASSWORD),
                )
            )


@pytest.fixture
def make_app(make_settings: SettingsFactory, database_url: str) -> AppFactory:
    def make(**overrides: object) -> FastAPI:
        return create_app(make_settings(database_url=database_url, **overrides))

    return make


@asynccontextmanager
async def browse(app: FastAPI) -> AsyncIterator[Browser]:
    """Run the app for the block, with a browser-like client on it."""
    async with running(app) as http:
        yield Browser(http, app)
