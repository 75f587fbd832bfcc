"""What Home offers depends on how a person signs in."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from medianest.app import create_app
from medianest.auth.sessions import Principal
from medianest.web import WebShell
from medianest.web.extensions import HomeCard
from tests.conftest import SettingsFactory


def person(*, has_password: bool, plex_linked: bool, role: str = "user") -> Principal:
    return Principal(
        id=uuid.uuid4(),
        username="alice",
        email=None,
        role=role,
        status="active",
        thumb=None,
        totp_enabled=False,
        requires_password_change=False,
        has_password=has_password,
        plex_linked=plex_linked,
        session_id=uuid.uuid4(),
    )


HomeCards = Callable[[Principal], list[HomeCard]]


@pytest.fixture
def home_cards(make_settings: SettingsFactory) -> HomeCards:
    """The cards of Home in an app with every domain's pages."""
    web: WebShell = create_app(make_settings()).state.web
    return web.extensions.home_cards


def account_card(home_cards: HomeCards, user: Principal) -> str:
    return next(card.summary for card in home_cards(user) if card.key == "account")


def test_a_plex_user_is_not_told_to_change_a_password_they_do_not_have(
    home_cards: HomeCards,
) -> None:
    summary = account_card(home_cards, person(has_password=False, plex_linked=True))

    assert "password" not in summary
    assert "two-factor" not in summary
    assert "devices" in summary


def test_a_password_user_is_offered_password_and_two_factor(home_cards: HomeCards) -> None:
    summary = account_card(home_cards, person(has_password=True, plex_linked=False))

    assert "Change your password" in summary
    assert "two-factor" in summary


def test_only_built_parts_are_offered(home_cards: HomeCards) -> None:
    keys = [
        card.key for card in home_cards(person(has_password=True, plex_linked=False, role="admin"))
    ]

    assert keys == ["library", "requests", "status", "help", "account", "admin"]
