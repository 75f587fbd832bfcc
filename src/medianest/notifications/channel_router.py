"""`/api/v1/admin/notifications/channels`: where the administrator's alerts also go (Discord,
ntfy, any webhook), for administrators only. An extension of API.md."""

from __future__ import annotations

from fastapi import APIRouter

from medianest.auth.deps import AdminUser, ClientDep
from medianest.core.deps import DbSession
from medianest.core.schemas import Envelope
from medianest.notifications.channel_schemas import (
    ChannelRead,
    ChannelsRead,
    ChannelsUpdate,
    ChannelTest,
    ChannelTestResult,
)
from medianest.notifications.channels import ChannelEntry
from medianest.notifications.deps import AlertChannelsDep
from medianest.notifications.models import ALERT_TYPES, AlertChannel

router = APIRouter(prefix="/api/v1/admin/notifications/channels", tags=["admin"])


def _read(rows: list[AlertChannel]) -> ChannelsRead:
    return ChannelsRead(channels=[ChannelRead.of(row) for row in rows], types=list(ALERT_TYPES))


@router.get("", response_model=Envelope[ChannelsRead])
async def channels(
    _: AdminUser, session: DbSession, channels: AlertChannelsDep
) -> Envelope[ChannelsRead]:
    return Envelope(data=_read(await channels.list_channels(session)))


@router.put("", response_model=Envelope[ChannelsRead])
async def save_channels(
    body: ChannelsUpdate,
    principal: AdminUser,
    client: ClientDep,
    session: DbSession,
    channels: AlertChannelsDep,
) -> Envelope[ChannelsRead]:
    """The channels become the list given, in its order; one left out is removed."""
    entries = [ChannelEntry(id=c.id, name=c.name, url=c.url, types=c.types) for c in body.channels]
    rows = await channels.replace(session, entries, actor=client.actor(principal))
    return Envelope(data=_read(rows))


@router.post("/test", response_model=Envelope[ChannelTestResult])
async def try_channel(
    body: ChannelTest, _: AdminUser, session: DbSession, channels: AlertChannelsDep
) -> Envelope[ChannelTestResult]:
    """Sends a test message now, to a saved channel or to a URL not saved yet."""
    delivery = await channels.test(session, channel_id=body.id, url=body.url)
    error = None if delivery.ok else _failure(delivery.reason)
    return Envelope(data=ChannelTestResult(ok=delivery.ok, error=error))


def _failure(reason: str | None) -> str:
    said = f" It said: {reason}" if reason else ""
    return (
        "The test message was not delivered. Check the address and that the service is "
        f"running, then try again.{said}"
    )
