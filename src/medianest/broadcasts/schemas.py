"""The announcements API's shapes (API.md, "Admin": broadcast)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from medianest.broadcasts.models import MESSAGE_LENGTH, SEVERITIES, TITLE_LENGTH, Severity
from medianest.core.db import utc_now
from medianest.core.schemas import ApiModel, RequestModel

LONGEST = timedelta(days=365)

BroadcastStatus = Literal["active", "expired", "withdrawn"]


def _problem(kind: str, message: str) -> PydanticCustomError:
    # A custom error's message is shown as it is, beside the field on the page: no "Value error,"
    # in front of it as a plain ValueError would get.
    return PydanticCustomError(f"broadcast_{kind}", message)


def _text(value: str, *, what: str, limit: int) -> str:
    if not value:
        raise _problem(what, f"Write the announcement's {what}.")
    if len(value) > limit:
        raise _problem(
            what,
            f"Keep the {what} to {limit:,} characters or fewer; it has {len(value):,}.",
        )
    return value


class BroadcastCreate(RequestModel):
    title: str
    message: str
    severity: Severity = "info"
    # JSON has no date type: the moment comes as ISO 8601 text, the one place this body is not
    # strict about types.
    expires_at: datetime | None = Field(default=None, strict=False)

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        return _text(value, what="title", limit=TITLE_LENGTH)

    @field_validator("message")
    @classmethod
    def _message(cls, value: str) -> str:
        return _text(value, what="message", limit=MESSAGE_LENGTH)

    @field_validator("severity", mode="before")
    @classmethod
    def _severity(cls, value: Any) -> Any:
        if value not in SEVERITIES:
            raise _problem("severity", "Choose how important it is: info, warning or critical.")
        return value

    @field_validator("expires_at")
    @classmethod
    def _expires_at(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise _problem("expiry", "Give the end with its time zone, like 2026-12-24T18:00:00Z.")
        now = utc_now()
        if value <= now:
            raise _problem("expiry", "Choose an end in the future, or none to keep it up.")
        if value > now + LONGEST:
            raise _problem("expiry", "An announcement can stay up for a year at most.")
        return value


class UserRef(ApiModel):
    id: uuid.UUID
    username: str


class BroadcastRead(ApiModel):
    id: uuid.UUID
    title: str
    message: str
    severity: Severity
    status: BroadcastStatus
    created_at: datetime
    created_by: UserRef | None
    expires_at: datetime | None
    withdrawn_at: datetime | None


class BroadcastSent(BroadcastRead):
    recipients: int
    """How many people it reached in their inbox: every active account."""
