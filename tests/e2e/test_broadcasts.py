"""An administrator sends an announcement from Admin → Announcements; a member sees its banner
over every page and the item in their inbox, closes the banner and it stays closed on the next
page; once withdrawn the banner is gone for everyone, the inbox item stays. The Activity page
counts who came."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import (
    MOBILE,
    ContextFactory,
    Site,
    add_user,
    horizontal_overflow,
    screenshot,
    set_up_admin,
    sign_in,
)
from tests.factories.users import PASSWORD

pytestmark = pytest.mark.browser

ZONE = "Europe/Paris"
TITLE = "Maintenance tonight"
MESSAGE = "Plex restarts at 22:00 for an update; it is back ten minutes later."


def _banner(page: Page) -> Locator:
    return page.locator(".site-banner").filter(has_text=TITLE)


def _announcements(page: Page) -> None:
    page.goto("/admin/announcements")
    expect(page.get_by_role("heading", level=1)).to_have_text("Announcements")


def test_a_member_sees_the_announcement_until_they_close_it_or_it_is_withdrawn(
    new_context: ContextFactory, site: Site
) -> None:
    add_user(site, username="nora")
    admin = new_context(timezone_id=ZONE, locale="en-US")
    set_up_admin(admin)
    page = admin.new_page()
    _announcements(page)
    expect(page.get_by_text("No announcements yet.")).to_be_visible()

    # Nothing written: the page says what is missing beside each box.
    page.get_by_role("button", name="Send to everyone").click()
    expect(page.get_by_text("Write the announcement's title.")).to_be_visible()
    expect(page.get_by_text("Write the announcement's message.")).to_be_visible()
    expect(page.get_by_label("Title", exact=True)).to_be_focused()

    # An end already past is refused beside its box.
    page.get_by_label("Title", exact=True).fill(TITLE)
    page.get_by_label("Message", exact=True).fill(MESSAGE)
    page.get_by_label("How important").select_option("warning")
    yesterday = datetime.now(ZoneInfo(ZONE)) - timedelta(days=1)
    page.get_by_label("Ends").fill(yesterday.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Send to everyone").click()
    expect(page.get_by_text("Choose an end in the future, or none to keep it up.")).to_be_visible()

    # Ends in two days at 18:00, Paris time, as the box reads it.
    ends = (datetime.now(ZoneInfo(ZONE)) + timedelta(days=2)).replace(hour=18, minute=0)
    page.get_by_label("Ends").fill(ends.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Send to everyone").click()
    expect(page.get_by_role("status").filter(has_text="Sent")).to_have_text(
        f"Sent “{TITLE}” to 2 people. It shows over every page until it ends."
    )
    listed = page.locator("[data-announcement]").filter(has_text=TITLE)
    expect(listed.locator("[data-announcement-status]")).to_have_text("Showing")
    expect(listed).to_contain_text("6:00 PM")
    expect(_banner(page)).to_be_visible()
    screenshot(page, "announcements-1280")

    member = new_context()
    sign_in(member, "nora", PASSWORD)
    nora = member.new_page()
    nora.goto("/")
    banner = _banner(nora)
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(f"{TITLE}: {MESSAGE}")
    expect(nora.locator("a[data-bell]:visible")).to_have_accessible_name("Notifications, 1 unread")
    screenshot(nora, "announcement-banner-1280")

    nora.goto("/notifications")
    item = nora.locator("[data-notification]").filter(has_text=TITLE)
    expect(item).to_contain_text(MESSAGE)
    expect(item).to_contain_text("Announcement")
    expect(item.locator(".badge-warning")).to_have_text("Warning")

    # Closed, it stays closed on the next page.
    _banner(nora).get_by_role("button", name="Hide this message").click()
    expect(_banner(nora)).to_be_hidden()
    nora.goto("/help")
    expect(nora.get_by_role("heading", level=1)).to_be_visible()
    expect(_banner(nora)).to_be_hidden()

    # Withdrawn after saying what that does: gone for everyone, the inbox item stays.
    _announcements(page)
    page.get_by_role("button", name=f"Withdraw: {TITLE}").click()
    dialog = page.get_by_role("alertdialog", name="Withdraw this announcement?")
    expect(dialog).to_contain_text("It stays in the notifications of the people it reached")
    dialog.get_by_role("button", name="Withdraw").click()
    expect(page.get_by_role("status").filter(has_text="Withdrew")).to_have_text(
        f"Withdrew “{TITLE}”. It no longer shows over anyone's pages."
    )
    expect(listed.locator("[data-announcement-status]")).to_have_text("Withdrawn")
    expect(page.get_by_role("button", name=f"Withdraw: {TITLE}")).to_have_count(0)
    expect(_banner(page)).to_have_count(0)

    other = new_context()
    sign_in(other, "nora", PASSWORD)
    fresh = other.new_page()
    fresh.goto("/notifications")
    expect(_banner(fresh)).to_have_count(0)
    expect(fresh.locator("[data-notification]").filter(has_text=TITLE)).to_have_count(1)


def test_cancelling_a_withdrawal_keeps_it_up(new_context: ContextFactory, site: Site) -> None:
    admin = new_context()
    set_up_admin(admin)
    page = admin.new_page()
    _announcements(page)
    page.get_by_label("Title", exact=True).fill("Plex is back!")
    page.get_by_label("Message", exact=True).fill("Everything works again.")
    page.get_by_role("button", name="Send to everyone").click()
    expect(page.get_by_role("status").filter(has_text="Sent")).to_have_text(
        "Sent “Plex is back!” to 1 person. It shows over every page until you withdraw it."
    )
    page.get_by_role("button", name="Withdraw: Plex is back!").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Keep it").click()
    expect(page.get_by_role("alertdialog")).to_be_hidden()
    expect(page.get_by_role("button", name="Withdraw: Plex is back!")).to_be_focused()
    page.reload()
    expect(page.locator(".site-banner").filter(has_text="Plex is back!")).to_be_visible()


def test_on_a_phone_the_pages_fit(new_context: ContextFactory, site: Site) -> None:
    admin = new_context(MOBILE)
    set_up_admin(admin)
    page = admin.new_page()
    _announcements(page)
    page.get_by_label("Title", exact=True).fill(TITLE)
    page.get_by_label("Message", exact=True).fill(MESSAGE)
    page.get_by_label("How important").select_option("critical")
    page.get_by_role("button", name="Send to everyone").click()
    expect(page.get_by_role("alert").filter(has_text=TITLE)).to_be_visible()
    assert horizontal_overflow(page) <= 0
    screenshot(page, "announcements-375")

    page.goto("/admin/activity")
    expect(page.get_by_role("heading", level=1)).to_have_text("Activity")
    expect(page.locator('[data-active="h24"]')).to_have_text("1")
    assert horizontal_overflow(page) <= 0
    screenshot(page, "activity-375")
