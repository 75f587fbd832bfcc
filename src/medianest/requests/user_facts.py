"""What requests tell administrators about each user (`admin.facts`): how many requests they
made and how many of those are still open. It is the Requests column of the users page, and each
user's `facts.requests` in `GET /api/v1/admin/users`: `{text, note, data: {total, open}}`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from medianest.admin.facts import UserFact, UserFacts
from medianest.requests.mine import MyRequests, RequestCounts


def request_facts(mine: MyRequests) -> UserFacts:
    async def read(
        session: AsyncSession, user_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, UserFact]:
        counts = await mine.counts_for(session, user_ids)
        return {user_id: _fact(found) for user_id, found in counts.items()}

    return UserFacts("requests", "Requests", order=10, read=read)


def _fact(counts: RequestCounts) -> UserFact:
    data = {"total": counts.total, "open": counts.open}
    if not counts.total:
        return UserFact("None", data)
    return UserFact(str(counts.total), data, note=f"{counts.open or 'none'} open")
