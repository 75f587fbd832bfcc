"""Getting around with the keyboard: a skip link to the search, and "/" to start searching."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ContextFactory, set_up_admin

pytestmark = pytest.mark.browser


@pytest.fixture
def admin(new_context: ContextFactory) -> Page:
    context = new_context()
    set_up_admin(context)
    page = context.new_page()
    page.goto("/help")
    return page


def test_the_second_tab_stop_skips_to_the_search(admin: Page) -> None:
    admin.keyboard.press("Tab")
    expect(admin.get_by_role("link", name="Skip to content")).to_be_focused()
    admin.keyboard.press("Tab")
    skip = admin.get_by_role("link", name="Skip to search")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()

    admin.keyboard.press("Enter")

    expect(admin.get_by_role("combobox", name="Search the library")).to_be_focused()


def test_slash_starts_a_search_unless_you_are_typing(admin: Page) -> None:
    search = admin.get_by_role("combobox", name="Search the library")

    admin.keyboard.press("/")
    expect(search).to_be_focused()
    expect(search).to_have_value("")

    admin.keyboard.type("a/b")
    expect(search).to_have_value("a/b")
