"""Interactive API docs at /api/docs.

FastAPI's built-in page starts Swagger UI with an inline script, which our Content-Security-Policy
forbids everywhere. This page loads the same Swagger UI bundle and starts it from a static file
instead, with a policy that allows the bundle's CDN on this one page only.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

router = APIRouter(include_in_schema=False)

SWAGGER_VERSION = "5.17.14"
_CDN = "https://cdn.jsdelivr.net"
_BUNDLE = f"{_CDN}/npm/swagger-ui-dist@{SWAGGER_VERSION}"
_INIT_SCRIPT = Path(__file__).with_name("docs_init.js").read_text(encoding="utf-8")

_PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>MediaNest API</title>
  <link rel="stylesheet" href="{_BUNDLE}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="/api/openapi.json"></div>
  <script src="{_BUNDLE}/swagger-ui-bundle.js"></script>
  <script src="/api/docs/init.js"></script>
</body>
</html>
"""

_DOCS_CSP = (
    f"default-src 'self'; script-src 'self' {_CDN}; style-src 'self' {_CDN}; "
    f"img-src 'self' data: {_CDN}; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'"
)


@router.get("/api/docs")
async def docs() -> HTMLResponse:
    return HTMLResponse(_PAGE, headers={"Content-Security-Policy": _DOCS_CSP})


@router.get("/api/docs/init.js")
async def docs_init() -> Response:
    return Response(
        _INIT_SCRIPT,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=3600"},
    )
