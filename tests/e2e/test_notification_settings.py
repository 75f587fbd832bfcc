"""A person opens the notification settings from the inbox, turns kinds of notifications off for
the inbox or the browser, and finds them so after a reload; turns notifications on in this
browser; and the service worker shows a pushed notification.

Chromium subscribes through its own push service (Google's), which cannot be reached here, so
`pushManager.subscribe` fails in this browser: the test checks the page says so in words. What
the browser does with a push it receives is checked by handing the registered service worker a
push message through the DevTools protocol (`ServiceWorker.deliverPushMessage`), the message a
push service would deliver. The server side of push is tested against a fake push service
(tests/integration/notifications/test_push.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import (
    MOBILE,
    ContextFactory,
    Site,
    add_user,
    api,
    horizontal_overflow,
    screenshot,
    set_up_admin,
    sign_in,
)
from tests.factories.users import PASSWORD

pytestmark = pytest.mark.browser

SETTINGS = "/notifications/settings"


def _box(page: Page, label: str) -> Any:
    return page.get_by_role("checkbox", name=label, exact=True)


def _member(new_context: ContextFactory, site: Site, **options: Any) -> BrowserContext:
    add_user(site, username="nora")
    context = new_context(**options)
    sign_in(context, "nora", PASSWORD)
    return context


def test_choices_are_saved_as_made_and_still_there_after_a_reload(
    new_context: ContextFactory, site: Site
) -> None:
    context = _member(new_context, site)
    page = context.new_page()
    page.goto("/notifications")
    page.get_by_role("link", name="Notification settings").click()
    expect(page).to_have_url(site.at(SETTINGS))
    expect(page.get_by_role("heading", level=1)).to_have_text("Notification settings")
    # A member is not asked about services going down: only administrators are told.
    expect(page.locator("tr[data-type]")).to_have_count(5)
    expect(page.get_by_text("A service is down")).to_have_count(0)

    _box(page, "Announcements: from your browser").uncheck()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    _box(page, "Request updates: in your inbox").uncheck()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    screenshot(page, "notification-settings-1280")

    page.reload()
    expect(_box(page, "Announcements: from your browser")).not_to_be_checked()
    expect(_box(page, "Announcements: in your inbox")).to_be_checked()
    expect(_box(page, "Request updates: in your inbox")).not_to_be_checked()
    expect(_box(page, "Request updates: from your browser")).to_be_checked()
    stored = api(context, "GET", "/notifications/preferences")["types"]
    assert stored["broadcast"] == {"inApp": True, "push": False}
    assert stored["request.status"] == {"inApp": False, "push": True}

    _box(page, "Announcements: from your browser").check()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    page.reload()
    expect(_box(page, "Announcements: from your browser")).to_be_checked()


def test_an_administrator_chooses_about_services_too_and_the_page_fits_a_phone(
    new_context: ContextFactory,
) -> None:
    context = new_context(MOBILE)
    set_up_admin(context)
    page = context.new_page()
    page.goto("/account")
    page.get_by_role("link", name="Notification settings").click()
    expect(_box(page, "A service is down: in your inbox")).to_be_checked()
    _box(page, "A service is back: from your browser").uncheck()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    assert horizontal_overflow(page) == 0
    screenshot(page, "notification-settings-375")
    page.reload()
    expect(_box(page, "A service is back: from your browser")).not_to_be_checked()


def test_turning_on_says_why_when_the_browser_cannot_subscribe(
    new_context: ContextFactory, site: Site
) -> None:
    context = _member(new_context, site, permissions=["notifications"])
    page = context.new_page()
    page.goto(SETTINGS)
    expect(page.get_by_text("Notifications are off in this browser.")).to_be_visible()
    page.get_by_role("button", name="Turn on notifications in this browser").click()
    expect(page.get_by_role("alert")).to_contain_text("could not reach its notification service")
    # The service worker was registered for the whole site before subscribing was tried.
    scope = page.evaluate("navigator.serviceWorker.getRegistration('/').then((r) => r && r.scope)")
    assert scope == site.at("/")
    screenshot(page, "notification-settings-unreachable")


def test_a_browser_that_blocks_notifications_is_told_how_to_allow_them(
    new_context: ContextFactory, site: Site
) -> None:
    # Not granted: headless Chromium answers the prompt nobody can see with a refusal.
    context = _member(new_context, site)
    page = context.new_page()
    page.goto(SETTINGS)
    page.get_by_role("button", name="Turn on notifications in this browser").click()
    expect(page.get_by_text("This browser blocks notifications from this site.")).to_be_visible()
    expect(page.get_by_role("button", name="Turn on notifications in this browser")).to_be_hidden()


def test_the_service_worker_shows_what_is_pushed(new_context: ContextFactory, site: Site) -> None:
    context = _member(new_context, site, permissions=["notifications"])
    page = context.new_page()
    page.goto(SETTINGS)
    cdp = context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    page.evaluate("navigator.serviceWorker.register('/sw.js', {scope: '/'})")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    (registration,) = {r["registrationId"]: r for r in registrations if not r["isDeleted"]}.values()
    message = {
        "title": "Dune is available",
        "body": "It is in the Movies library now.",
        "url": "/notifications",
        "type": "request.available",
        "tag": "n-1",
    }
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": site.url,
            "registrationId": registration["registrationId"],
            "data": json.dumps(message),
        },
    )
    shown = page.evaluate(
        """async () => {
          const registration = await navigator.serviceWorker.ready;
          for (let i = 0; i < 100; i++) {
            const found = await registration.getNotifications();
            if (found.length) return found.map((n) => ({title: n.title, body: n.body, tag: n.tag, url: n.data.url}));
            await new Promise((done) => setTimeout(done, 100));
          }
          return [];
        }"""
    )
    assert shown == [
        {
            "title": "Dune is available",
            "body": "It is in the Movies library now.",
            "tag": "n-1",
            "url": site.at("/notifications"),
        }
    ]
