"""The OpenAPI document matches what the server answers: each error a request really gets is
documented for its operation, in the error envelope, and request bodies parse strictly."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from medianest.app import create_app
from tests.conftest import SettingsFactory
from tests.factories.users import PASSWORD, make_user
from tests.integration.auth.conftest import csrf, finish_first_run, sign_in
from tests.support.app import Started, started


@pytest.fixture
async def medianest(make_settings: SettingsFactory, database_url: str) -> Any:
    async with started(create_app(make_settings(database_url=database_url))) as app:
        yield app


async def document(medianest: Started) -> dict[str, Any]:
    async with medianest.client() as http:
        answer = await http.get("/api/openapi.json")
    assert answer.status_code == 200
    schema: dict[str, Any] = answer.json()
    return schema


def documented(schema: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    responses: dict[str, Any] = schema["paths"][path][method.lower()]["responses"]
    return responses


class TestErrorsAreDocumented:
    async def test_no_operation_documents_a_422_and_every_error_is_the_envelope(
        self, medianest: Started
    ) -> None:
        schema = await document(medianest)

        assert "HTTPValidationError" not in schema["components"]["schemas"]
        envelope = schema["components"]["schemas"]["ErrorEnvelope"]
        assert set(envelope["properties"]) == {"success", "error"}
        for path, operations in schema["paths"].items():
            for method, operation in operations.items():
                assert "422" not in operation["responses"], f"{method} {path}"
                for status, response in operation["responses"].items():
                    if int(status) >= 400 and path.startswith("/api/v1/"):
                        ref = response["content"]["application/json"]["schema"]["$ref"]
                        assert ref.endswith("/ErrorEnvelope"), f"{method} {path} {status}"

    async def test_what_requests_really_get_is_documented_for_their_operation(
        self, medianest: Started, database_url: str
    ) -> None:
        schema = await document(medianest)
        await make_user(database_url, username="bob")
        answers: list[tuple[str, str, httpx.Response]] = []
        async with medianest.client() as anonymous:
            answers.append(
                ("GET", "/api/v1/auth/sessions", await anonymous.get("/api/v1/auth/sessions"))
            )
            answers.append(
                (
                    "POST",
                    "/api/v1/auth/login",
                    await anonymous.post("/api/v1/auth/login", json={"username": 5}),
                )
            )
        async with medianest.client() as bob:
            await sign_in(bob, "bob", PASSWORD)
            answers.append(("GET", "/api/v1/admin/users", await bob.get("/api/v1/admin/users")))
        async with medianest.client() as admin:
            await finish_first_run(admin)
            answers.append(
                (
                    "PATCH",
                    "/api/v1/admin/users/{user_id}",
                    await admin.patch(
                        "/api/v1/admin/users/00000000-0000-4000-8000-000000000000",
                        json={"role": "user"},
                        headers=csrf(admin),
                    ),
                )
            )
            answers.append(
                ("GET", "/api/v1/plex/libraries", await admin.get("/api/v1/plex/libraries"))
            )

        statuses = [answer.status_code for _, _, answer in answers]
        assert statuses == [401, 400, 403, 404, 503]
        for method, path, answer in answers:
            assert str(answer.status_code) in documented(schema, method, path), f"{method} {path}"
            assert answer.json()["success"] is False

    async def test_a_conflict_is_documented_where_one_can_happen(self, medianest: Started) -> None:
        schema = await document(medianest)

        assert "409" in documented(schema, "POST", "/api/v1/admin/plex/sync")
        assert "409" not in documented(schema, "GET", "/api/v1/plex/libraries")
        assert "429" not in documented(schema, "GET", "/api/v1/auth/session")


class TestStrictBodies:
    @pytest.mark.parametrize("full", [0, 1, "true", "yes"])
    async def test_a_boolean_must_be_a_boolean(self, medianest: Started, full: object) -> None:
        async with medianest.client() as admin:
            await finish_first_run(admin)
            answer = await admin.post(
                "/api/v1/admin/plex/sync", json={"full": full}, headers=csrf(admin)
            )

        assert answer.status_code == 400
        error = answer.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert [detail["field"] for detail in error["details"]] == ["full"]

    async def test_a_number_must_be_a_number(self, medianest: Started) -> None:
        async with medianest.client() as http:
            answer = await http.post("/api/v1/auth/plex/verify", json={"pinId": "12"})

        assert answer.status_code == 400
        assert answer.json()["error"]["details"][0]["field"] == "pinId"
