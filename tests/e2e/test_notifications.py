"""A person with unread notifications sees how many on the bell of every page, opens the inbox,
reads them one by one (an opened one takes them where it links) or all at once, deletes one,
and the bell follows along; on a phone the bell sits in the top bar."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import (
    MOBILE,
    WIDE,
    ContextFactory,
    Site,
    add_user,
    horizontal_overflow,
    screenshot,
    sign_in,
)
from tests.factories.notifications import make_notification
from tests.factories.users import PASSWORD

pytestmark = pytest.mark.browser


def _notify(site: Site, user_id: uuid.UUID, **fields: Any) -> None:
    # Playwright's event loop holds this thread, so the database is written from another one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(
            lambda: asyncio.run(make_notification(site.database_url, user_id, **fields))
        ).result()


def _bell(page: Page) -> Locator:
    """The bell where this screen shows it (the sidebar's, or the top bar's on a phone)."""
    return page.locator("a[data-bell]:visible")


def _item(page: Page, title: str) -> Locator:
    return page.locator("[data-notification]").filter(
        has=page.locator(".notification-title", has_text=title)
    )


@pytest.fixture
def nora(site: Site) -> uuid.UUID:
    user = add_user(site, username="nora")
    _notify(site, user.id, title="Dune: Part Two is available", link="/help", severity="success")
    _notify(
        site,
        user.id,
        type="download.failed",
        title="The playlist did not download",
        message="YouTube refused it; try again later.",
        severity="critical",
    )
    _notify(
        site,
        user.id,
        type="broadcast",
        title="Maintenance tonight",
        message="Plex restarts at 22:00 for an update.",
        severity="warning",
    )
    return user.id


def test_the_bell_counts_what_is_unread_while_the_inbox_is_read(
    new_context: ContextFactory, site: Site, nora: uuid.UUID
) -> None:
    context = new_context(WIDE)
    sign_in(context, "nora", PASSWORD)
    page = context.new_page()
    page.goto("/")

    bell = _bell(page)
    expect(bell).to_have_accessible_name("Notifications, 3 unread")
    expect(bell.locator("[data-bell-count]")).to_have_text("3")
    screenshot(page, "notifications-bell-1440")

    bell.click()
    expect(page).to_have_url(site.at("/notifications"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    expect(page.locator(".notification-title")).to_contain_text(
        ["Maintenance tonight", "The playlist did not download", "Dune: Part Two is available"]
    )
    expect(page.locator("[data-unread-badge]")).to_have_count(3)
    expect(_bell(page)).to_have_attribute("aria-current", "page")
    screenshot(page, "notifications-inbox-1440")

    # Marking one read: it loses its mark, the bell counts one fewer.
    maintenance = _item(page, "Maintenance tonight")
    maintenance.get_by_role("button", name="Mark as read: Maintenance tonight").click()
    expect(maintenance.locator("[data-unread-badge]")).to_have_count(0)
    expect(_bell(page)).to_have_accessible_name("Notifications, 2 unread")
    expect(page.locator("[data-unread-summary]")).to_have_text("2 unread")

    # Opening one marks it read and follows its link.
    page.get_by_role("link", name="Dune: Part Two is available").click()
    expect(page).to_have_url(site.at("/help"))
    expect(_bell(page)).to_have_accessible_name("Notifications, 1 unread")

    # Something new arrives while the person is away; coming back to the tab shows it.
    _notify(site, nora, title="Your request was approved", type="request.status")
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(_bell(page)).to_have_accessible_name("Notifications, 2 unread")

    page.goto("/notifications")
    page.get_by_role("button", name="Mark all as read").click()
    expect(page.get_by_role("status")).to_have_text("Marked 2 notifications as read.")
    expect(_bell(page)).to_have_accessible_name("Notifications")
    expect(_bell(page).locator("[data-bell-count]")).to_be_hidden()
    expect(page.get_by_role("button", name="Mark all as read")).to_be_hidden()
    expect(page.locator("[data-unread-badge]")).to_have_count(0)
    expect(page.locator("[data-unread-summary]")).to_have_text("Nothing unread")

    _item(page, "The playlist did not download").get_by_role(
        "button", name="Delete: The playlist did not download"
    ).click()
    expect(page.get_by_role("status")).to_have_text("Deleted “The playlist did not download”.")
    expect(page.locator("[data-notification]")).to_have_count(3)
    page.reload()
    expect(page.locator("[data-notification]")).to_have_count(3)
    expect(_item(page, "The playlist did not download")).to_have_count(0)


def test_on_a_phone_the_bell_is_in_the_top_bar(
    new_context: ContextFactory, site: Site, nora: uuid.UUID
) -> None:
    context = new_context(MOBILE)
    sign_in(context, "nora", PASSWORD)
    page = context.new_page()
    page.goto("/")
    bell = _bell(page)
    expect(bell).to_have_accessible_name("Notifications, 3 unread")
    expect(page.locator(".topbar").locator("a[data-bell]")).to_be_visible()
    assert horizontal_overflow(page) <= 0
    screenshot(page, "notifications-bell-375")

    bell.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    assert horizontal_overflow(page) <= 0
    screenshot(page, "notifications-inbox-375")

    for title in ("Maintenance tonight", "The playlist did not download", "Dune"):
        _item(page, title).get_by_role("button", name="Delete").click()
        expect(_item(page, title)).to_have_count(0)
    expect(page.get_by_text("No notifications yet.")).to_be_visible()
    expect(_bell(page)).to_have_accessible_name("Notifications")
    screenshot(page, "notifications-empty-375")
