"""The checks Overseerr's OpenAPI validator (express-openapi-validator 4.13.8) makes first.

It runs before any route: a protected call without credentials is 401; then every declared query
parameter is checked in its RAW form (as sent, before decoding) for reserved characters, so a `+`
for a space or an unencoded `:` is a 400; undeclared parameters and empty values are 400 too; then
types and enums. The declared parameters below are those of `overseerr-api.yml` and
`seerr-api.yml`: Seerr declares `mediaType` and `sortDirection` on `/request`, Overseerr does not,
so sending them to an Overseerr is a 400.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

RESERVED_CHARS = re.compile(r"[:/?#\[\]@!$&'()*+,;=]")

# name -> (type, enum); `query` on /search is the only required one.
QueryParams = dict[str, tuple[str, list[str] | None]]

_LANGUAGE: QueryParams = {"language": ("string", None)}
_PAGE: QueryParams = {"page": ("number", None)}
_DISCOVER: QueryParams = {
    **_PAGE,
    **_LANGUAGE,
    "genre": ("string", None),
    "keywords": ("string", None),
    "sortBy": ("string", None),
    "withRuntimeGte": ("number", None),
    "withRuntimeLte": ("number", None),
    "voteAverageGte": ("number", None),
    "voteAverageLte": ("number", None),
    "voteCountGte": ("number", None),
    "voteCountLte": ("number", None),
    "watchRegion": ("string", None),
    "watchProviders": ("string", None),
}
_OVERSEERR_FILTERS = ["all", "approved", "available", "pending", "processing", "unavailable"]

QUERY_PARAMS: dict[str, dict[str, QueryParams]] = {
    "overseerr": {
        "/search": {"query": ("string", None), **_PAGE, **_LANGUAGE},
        "/discover/trending": {**_PAGE, **_LANGUAGE},
        "/discover/movies/upcoming": {**_PAGE, **_LANGUAGE},
        "/discover/movies": {
            **_DISCOVER,
            "studio": ("number", None),
            "primaryReleaseDateGte": ("string", None),
            "primaryReleaseDateLte": ("string", None),
        },
        "/discover/tv": {
            **_DISCOVER,
            "network": ("number", None),
            "firstAirDateGte": ("string", None),
            "firstAirDateLte": ("string", None),
        },
        "/movie": _LANGUAGE,
        "/tv": _LANGUAGE,
        "/request": {
            "take": ("number", None),
            "skip": ("number", None),
            "filter": ("string", [*_OVERSEERR_FILTERS, "failed"]),
            "sort": ("string", ["added", "modified"]),
            "requestedBy": ("number", None),
        },
        "/user": {
            "take": ("number", None),
            "skip": ("number", None),
            "sort": ("string", ["created", "updated", "requests", "displayname"]),
        },
    },
}
QUERY_PARAMS["seerr"] = {
    **QUERY_PARAMS["overseerr"],
    "/discover/movies": {
        **QUERY_PARAMS["overseerr"]["/discover/movies"],
        "excludeKeywords": ("string", None),
    },
    "/discover/tv": {
        **QUERY_PARAMS["overseerr"]["/discover/tv"],
        "excludeKeywords": ("string", None),
        "status": ("string", None),
    },
    "/request": {
        "take": ("number", None),
        "skip": ("number", None),
        "filter": ("string", [*_OVERSEERR_FILTERS, "failed", "deleted", "completed"]),
        "sort": ("string", ["added", "modified"]),
        "sortDirection": ("string", ["asc", "desc"]),
        "requestedBy": ("number", None),
        "mediaType": ("string", ["movie", "tv", "all"]),
    },
    "/user": {
        **QUERY_PARAMS["overseerr"]["/user"],
        "q": ("string", None),
        "includeIds": ("string", None),
    },
}
REQUIRED_QUERY = {"/search": "query"}


@dataclass
class ApiError(Exception):
    """An answer other than success, with Overseerr's body for it."""

    status: int
    body: dict[str, Any]

    @classmethod
    def message(cls, status: int, message: str) -> ApiError:
        """Overseerr's error handler: `{message, errors}`, `errors` left out when undefined."""
        return cls(status, {"message": message})


def bad_request(message: str, path: str, error_code: str | None = None) -> ApiError:
    item: dict[str, str] = {"path": path, "message": message}
    if error_code:
        item["errorCode"] = error_code
    return ApiError(400, {"message": message, "errors": [item]})


def _ajv_error(location: str, name: str | None, message: str, keyword: str) -> ApiError:
    instance = f"/{location}" + (f"/{name}" if name else "")
    full = f"request{instance} {message}"
    path = f"/{location}/{name}" if name else instance
    return ApiError(
        400,
        {
            "message": full,
            "errors": [
                {"path": path, "message": message, "errorCode": f"{keyword}.openapi.validation"}
            ],
        },
    )


