"""/api/docs is served whole by MediaNest: it works on a server without internet access."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from medianest.app import create_app
from tests.conftest import SettingsFactory
from tests.support.app import running

# Sources a policy may list without naming an origin.
_OWN_SOURCES = {"'self'", "'none'", "data:", "blob:"}


@pytest.fixture
async def client(
    make_settings: SettingsFactory, sqlite_template: Path, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    # The page reads no table: one database engine is enough.
    database = tmp_path / "medianest.db"
    shutil.copyfile(sqlite_template, database)
    settings = make_settings(database_url=f"sqlite+aiosqlite:///{database}")
    async with running(create_app(settings)) as http:
        yield http


def _page_assets(html: str) -> list[str]:
    return re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', html)


class TestApiDocs:
    async def test_the_policy_names_no_other_origin(self, client: httpx.AsyncClient) -> None:
        page = await client.get("/api/docs")
        assert page.status_code == 200
        directives = [d.split() for d in page.headers["content-security-policy"].split(";")]
        # Posters on the requests pages are TMDB's images; nothing else comes from elsewhere.
        sources = {
            source
            for name, *values in directives
            for source in values
            if not (name == "img-src" and source == "https://image.tmdb.org")
        }
        assert sources <= _OWN_SOURCES, sources
        assert {name for name, *_ in directives} >= {"default-src", "script-src", "style-src"}

    async def test_every_asset_comes_from_medianest(self, client: httpx.AsyncClient) -> None:
        page = await client.get("/api/docs")
        assets = _page_assets(page.text)
        assert len(assets) == 3, assets
        assert all(url.startswith("/api/docs/") for url in assets), assets
        kinds = {}
        for url in assets:
            response = await client.get(url)
            assert response.status_code == 200, url
            kinds[url.split("?")[0].rsplit("/", 1)[1]] = response.headers["content-type"]
        assert kinds == {
            "swagger-ui.css": "text/css; charset=utf-8",
            "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
            "init.js": "text/javascript; charset=utf-8",
        }

    async def test_the_bundle_is_swagger_ui_5_or_later(self, client: httpx.AsyncClient) -> None:
        # Swagger UI 4 cannot render the OpenAPI 3.1 document FastAPI writes.
        page = await client.get("/api/docs")
        bundle = next(url for url in _page_assets(page.text) if "bundle" in url)
        response = await client.get(bundle)
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        version = re.search(r'PACKAGE_VERSION:"(\d+)\.', response.text)
        assert version is not None and int(version.group(1)) >= 5
        assert (await client.get("/api/openapi.json")).json()["openapi"].startswith("3.1")

    async def test_other_files_are_not_served(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/docs/assets/..%2F__init__.py")
        assert response.status_code == 404
