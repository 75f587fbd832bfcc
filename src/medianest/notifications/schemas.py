"""The notifications API's shapes (API.md, "Notifications")."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

from medianest.core.schemas import ApiModel, Envelope, PageMeta
from medianest.notifications.models import Notification


class NotificationRead(ApiModel):
    """A notification as the inbox lists it; also the data of a `notification.created` push."""

    id: uuid.UUID
    type: str
    title: str
    message: str
    link: str | None = None
    severity: str
    read: bool
    created_at: datetime

    @classmethod
    def of(cls, notification: Notification) -> Self:
        return cls.model_validate(notification)


class NotificationPageMeta(PageMeta):
    unread_count: int


class NotificationPage(Envelope[list[NotificationRead]]):
    meta: NotificationPageMeta


class ReadAll(ApiModel):
    updated: int


class UnreadCount(ApiModel):
    unread_count: int
