"""The notifications API's shapes (API.md, "Notifications"): the inbox, each person's
preferences and their browsers' push subscriptions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Self

from pydantic import Field, StringConstraints

from medianest.core.schemas import ApiModel, Envelope, PageMeta, RequestModel
from medianest.notifications.models import TYPE_ORDER, Notification
from medianest.notifications.push_addresses import ENDPOINT_LENGTH


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


TypeName = Annotated[str, StringConstraints(min_length=1, max_length=40)]


class TypeChoice(ApiModel):
    in_app: bool
    push: bool


class TypeChoiceUpdate(RequestModel):
    in_app: bool
    push: bool


class PreferencesRead(ApiModel):
    """Every type the person is offered (`service.*` only to administrators), with how it
    reaches them: into the inbox, and pushed to the browsers they turned notifications on in."""

    types: dict[str, TypeChoice]


class PreferencesUpdate(RequestModel):
    """The types to change; the others stay as they are."""

    types: dict[TypeName, TypeChoiceUpdate] = Field(max_length=len(TYPE_ORDER))


class PushKeyRead(ApiModel):
    public_key: str
    """MediaNest's VAPID public key: base64url of the uncompressed P-256 point, what
    `pushManager.subscribe({applicationServerKey})` takes."""


class PushSubscriptionKeys(RequestModel):
    p256dh: str = Field(min_length=1, max_length=200)
    auth: str = Field(min_length=1, max_length=100)


class PushSubscriptionCreate(RequestModel):
    """A browser's `PushSubscription.toJSON()`."""

    endpoint: str = Field(min_length=1, max_length=ENDPOINT_LENGTH)
    keys: PushSubscriptionKeys
    expiration_time: float | None = None


class PushSubscriptionRead(ApiModel):
    id: uuid.UUID
    created_at: datetime


class PushSubscriptionDelete(RequestModel):
    endpoint: str = Field(min_length=1, max_length=ENDPOINT_LENGTH)