def unauthorised(path: str) -> ApiError:
    """No `X-Api-Key` and no `connect.sid`: the validator's security check answers first."""
    message = "cookie 'connect.sid' required"
    return ApiError(401, {"message": message, "errors": [{"path": path, "message": message}]})


def check_query(flavour: str, route: str, raw_query: str) -> dict[str, str]:
    """The decoded query of a call to `route` (e.g. "/request"), once it passes the validator."""
    declared = QUERY_PARAMS[flavour].get(route, {})
    raw: dict[str, list[str | None]] = {}
    if raw_query:
        for pair in raw_query.split("&"):
            key, _, value = pair.partition("=")
            raw.setdefault(key, []).append(value if "=" in pair else None)
    for name in declared:
        for raw_value in raw.get(name, []):
            if raw_value and RESERVED_CHARS.search(raw_value.split("=")[0]):
                raise bad_request(
                    f"Parameter '{name}' must be url encoded. Its value may not contain reserved"
                    " characters.",
                    f"/query/{name}",
                )
    decoded = dict(parse_qsl(raw_query, keep_blank_values=True))
    for name, value in decoded.items():
        if name not in declared:
            raise bad_request(f"Unknown query parameter '{name}'", f"/query/{name}")
        if value == "":
            raise bad_request(f"Empty value found for query parameter '{name}'", f"/query/{name}")
    required = REQUIRED_QUERY.get(route)
    if required and required not in decoded:
        raise _ajv_error("query", None, f"must have required property '{required}'", "required")
    for name, value in decoded.items():
        kind, allowed = declared[name]
        if kind == "number" and not _is_number(value):
            raise _ajv_error("query", name, "must be number", "type")
        if allowed is not None and value not in allowed:
            raise _ajv_error(
                "query",
                name,
                f"must be equal to one of the allowed values: {', '.join(allowed)}",
                "enum",
            )
    return decoded


def check_path_number(name: str, value: str) -> int:
    if not _is_number(value):
        raise _ajv_error("params", name, "must be number", "type")
    return int(float(value))


def check_path_enum(name: str, value: str, allowed: list[str]) -> None:
    if value not in allowed:
        raise _ajv_error(
            "params",
            name,
            f"must be equal to one of the allowed values: {', '.join(allowed)}",
            "enum",
        )


def check_request_body(body: Any) -> dict[str, Any]:
    """`POST /request`: `mediaType` and `mediaId` required; numbers are not coerced in bodies."""
    if not isinstance(body, dict):
        raise _ajv_error("body", None, "must be object", "type")
    for name in ("mediaType", "mediaId"):
        if name not in body:
            raise _ajv_error("body", None, f"must have required property '{name}'", "required")
    if body["mediaType"] not in ("movie", "tv"):
        raise _ajv_error(
            "body", "mediaType", "must be equal to one of the allowed values: movie, tv", "enum"
        )
    for name in ("mediaId", "tvdbId", "serverId", "profileId", "languageProfileId"):
        if name in body and not _json_number(body[name]):
            raise _ajv_error("body", name, "must be number", "type")
    if "userId" in body and body["userId"] is not None and not _json_number(body["userId"]):
        raise _ajv_error("body", "userId", "must be number", "type")
    if "is4k" in body and not isinstance(body["is4k"], bool):
        raise _ajv_error("body", "is4k", "must be boolean", "type")
    if "rootFolder" in body and not isinstance(body["rootFolder"], str):
        raise _ajv_error("body", "rootFolder", "must be string", "type")
    seasons = body.get("seasons")
    if (
        "seasons" in body
        and seasons != "all"
        and not (isinstance(seasons, list) and all(_json_number(n) and n >= 0 for n in seasons))
    ):
        raise _ajv_error("body", "seasons", "must match exactly one schema in oneOf", "oneOf")
    return body


def check_import_body(body: Any) -> list[str] | None:
    """`POST /user/import-from-plex`: an optional `{plexIds: [string]}`."""
    if body is None:
        return None
    if not isinstance(body, dict):
        raise _ajv_error("body", None, "must be object", "type")
    if "plexIds" not in body:
        return None
    ids = body["plexIds"]
    if not isinstance(ids, list):
        raise _ajv_error("body", "plexIds", "must be array", "type")
    for index, value in enumerate(ids):
        if not isinstance(value, str):
            raise _ajv_error("body", f"plexIds/{index}", "must be string", "type")
    return ids


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _json_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
