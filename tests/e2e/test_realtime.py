"""Live updates in the browser: a member watching My requests sees their request become
available the moment Overseerr's webhook says so, and the bell count it, with nothing reloaded
and no tab switched; the page's socket is the only news it gets (the bell's slow fallback poll
is off while the socket is up)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ContextFactory, Site, screenshot
from tests.e2e.test_requests import (
    MOVIE,
    bell,
    member,
    overseerr,
    overseerr_server,
    paste_webhook_into,
    site,
)
from tests.fakes.overseerr import FakeOverseerr
from tests.fakes.overseerr.constants import AVAILABLE, REQUEST_APPROVED

pytestmark = pytest.mark.browser

# The module's fake Overseerr and the site connected to it, as on the requests pages' tests.
__all__ = ["overseerr", "overseerr_server", "site"]


def live(page: Page) -> None:
    """Wait until the page's socket is open and listened to."""
    expect(page.locator("html")).to_have_attribute("data-realtime", "on")


def test_my_requests_and_the_bell_follow_a_request_live(
    new_context: ContextFactory, site: Site, overseerr: FakeOverseerr
) -> None:
    paste_webhook_into(overseerr, new_context)
    alice = member(new_context, "alice")
    alice.goto(f"/requests/movie/{MOVIE}")
    alice.get_by_role("button", name="Request").click()
    expect(alice.locator("[data-request-result]")).to_contain_text("Requested.")
    alice.goto("/requests/mine")
    badge = alice.locator("[data-request-id] .request-state .badge")
    expect(badge).to_have_text("Waiting for approval")
    expect(bell(alice)).to_have_attribute("data-count", "0")
    live(alice)
    request_id = alice.locator("[data-request-id]").get_attribute("data-request-id")
    # Every API call from here on is the page's own reaction to what the socket said.
    asked: list[str] = []
    alice.on("request", lambda request: asked.append(request.url))

    (upstream,) = overseerr.requests
    overseerr.set_request_status(upstream.id, REQUEST_APPROVED)
    overseerr.set_media_status(MOVIE, "movie", AVAILABLE)
    assert overseerr.send_webhook("MEDIA_AVAILABLE", upstream.id) == 204

    expect(badge).to_have_text("Available")
    expect(bell(alice)).to_have_accessible_name("Notifications, 1 unread")
    expect(bell(alice).locator("[data-bell-count]")).to_have_text("1")
    screenshot(alice, "my-requests-live-wide")
    # The row was fetched again on its own; nothing else was asked (the bell counted the push).
    assert [url for url in asked if "/api/v1/" in url] == [
        site.at(f"/api/v1/media/requests/{request_id}")
    ]


def test_the_bell_counts_a_notification_on_any_page(
    new_context: ContextFactory, site: Site, overseerr: FakeOverseerr
) -> None:
    paste_webhook_into(overseerr, new_context)
    alice = member(new_context, "alice")
    alice.goto(f"/requests/movie/{MOVIE}")
    alice.get_by_role("button", name="Request").click()
    expect(alice.locator("[data-request-result]")).to_contain_text("Requested.")
    alice.goto("/help")
    expect(bell(alice)).to_have_accessible_name("Notifications")
    live(alice)

    (upstream,) = overseerr.requests
    overseerr.set_request_status(upstream.id, REQUEST_APPROVED)
    overseerr.set_media_status(MOVIE, "movie", AVAILABLE)
    assert overseerr.send_webhook("MEDIA_AVAILABLE", upstream.id) == 204

    expect(bell(alice)).to_have_accessible_name("Notifications, 1 unread")
    bell(alice).click()
    expect(alice.locator("[data-notification] .notification-title a")).to_have_text(
        ["Alien: Romulus is in Plex"]
    )
