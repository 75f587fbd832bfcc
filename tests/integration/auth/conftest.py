"""A running MediaNest whose first admin is already through the first-run password change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from medianest.app import create_app
from tests.conftest import SettingsFactory
from tests.support.app import Started, started

ADMIN_PASSWORD = "first-run-owner-passphrase"


async def sign_in(
    http: httpx.AsyncClient, username: str, password: str, **extra: Any
) -> httpx.Response:
    return await http.post(
        "/api/v1/auth/login", json={"username": username, "password": password, **extra}
    )


def csrf(http: httpx.AsyncClient) -> dict[str, str]:
    return {"X-CSRF-Token": http.cookies.get("csrf_token") or ""}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def finish_first_run(http: httpx.AsyncClient) -> None:
    signed_in = await sign_in(http, "admin", "admin")
    assert signed_in.status_code == 200, signed_in.text
    changed = await http.post(
        "/api/v1/auth/change-password",
        json={"currentPassword": "admin", "newPassword": ADMIN_PASSWORD},
        headers=csrf(http),
    )
    assert changed.status_code == 200, changed.text


@pytest.fixture
async def medianest(make_settings: SettingsFactory, database_url: str) -> AsyncIterator[Started]:
    async with started(create_app(make_settings(database_url=database_url))) as handle:
        yield handle


@pytest.fixture
async def admin(medianest: Started) -> AsyncIterator[httpx.AsyncClient]:
    """A browser signed in as the first admin, whose password is already changed."""
    async with medianest.client() as http:
        await finish_first_run(http)
        yield http
