"""An administrator manages accounts from /admin/users: finds people as they type, filters and
pages the list, suspends someone (who is then signed out and cannot sign in), hands out a password
reset link, deletes an account after saying what goes, and is never offered to demote, suspend or
delete themself. Each row says how many requests the person made."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from medianest.requests.models import RequestStatus
from tests.e2e.conftest import (
    MOBILE,
    ContextFactory,
    Site,
    add_request,
    add_user,
    api,
    horizontal_overflow,
    screenshot,
    set_up_admin,
    sign_in,
)
from tests.factories.users import PASSWORD

pytestmark = pytest.mark.browser


def _users_page(context: BrowserContext, path: str = "/admin/users") -> Page:
    page = context.new_page()
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    expect(page.locator("[data-users-count]")).not_to_have_text("Loading users…")
    return page


def _row(page: Page, username: str) -> Locator:
    return page.locator("tbody tr").filter(
        has=page.locator(".user-name", has_text=re.compile(rf"^{re.escape(username)}( You)?$"))
    )


def _filters(page: Page) -> Locator:
    return page.get_by_role("search", name="Find users")


def _names(page: Page) -> Locator:
    return page.locator("tbody .user-name > span:first-child")


def _manage(page: Page, username: str) -> Locator:
    _row(page, username).get_by_role("button", name=f"Manage {username}").click()
    dialog = page.get_by_role("dialog", name=username)
    expect(dialog).to_be_visible()
    return dialog


def _sign_in_page(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


@pytest.fixture
def people(site: Site) -> None:
    add_user(site, username="alice", email="alice@example.com")
    add_user(site, username="alina", email="alina@example.org")
    add_user(site, username="bob", email="bob@example.net", password=None, plex_id=4242)


@pytest.mark.usefixtures("people")
def test_the_admin_finds_people_as_they_type_and_filters_the_list(
    new_context: ContextFactory, site: Site
) -> None:
    admin = new_context()
    set_up_admin(admin)
    page = _users_page(admin)

    sub_nav = page.get_by_role("navigation", name="Administration")
    expect(sub_nav.get_by_role("link", name="Users")).to_have_attribute("aria-current", "page")
    expect(page.locator("[data-users-count]")).to_have_text("4 users.")
    expect(_names(page)).to_have_text(["admin", "alice", "alina", "bob"])
    alice = _row(page, "alice")
    expect(alice).to_contain_text("alice@example.com")
    expect(alice).to_contain_text("Member")
    expect(alice).to_contain_text("Active")
    expect(alice).to_contain_text("Password")
    expect(alice).to_contain_text("2FA off")
    expect(alice).to_contain_text("Never")
    bob = _row(page, "bob")
    expect(bob).to_contain_text("Plex")
    expect(bob).not_to_contain_text("2FA")

    # Their own row: who they are, a way to their own account, and nothing to demote, suspend
    # or delete themself with.
    own = _row(page, "admin")
    expect(own).to_contain_text("You")
    expect(own).to_contain_text("Administrator")
    expect(own).to_contain_text("Just now")
    expect(own.get_by_role("button")).to_have_count(0)
    expect(own.get_by_role("link", name="Your account")).to_have_attribute("href", "/account")
    screenshot(page, "admin-users-desktop")

    search = _filters(page).get_by_label("Search users")
    search.press_sequentially("ALI")
    expect(_names(page)).to_have_text(["alice", "alina"])
    expect(page.locator("[data-users-count]")).to_have_text("2 users match “ALI”.")
    expect(page).to_have_url(site.at("/admin/users?search=ALI"))
    search.fill("example.net")
    expect(_names(page)).to_have_text(["bob"])

    search.fill("nobody-here")
    expect(page.get_by_text("No users match “nobody-here”.")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(0)
    screenshot(page, "admin-users-none-match-desktop")
    page.get_by_role("button", name="Show everyone").click()
    expect(_names(page)).to_have_text(["admin", "alice", "alina", "bob"])
    expect(search).to_have_value("")

    _filters(page).get_by_label("Role").select_option(label="Administrators")
    expect(_names(page)).to_have_text(["admin"])
    _filters(page).get_by_label("Role").select_option(label="Members")
    _filters(page).get_by_label("Sort by").select_option(label="Name, Z to A")
    expect(_names(page)).to_have_text(["bob", "alina", "alice"])
    expect(page).to_have_url(site.at("/admin/users?role=user&sort=-username"))

    # The address keeps the list as it was.
    page.reload()
    expect(_filters(page).get_by_label("Role")).to_have_value("user")
    expect(_names(page)).to_have_text(["bob", "alina", "alice"])

    phone = new_context(MOBILE)
    phone.add_cookies([{"name": "theme", "value": "light", "url": site.url}])
    sign_in(phone)
    small = _users_page(phone)
    expect(_names(small)).to_have_text(["admin", "alice", "alina", "bob"])
    expect(_row(small, "alice").get_by_role("button", name="Manage alice")).to_be_visible()
    assert horizontal_overflow(small) <= 0, "/admin/users scrolls sideways at 375 px"
    screenshot(small, "admin-users-light-mobile")


def test_each_row_says_how_many_requests_the_person_made(
    new_context: ContextFactory, site: Site
) -> None:
    alice = add_user(site, username="alice")
    add_user(site, username="bob")
    add_request(site, alice.id)
    add_request(site, alice.id, status=RequestStatus.AVAILABLE)
    admin = new_context()
    set_up_admin(admin)
    page = _users_page(admin)

    expect(page.get_by_role("columnheader", name="Requests")).to_be_visible()
    counts = _row(page, "alice").locator('td[data-label="Requests"] span')
    expect(counts).to_have_text(["2", "1 open"])
    expect(_row(page, "bob").locator('td[data-label="Requests"]')).to_have_text("None")
    assert horizontal_overflow(page) <= 0, "/admin/users scrolls sideways on a desktop"

    # On a phone each user is a card: the count comes with its label.
    phone = new_context(MOBILE)
    sign_in(phone)
    small = _users_page(phone)
    cell = _row(small, "alice").locator('td[data-label="Requests"]')
    expect(cell).to_be_visible()
    label = cell.evaluate("cell => getComputedStyle(cell, '::before').content")
    assert label == '"Requests"'
    assert horizontal_overflow(small) <= 0, "/admin/users scrolls sideways at 375 px"
    screenshot(small, "admin-users-requests-mobile")


def test_the_list_comes_in_pages(new_context: ContextFactory, site: Site) -> None:
    for number in range(1, 24):
        add_user(site, username=f"guest-{number:02}", password=None, plex_id=1000 + number)
    admin = new_context()
    set_up_admin(admin)
    page = _users_page(admin)

    count = page.locator("[data-users-count]")
    expect(count).to_have_text("24 users, page 1 of 2.")
    expect(page.locator("tbody tr")).to_have_count(20)
    expect(page.get_by_role("button", name="Previous")).to_be_hidden()
    page.get_by_role("button", name="Next").click()
    expect(count).to_have_text("24 users, page 2 of 2.")
    expect(_names(page)).to_have_text(["guest-20", "guest-21", "guest-22", "guest-23"])
    expect(page.get_by_role("button", name="Next")).to_be_hidden()
    expect(page).to_have_url(site.at("/admin/users?page=2"))
    screenshot(page, "admin-users-page-2-desktop")

    # A new search starts again from the first page.
    _filters(page).get_by_label("Search users").fill("guest-0")
    expect(count).to_have_text("9 users match “guest-0”.")
    expect(page.get_by_role("navigation", name="Pages")).to_be_hidden()


@pytest.mark.usefixtures("people")
def test_a_suspended_user_is_signed_out_and_cannot_sign_in_until_reactivated(
    new_context: ContextFactory,
) -> None:
    alices_laptop = new_context()
    sign_in(alices_laptop, "alice", PASSWORD)
    admin = new_context()
    set_up_admin(admin)
    page = _users_page(admin)

    dialog = _manage(page, "alice")
    expect(dialog).to_contain_text("alice can sign in.")
    dialog.get_by_role("button", name="Suspend alice").click()
    expect(dialog.get_by_role("status")).to_have_text(
        "alice is suspended and was signed out everywhere."
    )
    expect(dialog.get_by_role("button", name="Reactivate alice")).to_be_visible()
    expect(_row(page, "alice")).to_contain_text("Suspended")
    screenshot(page, "admin-users-manage-desktop")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    expect(_row(page, "alice").get_by_role("button", name="Manage alice")).to_be_focused()

    # Alice's open session is gone, and signing in again is refused in plain words.
    session = alices_laptop.request.get("/api/v1/auth/session")
    assert session.status == 401
    listed = api(admin, "GET", "/admin/users?status=suspended")
    assert [u["username"] for u in listed] == ["alice"]
    alices_phone = new_context(MOBILE).new_page()
    _sign_in_page(alices_phone, "alice", PASSWORD)
    expect(alices_phone.get_by_role("alert")).to_have_text(
        "Your account is suspended. Ask your administrator."
    )

    _filters(page).get_by_label("Status").select_option(label="Suspended")
    expect(_names(page)).to_have_text(["alice"])
    _manage(page, "alice").get_by_role("button", name="Reactivate alice").click()
    expect(page.get_by_role("dialog").get_by_role("status")).to_have_text(
        "alice can sign in again."
    )
    _sign_in_page(alices_phone, "alice", PASSWORD)
    expect(alices_phone.get_by_role("heading", level=1)).to_have_text("Hi, alice!")


@pytest.mark.usefixtures("people")
def test_a_refused_change_shows_the_reason_next_to_it(new_context: ContextFactory) -> None:
    admin = new_context()
    set_up_admin(admin)
    page = _users_page(admin)
    alina = next(u for u in api(admin, "GET", "/admin/users") if u["username"] == "alina")

    dialog = _manage(page, "alina")
    # Another administrator deletes the account while this dialog is open.
    api(admin, "DELETE", f"/admin/users/{alina['id']}")
    dialog.get_by_role("button", name="Make them an administrator").click()
    expect(dialog.get_by_role("alert")).to_have_text("That user does not exist.")


@pytest.mark.usefixtures("people")
def test_the_admin_promotes_hands_out_a_reset_link_and_deletes_after_confirming(
    new_context: ContextFactory, site: Site
) -> None:
    admin = new_context()
    set_up_admin(admin)
    page = _users_page(admin)

    dialog = _manage(page, "alina")
    dialog.get_by_role("button", name="Make them an administrator").click()
    expect(dialog.get_by_role("status")).to_have_text("alina is now an administrator.")
    expect(_row(page, "alina")).to_contain_text("Administrator")

    dialog.get_by_role("button", name="Make a reset link").click()
    link = dialog.get_by_label("Reset link", exact=True)
    expect(link).to_have_value(re.compile(rf"^{re.escape(site.url)}/reset-password#token=\S+$"))
    expect(link).to_have_accessible_description(
        re.compile(r"^It works once, within 1 hour: until \d")
    )
    screenshot(page, "admin-users-reset-link-desktop")
    url = link.input_value()
    dialog.get_by_role("button", name="Close").click()

    alinas_phone = new_context(MOBILE).new_page()
    alinas_phone.goto(url)
    alinas_phone.get_by_label("New password").fill("a-brand-new-secret-77")
    alinas_phone.get_by_label("Type it again").fill("a-brand-new-secret-77")
    alinas_phone.get_by_role("button", name="Save my new password").click()
    expect(alinas_phone.get_by_role("status")).to_contain_text("Your password is changed.")
    _sign_in_page(alinas_phone, "alina", "a-brand-new-secret-77")
    expect(alinas_phone.get_by_role("heading", level=1)).to_have_text("Hi, alina!")

    # A Plex account has no password to reset; deleting it says what goes and what does not.
    dialog = _manage(page, "bob")
    expect(dialog.get_by_role("button", name="Make a reset link")).to_be_hidden()
    dialog.get_by_role("button", name="Delete bob…").click()
    confirm = page.get_by_role("alertdialog", name="Delete bob?")
    expect(confirm).to_contain_text(
        "This removes bob's account and signs them out on every device at once."
    )
    expect(confirm).to_contain_text("signing in with Plex again makes them a new, empty account")
    screenshot(page, "admin-users-delete-desktop")
    confirm.get_by_role("button", name="Keep bob").click()
    expect(confirm).to_be_hidden()
    expect(_names(page)).to_contain_text(["bob"])

    dialog.get_by_role("button", name="Delete bob…").click()
    confirm.get_by_role("button", name="Delete bob", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="was deleted")).to_have_text(
        "bob was deleted."
    )
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(_names(page)).to_have_text(["admin", "alice", "alina"])
    assert [u["username"] for u in api(admin, "GET", "/admin/users")] == [
        "admin",
        "alice",
        "alina",
    ]

    phone = new_context(MOBILE)
    sign_in(phone)
    small = _users_page(phone)
    _manage(small, "alice").get_by_role("button", name="Delete alice…").click()
    expect(small.get_by_role("alertdialog", name="Delete alice?")).to_contain_text(
        "This removes alice's account with their password and any reset links, and signs them"
    )
    assert horizontal_overflow(small) <= 0, "the delete confirmation scrolls sideways at 375 px"
    screenshot(small, "admin-users-delete-mobile")
