"""The OpenAPI document says which errors each operation answers, in the envelope it answers them
in, so that a generated client knows them. FastAPI on its own documents a 422 that MediaNest never
sends (validation failures are 400 `VALIDATION_ERROR`) and no other error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from medianest.core.schemas import ApiModel

_ENVELOPE_REF = "#/components/schemas/ErrorEnvelope"
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")

DESCRIPTIONS: dict[int, str] = {
    400: "`VALIDATION_ERROR`: a parameter or field is not valid; `details` has one entry each",
    401: "`UNAUTHORIZED` / `TOKEN_EXPIRED` / `INVALID_CREDENTIALS` / `TOTP_REQUIRED`: sign in",
    403: "`FORBIDDEN` / `PASSWORD_CHANGE_REQUIRED`: not allowed for this caller",
    404: "`NOT_FOUND`: nothing of that id that this caller may see",
    409: "`CONFLICT`: the request conflicts with the current state",
    413: "`TOO_LARGE`: the request body is larger than the server accepts",
    429: "`RATE_LIMITED`: wait `retryAfter` seconds (also in the `Retry-After` header)",
    500: "`INTERNAL_ERROR`: a bug; the `correlationId` finds it in the log",
    503: "`SERVICE_UNAVAILABLE`: an upstream is down or its circuit is open; `details` names it",
    504: "`UPSTREAM_TIMEOUT`: an upstream did not answer in time",
}


class ErrorDetail(ApiModel):
    field: str
    message: str


class ErrorBody(ApiModel):
    code: str
    message: str
    correlation_id: str | None = None
    retry_after: int | None = None
    details: list[ErrorDetail] | None = None


class ErrorEnvelope(ApiModel):
    """API.md's error shape: `{success: false, error: {...}}`."""

    success: Literal[False] = False
    error: ErrorBody


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """For a route's `responses=`: errors it answers beyond those every route documents."""
    return {status: _response(status) for status in statuses}


StatusesFor = Callable[[APIRoute], Iterable[int]]


def document_errors(app: FastAPI, statuses_for: StatusesFor) -> None:
    """Build `app`'s OpenAPI document with the errors of each operation: 500 for every one,
    400 where it takes input, 404 where its path names something, 413 where it takes a body,
    and what `statuses_for` adds (who may call it, which limits and upstreams it meets)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        routes = {
            (route.path_format, method.lower()): route
            for route in app.routes
            if isinstance(route, APIRoute)
            for method in route.methods or ()
        }
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                route = routes.get((path, method))
                if route is not None:
                    _document(operation, route, statuses_for)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name in _FASTAPI_VALIDATION_SCHEMAS:
            components.pop(name, None)
        envelope = ErrorEnvelope.model_json_schema(
            by_alias=True, ref_template="#/components/schemas/{model}"
        )
        components.update(envelope.pop("$defs", {}))
        components["ErrorEnvelope"] = envelope
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document(operation: dict[str, Any], route: APIRoute, statuses_for: StatusesFor) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses.pop("422", None)
    statuses = {500, *statuses_for(route)}
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.add(400)
    if operation.get("requestBody"):
        statuses.add(413)
    if "{" in route.path_format:
        statuses.add(404)
    for status in sorted(statuses):
        responses.setdefault(str(status), _response(status))


def _response(status: int) -> dict[str, Any]:
    return {
        "description": DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": _ENVELOPE_REF}}},
    }
