"""A running MediaNest with its first admin signed in, and what its announcements left behind."""

from __future__ import annotations

import asyncio
import inspect
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import select

from medianest.broadcasts.domain import Broadcasts
from medianest.core.db import Database
from medianest.notifications.models import Notification
from tests.integration.auth.conftest import admin, csrf, medianest
from tests.support.app import Started

__all__ = ["admin", "medianest"]

SEND = "/api/v1/admin/broadcast"
LIST = "/api/v1/admin/broadcasts"


async def send(http: httpx.AsyncClient, **body: Any) -> httpx.Response:
    """POST an announcement as the page does (cookie and CSRF token)."""
    fields = {"title": "Maintenance tonight", "message": "Plex restarts at 22:00."} | body
    return await http.post(SEND, json=fields, headers=csrf(http))


async def withdraw(http: httpx.AsyncClient, broadcast_id: str) -> httpx.Response:
    return await http.delete(f"{LIST}/{broadcast_id}", headers=csrf(http))


def broadcasts_of(app: Started) -> Broadcasts:
    domain: Broadcasts = app.state["services"].domain("broadcasts")
    return domain


async def received(database_url: str) -> dict[uuid.UUID, list[Notification]]:
    """Every announcement notification in the database, by the person who holds it."""
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            rows = await session.scalars(
                select(Notification).where(Notification.type == "broadcast")
            )
            found: dict[uuid.UUID, list[Notification]] = {}
            for row in rows:
                found.setdefault(row.user_id, []).append(row)
    finally:
        await db.close()
    return found


async def until(condition: Callable[[], Awaitable[bool] | bool], within: float = 10.0) -> None:
    """Polls on purpose: what is awaited is another app's background reload or bus listener."""
    async with asyncio.timeout(within):
        while True:
            met = condition()
            if await met if inspect.isawaitable(met) else met:
                return
            await asyncio.sleep(0.02)
