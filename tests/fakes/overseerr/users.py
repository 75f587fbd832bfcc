"""Overseerr's users: the directory, quotas and the Plex import (server/routes/user, User.ts)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.fakes.overseerr import constants as c
from tests.fakes.overseerr.catalogue import MediaType
from tests.fakes.overseerr.openapi import ApiError
from tests.fakes.overseerr.records import (
    FakeRequest,
    FakeUser,
    imported_user_json,
    now,
    user_json,
)

# `settings.main.defaultPermissions` of a fresh install.
DEFAULT_PERMISSIONS = c.REQUEST


def plex_avatar(plex_id: int) -> str:
    return f"https://plex.tv/users/{plex_id:x}/avatar?c=1700000000"


def page_info(total: int, take: int, skip: int) -> dict[str, int]:
    return {
        "pages": -(-total // take) if take else 0,
        "pageSize": take,
        "results": total,
        "page": -(-skip // take) + 1 if take else 1,
    }


def as_int(value: str | None, default: int) -> int:
    return int(float(value)) if value else default


class UserRules:
    """The user half of the fake's state; `OverseerrState` supplies the attributes."""

    seerr: bool
    users: dict[int, FakeUser]
    requests: dict[int, FakeRequest]
    plex_friends: dict[int, tuple[str, str | None]]
    _ids: dict[str, Any]

    def add_user(
        self,
        display_name: str,
        *,
        plex_id: int | None = None,
        permissions: int = DEFAULT_PERMISSIONS,
        user_type: int = c.PLEX_USER,
        email: str | None = None,
    ) -> int:
        user_id: int = next(self._ids["user"])
        plex = user_type == c.PLEX_USER
        address = email or f"{display_name.lower().replace(' ', '.')}@example.com"
        self.users[user_id] = FakeUser(
            id=user_id,
            email=address.lower(),
            plex_username=display_name if plex else None,
            username=None if plex else display_name,
            plex_id=plex_id,
            user_type=user_type,
            permissions=permissions,
            avatar=plex_avatar(plex_id or user_id)
            if plex
            else f"https://www.gravatar.com/avatar/{user_id:032x}?default=mm&size=200",
        )
        return user_id

    def user(self, user_id: int) -> FakeUser:
        user = self.users.get(user_id)
        if user is None:
            raise ApiError.message(404, "User not found.")
        return user

    def user_out(self, user: FakeUser, *, filtered: bool = False) -> dict[str, Any]:
        count = sum(1 for r in self.requests.values() if r.requested_by == user.id)
        return user_json(user, count, seerr=self.seerr, filtered=filtered)

    def list_users(self, actor: FakeUser, query: dict[str, str]) -> dict[str, Any]:
        take, skip = as_int(query.get("take"), 10), as_int(query.get("skip"), 0)
        users = list(self.users.values())
        sort = query.get("sort")
        if sort == "updated":
            users.sort(key=lambda u: u.updated_at, reverse=True)
        elif sort == "displayname":
            users.sort(key=lambda u: u.display_name.lower())
        elif sort == "requests":
            counts = {u.id: self.user_out(u)["requestCount"] for u in users}
            users.sort(key=lambda u: counts[u.id], reverse=True)
        page = users[skip : skip + take]
        hide = not actor.can(c.MANAGE_USERS)
        return {
            "pageInfo": page_info(len(users), take, skip),
            "results": [self.user_out(u, filtered=hide) for u in page],
        }

    def set_quota(self, user_id: int, media_type: MediaType, limit: int | None, days: int) -> None:
        user = self.users[user_id]
        if media_type == "movie":
            user.movie_quota_limit, user.movie_quota_days = limit, days
        else:
            user.tv_quota_limit, user.tv_quota_days = limit, days

    def quota(self, user: FakeUser) -> dict[str, Any]:
        """`User.getQuota()`: MANAGE_USERS (so ADMIN) bypasses, a limit counts within its days."""
        bypass = user.can(c.MANAGE_USERS)
        result: dict[str, Any] = {}
        for kind, limit, days in (
            ("movie", user.movie_quota_limit, user.movie_quota_days),
            ("tv", user.tv_quota_limit, user.tv_quota_days),
        ):
            limit = 0 if bypass else limit
            since = now() - timedelta(days=days) if days else now()
            used = 0
            if limit:
                mine = [
                    r
                    for r in self.requests.values()
                    if r.requested_by == user.id
                    and r.media_type == kind
                    and r.status != c.REQUEST_DECLINED
                    and r.created_at > since
                ]
                used = len(mine) if kind == "movie" else sum(len(r.seasons) for r in mine)
            entry: dict[str, Any] = {"days": days, "limit": limit, "used": used}
            entry["remaining"] = max(0, limit - used) if limit else None
            entry["restricted"] = bool(limit and limit - used <= 0)
            result[kind] = {k: v for k, v in entry.items() if v is not None}
        return result

    def import_from_plex(self, body: dict[str, Any], plex_ids: list[str] | None) -> list[Any]:
        created: list[Any] = []
        for plex_id, (username, email) in self.plex_friends.items():
            if not email:
                continue
            existing = next(
                (u for u in self.users.values() if u.plex_id == plex_id or u.email == email),
                None,
            )
            if existing is not None:
                existing.avatar, existing.email = plex_avatar(plex_id), email
                existing.plex_username = username
                if existing.user_type == c.LOCAL_USER:
                    existing.user_type, existing.plex_id = c.PLEX_USER, plex_id
                existing.updated_at = now()
                continue
            if plex_ids is None:
                # Overseerr reads `body.plexIds.includes(...)`: a body without the list breaks.
                raise ApiError.message(
                    500, "Cannot read properties of undefined (reading 'includes')"
                )
            if str(plex_id) in plex_ids:
                user_id = self.add_user(username, plex_id=plex_id, email=email)
                created.append(imported_user_json(self.users[user_id]))
        return created
