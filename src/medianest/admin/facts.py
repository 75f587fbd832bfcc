"""What other domains tell administrators about each user, beside the account itself: a column
of the users page, and an entry of each user's `facts` in `GET /api/v1/admin/users`.

A domain registers its `UserFacts` with the admin service when it is built
(`AdminService.add_user_facts`); admin knows nothing else of it. A reader answers for a whole
page of users at once, in the page's unit of work, so a page costs one query per domain however
many people it lists.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from medianest.auth.directory import ManagedUser

FactValue = bool | int | str | None


@dataclass(frozen=True, slots=True)
class UserFact:
    """One domain's fact about one user."""

    text: str
    """As the users page shows it, under the column's label: "3"."""
    data: Mapping[str, FactValue]
    """The same for API clients, its names in camelCase like the rest of the API."""
    note: str | None = None
    """A few words the page shows smaller beside `text`: "1 open"."""


ReadUserFacts = Callable[
    [AsyncSession, Sequence[uuid.UUID]], Awaitable[Mapping[uuid.UUID, UserFact]]
]
"""The facts about these users, one for each id (a user left out shows as unknown)."""


@dataclass(frozen=True, slots=True)
class UserFacts:
    """A domain's column of the users page."""

    key: str
    """Its name in each user's `facts` in the API."""
    label: str
    """The column's heading, and the label of the value where the table becomes cards."""
    order: int
    """Columns are placed by it (lower first), after how the user signs in."""
    read: ReadUserFacts


@dataclass(frozen=True, slots=True)
class UserEntry:
    """A user as administrators list them: the account, and what the domains say of them."""

    managed: ManagedUser
    facts: Mapping[str, UserFact]
