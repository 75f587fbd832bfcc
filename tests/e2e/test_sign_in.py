"""Signing in, the first-run password, two-factor sign-in, password reset and device sessions,
in a real browser."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    ADMIN_PASSWORD,
    MOBILE,
    ContextFactory,
    Site,
    api,
    screenshot,
    set_up_admin,
    sign_in,
)

pytestmark = pytest.mark.browser


def _fill_login(page: Page, username: str, password: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def test_first_run_admin_chooses_a_password_and_lands_home(page: Page, site: Site) -> None:
    page.goto("/account")
    expect(page).to_have_url(site.at("/login?next=/account"))

    _fill_login(page, "admin", "admin")

    expect(page).to_have_url(site.at("/change-password"))
    page.get_by_label("Current password").fill("admin")
    page.get_by_label("New password", exact=True).fill("admin-is-my-name")
    page.get_by_label("Type the new password again").fill("admin-is-my-name")
    page.get_by_role("button", name="Save and continue").click()
    new_password = page.get_by_label("New password", exact=True)
    expect(new_password).to_be_focused()
    expect(new_password).to_have_accessible_description(
        "Your password must not contain your username."
    )

    page.get_by_label("New password", exact=True).fill(ADMIN_PASSWORD)
    page.get_by_label("Type the new password again").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Save and continue").click()

    expect(page).to_have_url(site.at("/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hi, admin!")
    page.goto("/change-password")
    expect(page).to_have_url(site.at("/account#password"))


def test_a_wrong_password_is_explained_in_plain_words(page: Page) -> None:
    page.goto("/login")
    _fill_login(page, "admin", "not-the-password")

    expect(page.get_by_role("alert")).to_contain_text("That username and password do not match.")
    expect(page).to_have_url(re.compile(r"/login$"))


def test_the_theme_choice_survives_a_reload(new_context: ContextFactory) -> None:
    context = new_context(MOBILE)
    set_up_admin(context)
    page = context.new_page()
    page.goto("/")
    html = page.locator("html")
    expect(html).to_have_attribute("data-theme", "dark")

    page.get_by_role("button", name="Switch to light theme").click()
    expect(html).to_have_attribute("data-theme", "light")
    reloaded = page.reload()

    # Rendered light by the server (no flash of dark), not switched by a script afterwards.
    assert reloaded is not None
    assert '<html lang="en" data-theme="light">' in reloaded.text()
    expect(html).to_have_attribute("data-theme", "light")
    expect(page.get_by_role("button", name="Switch to dark theme")).to_be_visible()
    screenshot(page, "home-light-mobile")
    page.goto("/account")
    screenshot(page, "account-light-mobile")


def test_two_factor_sign_in_is_set_up_and_then_asked_for(
    new_context: ContextFactory, site: Site
) -> None:
    context = new_context()
    set_up_admin(context)
    page = context.new_page()
    page.goto("/account")

    page.get_by_role("button", name="Set up two-factor sign-in").click()
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    secret = page.locator("[data-two-factor-secret]").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    screenshot(page, "account-two-factor-setup-desktop")
    page.get_by_label("6-digit code").fill(totp.now())
    page.get_by_role("button", name="Turn on").click()

    codes = page.locator("[data-backup-code-list] li")
    expect(codes).to_have_count(10)
    screenshot(page, "account-backup-codes-desktop")
    page.get_by_role("button", name="I saved them").click()
    expect(page.locator(".profile").get_by_text("Two-factor on")).to_be_visible()

    page.locator(".sidebar").get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(site.at("/login"))
    _fill_login(page, "admin", ADMIN_PASSWORD)
    code_field = page.get_by_label("Code from your app, or a backup code")
    expect(code_field).to_be_focused()
    screenshot(page, "login-code-desktop")
    # The code used to turn it on cannot be used again; the next one is accepted already.
    code_field.fill(totp.at(time.time() + 30))
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(site.at("/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hi, admin!")


def test_signing_out_a_device_signs_that_browser_out(
    new_context: ContextFactory, site: Site
) -> None:
    laptop = new_context()
    set_up_admin(laptop)
    phone = new_context(MOBILE)
    sign_in(phone)
    phone_page = phone.new_page()
    phone_page.goto("/account")
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Your account")

    laptop_page = laptop.new_page()
    laptop_page.goto("/account")
    other = laptop_page.locator("[data-device]:not([data-current])")
    expect(other).to_have_count(1)
    other.get_by_role("button", name=re.compile("^Sign out")).click()
    expect(laptop_page.get_by_role("status")).to_have_text("That device is signed out.")
    expect(other).to_have_count(0)

    phone_page.goto("/account")
    expect(phone_page).to_have_url(site.at("/login?next=/account"))
    laptop_page.reload()
    expect(laptop_page.get_by_role("heading", level=1)).to_have_text("Your account")


def test_a_forgotten_password_is_replaced_through_a_reset_link(
    new_context: ContextFactory, site: Site
) -> None:
    admin = new_context()
    set_up_admin(admin)
    me = api(admin, "GET", "/auth/session")["user"]
    link = api(admin, "POST", f"/admin/users/{me['id']}/password-reset-link")["url"]
    page = new_context(MOBILE).new_page()

    page.goto("/login")
    page.get_by_role("link", name="Forgot password?").click()
    page.get_by_label("E-mail address").fill("someone@example.com")
    page.get_by_role("button", name="Send the reset link").click()
    expect(page.get_by_role("status")).to_contain_text("If that address belongs to an account")

    page.goto(link)
    expect(page).to_have_url(site.at("/reset-password"))  # the token left the address bar
    page.get_by_label("New password").fill("a-brand-new-secret-77")
    page.get_by_label("Type it again").fill("a-brand-new-secret-77")
    page.get_by_role("button", name="Save my new password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is changed.")
    page.get_by_role("link", name="Sign in", exact=True).first.click()

    _fill_login(page, "admin", "a-brand-new-secret-77")
    expect(page).to_have_url(site.at("/"))


def test_the_sign_in_page_has_one_remember_choice_and_one_way_to_help(
    page: Page, site: Site
) -> None:
    page.goto("/login")

    expect(page.get_by_role("checkbox")).to_have_count(1)
    expect(
        page.get_by_role("link", name=re.compile("help|how MediaNest works", re.I))
    ).to_have_count(1)
    screenshot(page, "login-desktop")

    page.get_by_label("Keep me signed in on this device").check()
    _fill_login(page, "admin", "admin")
    expect(page).to_have_url(site.at("/change-password"))
    cookies = {c["name"] for c in page.context.cookies()}
    assert "remember_token" in cookies, "the choice applies to the password sign-in too"


def test_the_two_factor_key_wraps_only_between_groups_on_a_phone(
    new_context: ContextFactory,
) -> None:
    context = new_context(MOBILE)
    set_up_admin(context)
    page = context.new_page()
    page.goto("/account")
    page.get_by_role("button", name="Set up two-factor sign-in").click()

    groups = page.locator("[data-two-factor-secret] .secret-group")
    expect(groups.first).to_be_visible()
    lines = groups.evaluate_all("gs => gs.map((g) => g.getClientRects().length)")
    assert len(lines) >= 8
    assert set(lines) == {1}, "a group of the key is split over two lines"
    screenshot(page, "account-two-factor-setup-mobile")
