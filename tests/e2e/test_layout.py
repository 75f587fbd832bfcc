"""Every page, on a desktop and on phones: nothing scrolls sideways, and each is screenshotted."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, ViewportSize, expect

from tests.e2e.conftest import (
    ADMIN_PASSWORD,
    DESKTOP,
    MOBILE,
    SCREENSHOTS,
    ContextFactory,
    api,
    horizontal_overflow,
    screenshot,
    set_up_admin,
    sign_in,
)

pytestmark = pytest.mark.browser

SMALLEST = ViewportSize(width=320, height=640)
VIEWPORTS = {"desktop": DESKTOP, "mobile": MOBILE, "320": SMALLEST}

ANONYMOUS_PAGES = {
    "login": ("/login", "Sign in to MediaNest"),
    "forgot-password": ("/forgot-password", "Forgot your password?"),
    "reset-password": ("/reset-password#token=abcdefghijklmnop", "Choose a new password"),
    "help-signed-out": ("/help", "Help"),
    "not-found-signed-out": ("/no/such/page", "We could not find that page"),
}
SIGNED_IN_PAGES = {
    "home": ("/", "Hi, admin!"),
    "help": ("/help", "Help"),
    "account": ("/account", "Your account"),
    "audit-log": ("/admin/audit-log", "Audit log"),
    "admin-users": ("/admin/users", "Users"),
    "notifications": ("/notifications", "Notifications"),
    "not-found": ("/nothing/here", "We could not find that page"),
}


def _check(context: BrowserContext, viewport: str, name: str, path: str, heading: str) -> None:
    page = context.new_page()
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    assert horizontal_overflow(page) <= 0, f"{name} scrolls sideways at {viewport} px"
    if viewport != "320":
        screenshot(page, f"{name}-{viewport}")
    page.close()


def test_every_page_fits_the_screen_from_desktop_to_a_small_phone(
    new_context: ContextFactory,
) -> None:
    for viewport, size in VIEWPORTS.items():
        anonymous = new_context(size)
        for name, (path, heading) in ANONYMOUS_PAGES.items():
            _check(anonymous, viewport, name, path, heading)

    first_run = {viewport: new_context(size) for viewport, size in VIEWPORTS.items()}
    for viewport, context in first_run.items():
        sign_in(context, "admin", "admin")
        _check(context, viewport, "change-password", "/change-password", "Choose your password")
    api(
        first_run["desktop"],
        "POST",
        "/auth/change-password",
        {"currentPassword": "admin", "newPassword": ADMIN_PASSWORD},
    )

    for viewport, size in VIEWPORTS.items():
        signed_in = new_context(size)
        sign_in(signed_in)
        for name, (path, heading) in SIGNED_IN_PAGES.items():
            _check(signed_in, viewport, name, path, heading)


def test_a_phone_s_bar_shows_four_places_and_more_with_the_rest(
    new_context: ContextFactory,
) -> None:
    context = new_context(SMALLEST)
    set_up_admin(context)
    page = context.new_page()
    page.goto("/help")
    bar = page.get_by_role("navigation", name="Main").locator(".bottom-list")
    # Every label is whole: none cut short by the width of the screen.
    labels = bar.locator(":scope > li > a span, :scope > li summary span")
    expect(labels).to_have_text(["Home", "Library", "Requests", "Status", "More"])
    for label in labels.all():
        assert label.evaluate("(span) => span.scrollWidth <= span.clientWidth"), (
            label.text_content()
        )
    menu = bar.locator(".bottom-more-menu")
    expect(menu).to_be_hidden()

    bar.get_by_text("More").click()
    expect(menu.get_by_role("link")).to_have_text(["Help", "Account", "Admin"])
    expect(menu.get_by_role("link", name="Help")).to_have_attribute("aria-current", "page")
    # The screen as the person sees it, the menu over the page (not the whole page's length).
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "bottom-bar-more-320.png"))
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()

    bar.get_by_text("More").click()
    menu.get_by_role("link", name="Account").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
