"""Admin request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from medianest.admin.facts import FactValue
from medianest.auth.schemas import UserRead
from medianest.core.schemas import ApiModel, RequestModel


class UserFactRead(ApiModel):
    text: str
    note: str | None
    data: dict[str, FactValue]


class AdminUserRead(UserRead):
    status: str
    created_at: datetime
    last_login_at: datetime | None
    # The latest use of any of the user's sign-ins; a remembered device keeps it current.
    last_seen_at: datetime | None
    # What other domains say of the user, by their key (`admin.facts`): `requests` for instance.
    facts: dict[str, UserFactRead]


class UserUpdate(RequestModel):
    role: Literal["admin", "user"] | None = None
    status: Literal["active", "suspended"] | None = None


class ResetLinkRead(ApiModel):
    url: str
    expires_at: datetime


class AuditEntryRead(ApiModel):
    id: uuid.UUID
    created_at: datetime
    actor_id: uuid.UUID | None
    actor_name: str | None
    action: str
    target_type: str | None
    target_id: str | None
    ip: str | None
    details: dict[str, Any]


class Paging(ApiModel):
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=20, ge=1, le=100)


class WindowedRead(ApiModel):
    """A count over the last 24 hours, 7 days and 30 days (named as the status uptimes are)."""

    h24: int
    d7: int
    d30: int


class AccountsRead(ApiModel):
    total: int
    active: int
    suspended: int
    admins: int


class SignInsRead(WindowedRead):
    method: str


class FamilyRead(ApiModel):
    name: str
    sessions: int


class DevicesRead(ApiModel):
    """The sessions used in the last 30 days, by browser and by system, the most used first."""

    browsers: list[FamilyRead]
    systems: list[FamilyRead]


class StatsRead(ApiModel):
    as_of: datetime
    users: AccountsRead
    active_users: WindowedRead
    """People who used a session or signed in within each span."""
    sign_ins: list[SignInsRead]
    devices: DevicesRead
