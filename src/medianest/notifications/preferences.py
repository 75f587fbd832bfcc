"""What each person chose to be told of, and how: in the inbox, by push, type by type.

The default is both, so a person who never changed anything has no rows, and only a choice that
differs from it is stored. `Audience` answers for a whole batch of recipients in one query
(`audience()`), since `NotificationService.notify_many` runs on the webhook's path: reading
each recipient's choices apart would cost one round trip per person.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from sqlalchemy import (
    Boolean,
    String,
    cast,
    delete,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

from medianest.auth.sessions import Principal
from medianest.core.errors import ValidationFailed
from medianest.notifications.models import (
    ADMIN_TYPES,
    TYPE_ORDER,
    NotificationPreference,
    PushSubscription,
)
from medianest.notifications.statements import insert_for


@dataclass(frozen=True, slots=True)
class Choice:
    """How one type reaches a person: into their inbox, and pushed to their browsers."""

    in_app: bool = True
    push: bool = True


DEFAULT = Choice()


def offered(is_admin: bool) -> tuple[str, ...]:
    """The types a person may choose about, in the settings page's order: only administrators
    are told when a service goes down or comes back."""
    return tuple(t for t in TYPE_ORDER if is_admin or t not in ADMIN_TYPES)


class UnknownType(ValidationFailed):
    pass


@dataclass(frozen=True, slots=True)
class Audience:
    """The choices of one batch's recipients, and which of them have a browser subscribed."""

    choices: Mapping[tuple[uuid.UUID, str], Choice] = field(default_factory=dict)
    subscribed: Collection[uuid.UUID] = frozenset()

    def choice(self, user_id: uuid.UUID, type: str) -> Choice:
        return self.choices.get((user_id, type), DEFAULT)

    def pushed(self, user_id: uuid.UUID, type: str) -> bool:
        return user_id in self.subscribed and self.choice(user_id, type).push


async def audience(
    session: AsyncSession,
    user_ids: Collection[uuid.UUID],
    types: Collection[str],
    *,
    with_subscriptions: bool,
) -> Audience:
    """The stored choices of `user_ids` about `types` and, with `with_subscriptions`, who of
    them has a push subscription: one query, whatever the number of people."""
    if not user_ids:
        return Audience()
    stored = select(
        NotificationPreference.user_id,
        NotificationPreference.type,
        NotificationPreference.in_app,
        NotificationPreference.push,
    ).where(NotificationPreference.user_id.in_(user_ids), NotificationPreference.type.in_(types))
    query: Executable = stored
    if with_subscriptions:
        # Subscribers come back in the same answer, as rows without a type.
        subscribers = (
            select(
                PushSubscription.user_id,
                cast(null(), String),
                cast(null(), Boolean),
                cast(null(), Boolean),
            )
            .where(PushSubscription.user_id.in_(user_ids))
            .distinct()
        )
        query = union_all(stored, subscribers)
    choices: dict[tuple[uuid.UUID, str], Choice] = {}
    subscribed: set[uuid.UUID] = set()
    for user_id, type, in_app, push in (await session.execute(query)).all():
        if type is None:
            subscribed.add(user_id)
        else:
            choices[(user_id, type)] = Choice(in_app=in_app, push=push)
    return Audience(choices, subscribed)


class PreferenceService:
    async def choices(self, session: AsyncSession, principal: Principal) -> dict[str, Choice]:
        """Every type the person is offered, with what they chose (the default where nothing)."""
        rows = await session.execute(
            select(
                NotificationPreference.type,
                NotificationPreference.in_app,
                NotificationPreference.push,
            ).where(NotificationPreference.user_id == principal.id)
        )
        stored = {t: Choice(in_app=in_app, push=push) for t, in_app, push in rows.all()}
        return {t: stored.get(t, DEFAULT) for t in offered(principal.is_admin)}

    async def choose(
        self, session: AsyncSession, principal: Principal, chosen: Mapping[str, Choice]
    ) -> dict[str, Choice]:
        """Set the person's choice for each type in `chosen` (the others stay as they were);
        returns all their choices. Raises UnknownType for a type they are not offered."""
        allowed = offered(principal.is_admin)
        unknown = [t for t in chosen if t not in allowed]
        if unknown:
            raise UnknownType(
                "Choose only among the notification types listed for you.",
                details=[
                    {"field": f"types.{t}", "message": "Not a notification type you can choose."}
                    for t in unknown
                ],
            )
        back_to_default = [t for t, choice in chosen.items() if choice == DEFAULT]
        if back_to_default:
            await session.execute(
                delete(NotificationPreference).where(
                    NotificationPreference.user_id == principal.id,
                    NotificationPreference.type.in_(back_to_default),
                )
            )
        rows = [
            {"user_id": principal.id, "type": t, "in_app": c.in_app, "push": c.push}
            for t, c in chosen.items()
            if c != DEFAULT
        ]
        if rows:
            insert = insert_for(session, NotificationPreference)
            # Two tabs saving at once both write; the last one wins, neither fails.
            await session.execute(
                insert.on_conflict_do_update(
                    index_elements=["user_id", "type"],
                    set_={"in_app": insert.excluded.in_app, "push": insert.excluded.push},
                ),
                rows,
            )
        return await self.choices(session, principal)
