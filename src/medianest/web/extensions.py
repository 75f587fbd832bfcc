"""What a domain adds to the shell: navigation entries, the administrators' pages, Home's cards
and setup steps, parts of the signed-in layout, banners over every page, and how its "not
connected" page reads.

The shell renders these and knows nothing else of the domains. Entries are placed by `order`
(lower first): Home is 0 and Help 80, so a domain picks where it sits between them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.auth.sessions import Principal


@dataclass(frozen=True, slots=True)
class NavEntry:
    """An entry of the sidebar and the bottom bar."""

    key: str
    label: str
    href: str
    icon: str
    order: int
    admin_only: bool = False


@dataclass(frozen=True, slots=True)
class AdminPage:
    """An entry of the administrators' sub-navigation, shown on every /admin/ page; placed by
    `order` too (the audit log is 10, the users 90)."""

    label: str
    href: str
    order: int


@dataclass(frozen=True, slots=True)
class CardNote:
    """A line under the Home card `card`, saying what it waits for and where that is done."""

    card: str
    text: str
    link: str
    href: str


@dataclass(frozen=True, slots=True)
class HomeCard:
    """Something a person can do, offered on Home."""

    key: str
    title: str
    summary: str
    href: str
    icon: str
    order: int
    admin_only: bool = False
    note: CardNote | None = None


StepState = Literal["done", "todo", "running"]


@dataclass(frozen=True, slots=True)
class SetupStep:
    """One step of the first administrator's setup checklist on Home."""

    title: str
    text: str
    state: StepState
    href: str | None = None
    action: str | None = None
    address: str | None = None
    """An address to show apart, ready to copy."""
    holds_up: CardNote | None = None
    """While the step is not done, this note is shown under the Home card it names."""


@dataclass(frozen=True, slots=True)
class SetupChecklist:
    steps: list[SetupStep]

    @property
    def done(self) -> int:
        return sum(step.state == "done" for step in self.steps)

    @property
    def complete(self) -> bool:
        return self.done == len(self.steps)


@dataclass(frozen=True, slots=True)
class HomeContext:
    """Who Home is shown to, read in the page's unit of work."""

    request: Request
    session: AsyncSession
    user: Principal
    address: str
    """Where people open MediaNest."""


HomeCards = Callable[[Principal], Sequence[HomeCard]]
"""The cards a domain offers this person (a card's wording may depend on how they sign in)."""

SetupSteps = Callable[[HomeContext], Awaitable[Sequence[SetupStep]]]
"""A domain's steps of the setup checklist, read from what is stored; asked for administrators."""

LayoutSlot = Literal["head", "skip_links", "header_actions", "main_top"]
"""`header_actions` is placed twice, beside the brand: at the top of the sidebar (wide screens)
and in the top bar (narrow ones); its macro is given `"sidebar"` or `"topbar"`."""


@dataclass(frozen=True, slots=True)
class LayoutPart:
    """A template of macros named after the layout's slots (`LayoutSlot`), each called in its
    slot on every page in the signed-in layout, with the page's context."""

    template: str
    order: int
    admin_only: bool = False


BannerSeverity = Literal["info", "warning", "critical"]


@dataclass(frozen=True, slots=True)
class Banner:
    """A line over the content of every signed-in page: something down, an announcement."""

    key: str
    """Stable while the banner says the same thing ("broadcast:<id>", "status:plex"): the page
    remembers a dismissed banner by it."""
    severity: BannerSeverity
    text: str
    href: str | None = None
    link: str | None = None
    """The words of the link to `href`."""
    dismissible: bool = True


Banners = Callable[[Principal], Sequence[Banner]]
"""A domain's banners for this person. Asked on every page, so it reads what the domain keeps
in memory, never the database or an upstream."""


