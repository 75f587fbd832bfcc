"""Errors: browsers get a page in MediaNest's style with a way home; API clients keep JSON."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from medianest.core.errors import NotConnected, UpstreamUnavailable
from medianest.web.shell import PageRoute
from medianest.web.viewer import SignedInViewer
from tests.integration.web.conftest import MEMBER_PASSWORD, PAGE, AppFactory, browse


def _add_failing_pages(app: FastAPI) -> None:
    router = APIRouter(route_class=PageRoute)

    @router.get("/broken")
    async def broken() -> None:
        raise RuntimeError("a bug in a page")

    @router.get("/needs-overseerr")
    async def needs_overseerr() -> None:
        raise UpstreamUnavailable("Overseerr")

    @router.get("/watch-stats")
    async def watch_stats(viewer: SignedInViewer) -> None:
        raise NotConnected("Tautulli", "Tautulli is not connected.", connect_at="/admin/tautulli")

    app.include_router(router)


class TestNotFound:
    async def test_a_browser_gets_the_404_page(self, make_app: AppFactory) -> None:
        async with browse(make_app()) as browser:
            response = await browser.page("/no/such/page")

        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "We could not find that page" in response.text
        assert 'href="/"' in response.text

    async def test_a_signed_in_person_keeps_the_navigation_on_error_pages(
        self, make_app: AppFactory
    ) -> None:
        async with browse(make_app()) as browser:
            await browser.set_up_admin()
            await browser.add_member("bob")
            await browser.sign_in("bob", MEMBER_PASSWORD)
            missing = await browser.page("/no/such/page")
            forbidden = await browser.page("/admin/plex")

        for response, status in ((missing, 404), (forbidden, 403)):
            assert response.status_code == status
            assert 'aria-label="Main"' in response.text
            assert "data-sign-out" in response.text
            assert 'href="/account"' in response.text

    async def test_an_api_client_gets_json_on_a_page_address(self, make_app: AppFactory) -> None:
        async with browse(make_app()) as browser:
            response = await browser.http.get("/no/such/page", headers={"Accept": "*/*"})

        assert response.status_code == 404
        assert response.json()["error"]["code"] == "NOT_FOUND"

    async def test_the_api_answers_json_even_to_a_browser(self, make_app: AppFactory) -> None:
        async with browse(make_app()) as browser:
            response = await browser.http.get("/api/v1/no-such-thing", headers=PAGE)

        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["success"] is False


class TestFailures:
    async def test_an_unavailable_service_gets_the_503_page(self, make_app: AppFactory) -> None:
        app = make_app()
        _add_failing_pages(app)
        async with browse(app) as browser:
            page = await browser.page("/needs-overseerr")
            api = await browser.http.get("/needs-overseerr")

        assert page.status_code == 503
        assert "A service is not available right now" in page.text
        assert "Overseerr is unreachable right now" in page.text
        assert api.json()["error"]["code"] == "SERVICE_UNAVAILABLE"

    async def test_a_bug_in_a_page_gets_the_500_page_with_a_reference(
        self, make_app: AppFactory
    ) -> None:
        app = make_app()
        _add_failing_pages(app)
        async with browse(app) as browser:
            response = await browser.page("/broken")

        assert response.status_code == 500
        assert "Something went wrong on our side" in response.text
        assert response.headers["x-correlation-id"] in response.text
        assert "a bug in a page" not in response.text

    async def test_an_api_call_without_a_session_is_not_redirected(
        self, make_app: AppFactory
    ) -> None:
        async with browse(make_app()) as browser:
            response = await browser.http.get("/api/v1/auth/session", headers=PAGE)

        assert response.status_code == 401
        assert response.json()["error"]["code"] == "UNAUTHORIZED"


class TestNotConnected:
    async def test_a_service_nobody_connected_is_explained_in_the_full_layout(
        self, make_app: AppFactory
    ) -> None:
        app = make_app()
        _add_failing_pages(app)
        async with browse(app) as browser:
            anonymous = await browser.page("/watch-stats")
            await browser.set_up_admin()
            admin = await browser.page("/watch-stats")
            await browser.add_member("bob")
            await browser.sign_in("bob", MEMBER_PASSWORD)
            member = await browser.page("/watch-stats")

        assert anonymous.status_code == 303
        assert admin.status_code == member.status_code == 503
        assert "MediaNest isn't connected to Tautulli yet" in admin.text
        assert 'href="/admin/tautulli"' in admin.text
        assert 'aria-label="Main"' in admin.text
        assert 'href="/admin/tautulli"' not in member.text
        assert "Nothing to do on your side" in member.text
