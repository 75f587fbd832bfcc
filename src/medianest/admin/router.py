"""`/api/v1/admin`: users, the audit log and the statistics (administrators only)."""

from __future__ import annotations

import math
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from medianest.admin.schemas import (
    AccountsRead,
    AdminUserRead,
    AuditEntryRead,
    DevicesRead,
    FamilyRead,
    ResetLinkRead,
    SignInsRead,
    StatsRead,
    UserFactRead,
    UserUpdate,
    WindowedRead,
)
from medianest.admin.service import AdminService, Stats, UserEntry, UserSort
from medianest.auth.deps import AdminUser, ClientDep
from medianest.auth.views import user_read
from medianest.core.deps import DbSession
from medianest.core.schemas import Envelope, PageMeta

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


async def _service(request: Request) -> AdminService:
    service: AdminService = request.state.services.admin
    return service


AdminServiceDep = Annotated[AdminService, Depends(_service)]
Page = Annotated[int, Query(ge=1)]
PageSize = Annotated[int, Query(alias="pageSize", ge=1, le=100)]


def _meta(page: int, page_size: int, total: int) -> PageMeta:
    return PageMeta(
        page=page, page_size=page_size, total=total, total_pages=math.ceil(total / page_size)
    )


def _admin_user(entry: UserEntry) -> AdminUserRead:
    user = entry.managed.user
    return AdminUserRead(
        **user_read(user).model_dump(),
        status=user.status,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
        last_seen_at=entry.managed.last_seen_at,
        facts={
            key: UserFactRead(text=fact.text, note=fact.note, data=dict(fact.data))
            for key, fact in entry.facts.items()
        },
    )


@router.get("/users", response_model=Envelope[list[AdminUserRead]])
async def list_users(
    _: AdminUser,
    session: DbSession,
    admin: AdminServiceDep,
    page: Page = 1,
    page_size: PageSize = 20,
    search: Annotated[str | None, Query(max_length=100)] = None,
    role: Literal["admin", "user"] | None = None,
    status: Literal["active", "suspended"] | None = None,
    sort: UserSort = "username",
) -> Envelope[list[AdminUserRead]]:
    users, total = await admin.list_users(
        session, page=page, page_size=page_size, search=search, role=role, status=status, sort=sort
    )
    return Envelope(data=[_admin_user(u) for u in users], meta=_meta(page, page_size, total))


@router.patch("/users/{user_id}", response_model=Envelope[AdminUserRead])
async def update_user(
    user_id: uuid.UUID,
    body: UserUpdate,
    principal: AdminUser,
    session: DbSession,
    admin: AdminServiceDep,
    client: ClientDep,
) -> Envelope[AdminUserRead]:
    user = await admin.update_user(
        session,
        principal,
        user_id,
        role=body.role,
        status=body.status,
        actor=client.actor(principal),
    )
    return Envelope(data=_admin_user(user))


@router.delete("/users/{user_id}", status_code=204)
async def delete_user(
    user_id: uuid.UUID,
    principal: AdminUser,
    session: DbSession,
    admin: AdminServiceDep,
    client: ClientDep,
) -> None:
    await admin.users.delete_user(session, principal, user_id, actor=client.actor(principal))


@router.post("/users/{user_id}/password-reset-link", response_model=Envelope[ResetLinkRead])
async def password_reset_link(
    user_id: uuid.UUID,
    principal: AdminUser,
    session: DbSession,
    admin: AdminServiceDep,
    client: ClientDep,
) -> Envelope[ResetLinkRead]:
    link = await admin.reset_link(session, user_id, actor=client.actor(principal))
    return Envelope(data=ResetLinkRead(url=link.url, expires_at=link.expires_at))


@router.get("/audit-log", response_model=Envelope[list[AuditEntryRead]])
async def audit_log(
    _: AdminUser,
    session: DbSession,
    admin: AdminServiceDep,
    page: Page = 1,
    page_size: PageSize = 20,
    actor: Annotated[str | None, Query(max_length=100)] = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
) -> Envelope[list[AuditEntryRead]]:
    entries, total = await admin.audit_log(
        session, page=page, page_size=page_size, actor=actor, action=action
    )
    return Envelope(
        data=[AuditEntryRead.model_validate(e) for e in entries], meta=_meta(page, page_size, total)
    )


def _stats(stats: Stats) -> StatsRead:
    return StatsRead(
        as_of=stats.as_of,
        users=AccountsRead.model_validate(stats.accounts),
        active_users=WindowedRead.model_validate(stats.active_users),
        sign_ins=[
            SignInsRead(method=m.method, **WindowedRead.model_validate(m.counts).model_dump())
            for m in stats.sign_ins
        ],
        devices=DevicesRead(
            browsers=[FamilyRead.model_validate(f) for f in stats.browsers],
            systems=[FamilyRead.model_validate(f) for f in stats.systems],
        ),
    )


@router.get("/stats", response_model=Envelope[StatsRead])
async def stats(_: AdminUser, session: DbSession, admin: AdminServiceDep) -> Envelope[StatsRead]:
    """Accounts; people active over the last 24 hours, 7 and 30 days (a session used or a
    sign-in); sign-ins by method over the same spans; the browsers and systems of the sessions
    used in the last 30 days."""
    return Envelope(data=_stats(await admin.stats(session)))
