"""A running MediaNest (see tests/integration/auth/conftest.py) and people signed in to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from medianest.auth.models import User
from tests.factories.users import PASSWORD, make_user
from tests.integration.auth.conftest import admin, medianest, sign_in
from tests.support.app import Started

__all__ = ["admin", "medianest"]


@asynccontextmanager
async def signed_in(
    medianest: Started, database_url: str, username: str
) -> AsyncIterator[tuple[httpx.AsyncClient, User]]:
    """A new member's browser, signed in."""
    user = await make_user(database_url, username=username)
    async with medianest.client() as http:
        answer = await sign_in(http, username, PASSWORD)
        assert answer.status_code == 200, answer.text
        yield http, user
