"""What every response carries: the error envelope, the correlation id, the security headers."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field

from medianest.app import create_app
from medianest.core.errors import NotFound
from tests.conftest import SettingsFactory
from tests.support.app import running


class Scan(BaseModel):
    path: str = Field(min_length=1)


class Payload(BaseModel):
    title: str = Field(min_length=1)
    count: int


@pytest.fixture
def app(make_settings: SettingsFactory, database_url: str) -> FastAPI:
    settings = make_settings(database_url=database_url, max_body_bytes=2048, log_format="json")
    application = create_app(settings)

    @application.post("/api/v1/echo")
    async def echo(payload: Payload) -> Payload:
        return payload

    @application.get("/api/v1/boom")
    async def boom() -> None:
        raise RuntimeError("password=hunter2 in SELECT * FROM users")

    @application.get("/api/v1/missing-thing")
    async def missing() -> None:
        raise NotFound("That request does not exist.")

    return application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with running(app) as http:
        yield http


def _error(response: httpx.Response) -> dict[str, object]:
    body = response.json()
    assert body["success"] is False
    assert body["error"]["correlationId"] == response.headers["x-correlation-id"]
    return dict(body["error"])


class TestErrorEnvelope:
    async def test_unknown_api_route_is_404_not_found(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/no-such-thing")
        assert response.status_code == 404
        assert _error(response)["code"] == "NOT_FOUND"

    async def test_wrong_method_is_405(self, client: httpx.AsyncClient) -> None:
        response = await client.delete("/api/v1/echo")
        assert response.status_code == 405
        assert _error(response)["code"] == "METHOD_NOT_ALLOWED"
        assert "POST" in response.headers["allow"]

    async def test_malformed_json_is_400(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/api/v1/echo", content=b'{"title": "x",', headers={"content-type": "application/json"}
        )
        assert response.status_code == 400
        error = _error(response)
        assert error["code"] == "VALIDATION_ERROR"
        assert error["message"] == "The request body is not valid JSON."

    async def test_invalid_fields_are_listed_one_by_one(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/echo", json={"title": "", "count": "many"})
        assert response.status_code == 400
        error = _error(response)
        assert error["code"] == "VALIDATION_ERROR"
        fields = {d["field"] for d in error["details"]}  # type: ignore[attr-defined]
        assert fields == {"title", "count"}

    async def test_declared_oversized_body_is_413(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/echo", content=b"x" * 5000)
        assert response.status_code == 413
        error = _error(response)
        assert error["code"] == "TOO_LARGE"
        assert "2 KiB" in str(error["message"])

    async def test_streamed_oversized_body_is_413(self, client: httpx.AsyncClient) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(10):
                yield b'{"title": "' + b"y" * 500

        response = await client.post(
            "/api/v1/echo", content=chunks(), headers={"content-type": "application/json"}
        )
        assert response.status_code == 413
        assert _error(response)["code"] == "TOO_LARGE"

    async def test_domain_errors_keep_their_message(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/missing-thing")
        assert response.status_code == 404
        assert _error(response)["message"] == "That request does not exist."

    async def test_a_bug_is_a_bare_500_with_only_the_correlation_id(
        self, client: httpx.AsyncClient, capfd: pytest.CaptureFixture[str]
    ) -> None:
        response = await client.get("/api/v1/boom")
        assert response.status_code == 500
        error = _error(response)
        assert set(error) == {"code", "message", "correlationId"}
        assert error["code"] == "INTERNAL_ERROR"
        assert "hunter2" not in response.text and "SELECT" not in response.text
        logged = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line]
        crash = [entry for entry in logged if entry["event"] == "http.unhandled_error"]
        assert crash and crash[0]["correlation_id"] == error["correlationId"]
        assert "RuntimeError" in crash[0]["exception"]


class TestCorrelationId:
    async def test_a_new_id_is_given_to_every_response(self, client: httpx.AsyncClient) -> None:
        first = await client.get("/health")
        second = await client.get("/health")
        ids = {first.headers["x-correlation-id"], second.headers["x-correlation-id"]}
        assert len(ids) == 2
        assert all(uuid.UUID(i) for i in ids)

    async def test_the_callers_id_is_kept_and_logged(
        self, client: httpx.AsyncClient, capfd: pytest.CaptureFixture[str]
    ) -> None:
        response = await client.get("/api/v1/nope", headers={"X-Correlation-Id": "trace-42"})
        assert response.headers["x-correlation-id"] == "trace-42"
        assert response.json()["error"]["correlationId"] == "trace-42"
        logged = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line]
        access = [e for e in logged if e["event"] == "http.request" and e["path"] == "/api/v1/nope"]
        assert access and access[0]["correlation_id"] == "trace-42"

    async def test_an_unsafe_id_is_replaced(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/health", headers={"X-Correlation-Id": "a b\tc<script>"})
        assert uuid.UUID(response.headers["x-correlation-id"])


class TestSecurityHeaders:
    async def test_every_response_carries_them(self, client: httpx.AsyncClient) -> None:
        for response in (await client.get("/health"), await client.get("/api/v1/nope")):
            headers = response.headers
            assert headers["x-frame-options"] == "DENY"
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
            csp = headers["content-security-policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp
            assert "frame-ancestors 'none'" in csp
            assert "strict-transport-security" not in headers

    async def test_hsts_only_over_https(self, app: FastAPI) -> None:
        async with running(app, base_url="https://medianest.example") as http:
            response = await http.get("/health")
        assert response.headers["strict-transport-security"].startswith("max-age=31536000")

    async def test_api_docs_work_without_inline_scripts(self, client: httpx.AsyncClient) -> None:
        page = await client.get("/api/docs")
        assert page.status_code == 200
        assert "<script>" not in page.text and 'src="/api/docs/init.js"' in page.text
        assert "unsafe-inline" not in page.headers["content-security-policy"]
        spec = (await client.get("/api/openapi.json")).json()
        assert spec["info"]["title"] == "MediaNest"
        assert "/health/ready" in spec["paths"]


class TestCors:
    async def test_allowed_origin_gets_cors_headers(
        self, make_settings: SettingsFactory, database_url: str
    ) -> None:
        settings = make_settings(database_url=database_url, cors_origins="https://portal.example")
        app = create_app(settings)
        async with running(app) as http:
            allowed = await http.get("/health", headers={"Origin": "https://portal.example"})
            other = await http.get("/health", headers={"Origin": "https://evil.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://portal.example"
        assert "access-control-allow-origin" not in other.headers


class TestFieldNames:
    async def test_a_field_named_like_a_location_keeps_its_name(
        self, make_settings: SettingsFactory, database_url: str
    ) -> None:
        app = create_app(make_settings(database_url=database_url))

        @app.post("/api/v1/scan")
        async def scan(scan: Scan, query: int) -> None:
            return None

        async with running(app) as http:
            response = await http.post("/api/v1/scan?query=x", json={"path": ""})
        fields = {d["field"] for d in response.json()["error"]["details"]}
        assert fields == {"path", "query"}
