"""Error types every domain raises, and the one place that turns them into API.md's envelope.

Domains declare their own subclasses next to the code that raises them; the handlers below are the
only code that renders an error. Anything that is not a `MediaNestError` is a bug: it becomes a bare
500 `INTERNAL_ERROR` carrying only the correlation id, and is logged with its traceback.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from http import HTTPStatus
from typing import Any, Self

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from medianest.core.context import correlation_id

log = structlog.get_logger(__name__)


class MediaNestError(Exception):
    """An error with a message a user can act on."""

    status: int = 500
    code: str = "INTERNAL_ERROR"
    message: str = "Something went wrong on our side. Try again in a moment."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: Sequence[dict[str, Any]] | None = None,
        retry_after: int | None = None,
    ) -> None:
        self.message = message or type(self).message
        self.details = list(details) if details else None
        self.retry_after = retry_after
        super().__init__(self.message)


class ValidationFailed(MediaNestError):
    status, code, message = 400, "VALIDATION_ERROR", "Some fields are not valid."

    @classmethod
    def on(cls, field: str, message: str) -> Self:
        """One field's problem: the message, and the same sentence against the field."""
        return cls(message, details=[{"field": field, "message": message}])


class Unauthorized(MediaNestError):
    status, code, message = 401, "UNAUTHORIZED", "Sign in to continue."


class Forbidden(MediaNestError):
    status, code, message = 403, "FORBIDDEN", "You do not have permission to do that."


class NotFound(MediaNestError):
    status, code, message = 404, "NOT_FOUND", "Not found."


class Conflict(MediaNestError):
    status, code, message = 409, "CONFLICT", "That conflicts with something that already exists."


class TooLarge(MediaNestError):
    status, code, message = 413, "TOO_LARGE", "The request body is too large."


class RateLimited(MediaNestError):
    status, code, message = 429, "RATE_LIMITED", "Too many requests. Slow down and try again soon."


class UpstreamUnavailable(MediaNestError):
    """An upstream is down, refused us, or its circuit is open."""

    status, code = 503, "SERVICE_UNAVAILABLE"

    def __init__(
        self, service: str, message: str | None = None, *, misconfigured: bool = False
    ) -> None:
        self.service = service
        self.misconfigured = misconfigured
        default = (
            f"{service} rejected MediaNest's credentials; an administrator needs to reconnect it."
            if misconfigured
            else f"{service} is unreachable right now. Try again in a few minutes."
        )
        super().__init__(message or default, details=[{"service": service}])


class NotConnected(UpstreamUnavailable):
    """Nothing is connected for `service` yet: not an outage but a step left to an administrator,
    who connects it at the page `connect_at`. Pages explain it in their full layout."""

    def __init__(self, service: str, message: str, *, connect_at: str) -> None:
        self.connect_at = connect_at
        super().__init__(service, message, misconfigured=True)


class UpstreamTimeout(MediaNestError):
    status, code = 504, "UPSTREAM_TIMEOUT"

    def __init__(self, service: str, message: str | None = None) -> None:
        self.service = service
        super().__init__(
            message or f"{service} took too long to answer. Try again in a few minutes.",
            details=[{"service": service}],
        )


def error_body(
    code: str,
    message: str,
    *,
    details: Sequence[dict[str, Any]] | None = None,
    retry_after: int | None = None,
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "correlationId": correlation_id()}
    if retry_after is not None:
        error["retryAfter"] = retry_after
    if details:
        error["details"] = list(details)
    return {"success": False, "error": error}


def error_response(exc: MediaNestError) -> JSONResponse:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
    body = error_body(exc.code, exc.message, details=exc.details, retry_after=exc.retry_after)
    return JSONResponse(body, status_code=exc.status, headers=headers)


_HTTP_CODES = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "TOO_LARGE",
    429: "RATE_LIMITED",
}

_HTTP_MESSAGES = {
    404: "There is nothing at this address. Check the URL.",
    405: "This address does not accept that method.",
}


async def _medianest_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MediaNestError)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc.__cause__, MediaNestError):
        # FastAPI turns any error raised while reading the body into a 400; the body-size
        # limit raises from there and must keep its own status.
        return error_response(exc.__cause__)
    status = exc.status_code
    code = _HTTP_CODES.get(status, "INTERNAL_ERROR" if status >= 500 else "ERROR")
    default = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    message = _HTTP_MESSAGES.get(status) or (exc.detail if isinstance(exc.detail, str) else default)
    response = JSONResponse(error_body(code, message), status_code=status)
    if exc.headers:
        response.headers.update(exc.headers)
    if status == 405:
        response.headers.setdefault("Allow", exc.headers.get("Allow", "") if exc.headers else "")
    return response


_LOCATIONS = ("body", "query", "path", "header", "cookie")


def _field_name(loc: Sequence[Any]) -> str:
    # Only the first part says where the field was; a field may itself be called `path`.
    parts = [str(p) for p in (loc[1:] if loc and loc[0] in _LOCATIONS else loc)]
    return ".".join(parts) or str(loc[0] if loc else "body")


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        body = error_body("VALIDATION_ERROR", "The request body is not valid JSON.")
        return JSONResponse(body, status_code=400)
    details = [
        {"field": _field_name(e.get("loc", ())), "message": str(e.get("msg", "is not valid"))}
        for e in errors
    ]
    fields = ", ".join(d["field"] for d in details)
    body = error_body("VALIDATION_ERROR", f"Check these fields: {fields}.", details=details)
    return JSONResponse(body, status_code=400)


def internal_error_response() -> JSONResponse:
    return JSONResponse(error_body("INTERNAL_ERROR", MediaNestError.message), status_code=500)


PageRenderer = Callable[[Request, int, str, str], Awaitable[Response]]
"""Renders an error as an HTML page: (request, status, code, message) -> response."""


def _wants_page(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


def install_error_handlers(app: FastAPI, *, pages: PageRenderer | None = None) -> None:
    """JSON envelopes for the API; with `pages`, browsers asking for a page get an HTML one."""

    def handler(render_json: Callable[[Request, Exception], Awaitable[JSONResponse]]) -> Any:
        async def handle(request: Request, exc: Exception) -> Response:
            response = await render_json(request, exc)
            if pages is None or not _wants_page(request):
                return response
            error = json.loads(bytes(response.body))["error"]
            return await pages(request, response.status_code, error["code"], error["message"])

        return handle

    app.add_exception_handler(MediaNestError, handler(_medianest_error))
    app.add_exception_handler(StarletteHTTPException, handler(_http_error))
    app.add_exception_handler(RequestValidationError, handler(_validation_error))
