"""What MediaNest offers, as data: the navigation and the home page's cards are built from it.

A domain that ships its pages adds its entries; nothing else needs to change.
"""

from __future__ import annotations

from collections.abc import Sequence

from medianest.auth.sessions import Principal
from medianest.web.extensions import Extensions, HomeCard, NavEntry

HOME = NavEntry("home", "Home", "/", "home", order=0)
HELP = NavEntry("help", "Help", "/help", "help", order=80)
ADMIN = NavEntry("admin", "Admin", "/admin", "admin", order=100, admin_only=True)

HELP_CARD = HomeCard(
    "help",
    "Get help",
    "A getting-started guide, answers to common questions and useful links.",
    "/help",
    "help",
    order=80,
)
ADMIN_CARD = HomeCard(
    "admin",
    "Administration",
    "Connect the Plex server, and see who signed in and what changed.",
    "/admin",
    "admin",
    order=100,
    admin_only=True,
)


def _cards(user: Principal) -> Sequence[HomeCard]:
    return (HELP_CARD, ADMIN_CARD)


def register(extensions: Extensions) -> None:
    extensions.add_nav(HOME, HELP, ADMIN)
    extensions.add_home_cards(_cards)