@dataclass(frozen=True, slots=True)
class NotConnectedPage:
    """How a page that needs an upstream nobody connected yet explains it, in the full layout.

    The defaults (`core.errors.NotConnected` carries the service and where to connect it) fit
    any service; a domain registers its own wording for the service it needs."""

    title: str
    subject: str
    """What is not connected, in the heading "MediaNest isn't connected to <subject> yet"."""
    for_admins: str
    action: str
    for_others: str
    icon: str = "admin"


_SEVERITY_RANK: dict[BannerSeverity, int] = {"critical": 0, "warning": 1, "info": 2}


def visible(entry: NavEntry | HomeCard | LayoutPart, user: Principal | None) -> bool:
    return not entry.admin_only or (user is not None and user.is_admin)


class Extensions:
    """What the domains of one app registered with its shell."""

    def __init__(self) -> None:
        self._nav: list[NavEntry] = []
        self._admin_pages: list[AdminPage] = []
        self._cards: list[HomeCards] = []
        self._steps: list[tuple[int, SetupSteps]] = []
        self._parts: list[LayoutPart] = []
        self._banners: list[tuple[int, Banners]] = []
        self._not_connected: dict[str, NotConnectedPage] = {}

    def add_nav(self, *entries: NavEntry) -> None:
        self._nav.extend(entries)
        self._nav.sort(key=lambda e: e.order)

    def add_admin_pages(self, *pages: AdminPage) -> None:
        self._admin_pages.extend(pages)
        self._admin_pages.sort(key=lambda p: p.order)

    def add_home_cards(self, cards: HomeCards) -> None:
        self._cards.append(cards)

    def add_setup_steps(self, order: int, steps: SetupSteps) -> None:
        self._steps.append((order, steps))
        self._steps.sort(key=lambda s: s[0])

    def add_layout_part(self, part: LayoutPart) -> None:
        self._parts.append(part)
        self._parts.sort(key=lambda p: p.order)

    def add_banners(self, order: int, banners: Banners) -> None:
        self._banners.append((order, banners))
        self._banners.sort(key=lambda b: b[0])

    def add_not_connected_page(self, service: str, page: NotConnectedPage) -> None:
        self._not_connected[service] = page

    def navigation(self, user: Principal | None) -> list[NavEntry]:
        return [entry for entry in self._nav if visible(entry, user)]

    def admin_pages(self) -> list[AdminPage]:
        return list(self._admin_pages)

    def has_pages(self, key: str) -> bool:
        """Whether the part named `key` has its pages (the Help page mentions only those)."""
        return any(entry.key == key for entry in self._nav)

    def home_cards(self, user: Principal, notes: Sequence[CardNote] = ()) -> list[HomeCard]:
        """What `user` can do now; `notes` are put under the cards they name."""
        by_card = {note.card: note for note in notes}
        cards = [card for offer in self._cards for card in offer(user) if visible(card, user)]
        cards.sort(key=lambda c: c.order)
        return [replace(c, note=by_card[c.key]) if c.key in by_card else c for c in cards]

    async def setup_checklist(self, home: HomeContext) -> SetupChecklist:
        steps = [step for _, contribute in self._steps for step in await contribute(home)]
        return SetupChecklist(steps)

    def layout_parts(self, user: Principal | None) -> list[str]:
        return [part.template for part in self._parts if visible(part, user)]

    def banners(self, user: Principal | None) -> list[Banner]:
        """The banners over `user`'s page, the most severe first (then in domain order)."""
        if user is None:
            return []
        shown = [banner for _, offer in self._banners for banner in offer(user)]
        shown.sort(key=lambda b: _SEVERITY_RANK[b.severity])
        return shown

    def not_connected_page(self, service: str) -> NotConnectedPage:
        return self._not_connected.get(service) or NotConnectedPage(
            title=service,
            subject=service,
            for_admins=f"Connect {service} and everyone can use what it offers here.",
            action=f"Connect {service}",
            for_others="This shows up here once the person who runs this server connects"
            f" {service}. Nothing to do on your side.",
        )
