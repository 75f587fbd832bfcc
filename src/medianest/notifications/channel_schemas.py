"""The alert channels API's shapes (`/api/v1/admin/notifications/channels`, beyond API.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal, Self

from pydantic import Field

from medianest.core.schemas import ApiModel, RequestModel
from medianest.notifications.channels import MAX_CHANNELS
from medianest.notifications.models import AlertChannel

AlertType = Literal["service.down", "service.up", "broadcast"]


class ChannelRead(ApiModel):
    id: uuid.UUID
    name: str
    service: str
    """What Apprise calls the service the URL names: `Discord`, `ntfy`, `JSON`."""
    url: str
    """The URL with its secrets masked: the full one is never shown again."""
    types: list[str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: AlertChannel) -> Self:
        return cls(
            id=row.id,
            name=row.name,
            service=row.service,
            url=row.url_shown,
            types=list(row.types),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class ChannelsRead(ApiModel):
    channels: list[ChannelRead]
    types: list[str]
    """The alert types a channel can be sent."""


class ChannelWrite(RequestModel):
    """A saved channel keeps its URL unless `url` is given; a new one (no `id`) needs it."""

    # A UUID is a string in JSON, which strict mode would refuse.
    id: uuid.UUID | None = Field(default=None, strict=False)
    name: str = Field(default="", max_length=100)
    url: str | None = Field(default=None, max_length=2000)
    types: list[AlertType] = Field(max_length=3)


class ChannelsUpdate(RequestModel):
    channels: list[ChannelWrite] = Field(max_length=MAX_CHANNELS)


class ChannelTest(RequestModel):
    """A saved channel by its `id`, or a `url` not saved yet."""

    id: uuid.UUID | None = Field(default=None, strict=False)
    url: str | None = Field(default=None, max_length=2000)


class ChannelTestResult(ApiModel):
    ok: bool
    error: str | None = None
