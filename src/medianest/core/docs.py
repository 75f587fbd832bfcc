"""Interactive API docs at /api/docs, served entirely by MediaNest.

FastAPI's built-in page loads Swagger UI from a CDN and starts it with an inline script: our
Content-Security-Policy forbids both, and a server cut off from the internet would show a blank
page. Swagger UI's files come from the `fastapi-offline` package instead (Swagger UI 5, the first
to render the OpenAPI 3.1 document FastAPI writes) and the page starts it from a static file, so
the page lives under the same policy as every other page.
"""

from __future__ import annotations

from importlib import metadata, resources
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from medianest.core.errors import NotFound

router = APIRouter(include_in_schema=False)

_ASSETS_PREFIX = "/api/docs/assets"
_ASSETS_DIR = Path(str(resources.files("fastapi_offline") / "static"))
_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
}
# The package's version changes whenever its files do, so a URL carrying it can be cached for good.
_ASSETS_VERSION = metadata.version("fastapi-offline")
_LONG_CACHE = "public, max-age=31536000, immutable"
_INIT_SCRIPT = Path(__file__).with_name("docs_init.js").read_text(encoding="utf-8")


def _asset_url(name: str) -> str:
    return f"{_ASSETS_PREFIX}/{name}?v={_ASSETS_VERSION}"


_PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>MediaNest API</title>
  <link rel="stylesheet" href="{_asset_url("swagger-ui.css")}">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="/api/openapi.json"></div>
  <script src="{_asset_url("swagger-ui-bundle.js")}"></script>
  <script src="/api/docs/init.js"></script>
</body>
</html>
"""


@router.get("/api/docs")
async def docs() -> HTMLResponse:
    return HTMLResponse(_PAGE)


@router.get("/api/docs/init.js")
async def docs_init() -> Response:
    return Response(
        _INIT_SCRIPT,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get(_ASSETS_PREFIX + "/{name}")
async def docs_asset(name: str) -> FileResponse:
    """Raises NotFound for anything but Swagger UI's script and stylesheet."""
    media_type = _ASSETS.get(name)
    if media_type is None:
        raise NotFound
    return FileResponse(
        _ASSETS_DIR / name, media_type=media_type, headers={"Cache-Control": _LONG_CACHE}
    )
