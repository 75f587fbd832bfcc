"""What MediaNest offers, as data: the navigation and the home page's cards are built from it.

A domain that ships its pages flips `ready` (or adds an entry); nothing else needs to change.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from medianest.auth.sessions import Principal


@dataclass(frozen=True, slots=True)
class Feature:
    key: str
    label: str
    href: str
    icon: str
    card_title: str = ""
    summary: str = ""
    # False while its pages are not built: no navigation entry, no card, no mention in Help.
    ready: bool = True
    admin_only: bool = False
    on_home: bool = True


FEATURES: tuple[Feature, ...] = (
    Feature("home", "Home", "/", "home", on_home=False),
    Feature(
        "library",
        "Library",
        "/library",
        "library",
        "Browse the library",
        "See everything on the Plex server and find something to watch.",
    ),
    Feature(
        "requests",
        "Requests",
        "/requests",
        "requests",
        "Request a movie or show",
        "Ask for something that is not in the library yet and follow its progress.",
        ready=False,
    ),
    Feature(
        "youtube",
        "YouTube",
        "/youtube",
        "youtube",
        "Download a YouTube playlist",
        "Paste a playlist link and watch it in Plex once it is downloaded.",
        ready=False,
    ),
    Feature(
        "status",
        "Status",
        "/status",
        "status",
        "Check service status",
        "See at a glance whether Plex and the other services are up.",
        ready=False,
    ),
    Feature(
        "help",
        "Help",
        "/help",
        "help",
        "Get help",
        "A getting-started guide, answers to common questions and useful links.",
    ),
    Feature(
        "account",
        "Account",
        "/account",
        "account",
        "Your account",
        "Change your password, turn on two-factor sign-in and see your devices.",
    ),
    Feature(
        "admin",
        "Admin",
        "/admin",
        "admin",
        "Administration",
        "Connect the Plex server, and see who signed in and what changed.",
        admin_only=True,
    ),
)


ACCOUNT_FOR_PLEX = replace(
    next(f for f in FEATURES if f.key == "account"),
    summary="See the devices you are signed in on, and sign out the ones you no longer use.",
)


def _visible(feature: Feature, user: Principal | None) -> bool:
    return not feature.admin_only or (user is not None and user.is_admin)


def navigation(user: Principal | None) -> list[Feature]:
    """The entries of the sidebar and the bottom bar: only pages that exist."""
    return [f for f in FEATURES if f.ready and _visible(f, user)]


def home_cards(user: Principal | None) -> list[Feature]:
    """What the user can do now: a part that is not built yet is not shown at all."""
    cards = [f for f in FEATURES if f.on_home and f.ready and _visible(f, user)]
    if user is not None and not user.has_password:
        # Signed in with Plex: there is no password here to change, nor a second factor.
        cards = [ACCOUNT_FOR_PLEX if f.key == "account" else f for f in cards]
    return cards


def ready(key: str) -> bool:
    """Whether the part named `key` has its pages (the Help page mentions only those)."""
    return any(f.key == key and f.ready for f in FEATURES)
