"""Issue 14: the OpenAPI 3.1 schema is generated without a warning, validates, and describes
every operation's errors with the one error body."""

from __future__ import annotations

import io

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def _schema() -> dict:
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    return yaml.safe_load(out.getvalue())


def test_the_schema_validates_without_warnings() -> None:
    schema = _schema()
    assert schema["openapi"] == "3.1.0"
    assert all(path.startswith("/api/v1/") for path in schema["paths"])


def test_every_operation_describes_its_errors() -> None:
    schema = _schema()
    error = {"$ref": "#/components/schemas/ErrorResponse"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "429" in responses, (path, method)
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    assert response["content"]["application/json"]["schema"] == error
    me = schema["paths"]["/api/v1/me/"]["get"]["responses"]
    assert {"200", "401", "403", "429"} <= set(me)
    token = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]
    assert {"200", "400", "401", "403", "429"} <= set(token)
    assert "409" in schema["paths"]["/api/v1/auth/signup/"]["post"]["responses"]
    assert "404" in schema["paths"]["/api/v1/doctors/{id}/sessions/"]["get"]["responses"]
    # The input policy answers 400 anywhere; a body that is not JSON, 415 where there is one.
    assert all("400" in op["responses"] for ops in schema["paths"].values() for op in ops.values())
    assert "415" in token and "415" not in me
    assert "415" not in schema["paths"]["/api/v1/messages/read-all/"]["post"]["responses"]
    detail = schema["components"]["schemas"]["ErrorDetail"]
    assert set(detail["required"]) == {"code", "message", "fields"}


def test_the_page_size_is_documented_with_its_bounds() -> None:
    parameters = _schema()["paths"]["/api/v1/messages/"]["get"]["parameters"]
    page_size = next(p for p in parameters if p["name"] == "page_size")
    assert page_size["schema"] == {"type": "integer", "minimum": 1, "maximum": 100}


def test_the_schema_and_the_docs_are_served(client) -> None:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "MedBook API"
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<style" not in html and "<script>" not in html  # nothing inline (CSP)
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()


def test_the_appointment_operations_describe_their_refusals() -> None:
    paths = _schema()["paths"]
    book = paths["/api/v1/appointments/"]["post"]
    assert {"201", "400", "401", "403", "409", "422", "429"} <= set(book["responses"])
    header = next(p for p in book["parameters"] if p["name"] == "Idempotency-Key")
    assert header["in"] == "header" and not header.get("required", False)
    assert {"Idempotent-Replayed", "Location"} <= set(book["responses"]["201"]["headers"])
    for code in ("sold_out", "not_yet_open", "already_booked", "tier_limit", "banned"):
        assert code in book["description"]
    pay = paths["/api/v1/appointments/{id}/pay/"]["post"]
    assert {"200", "404", "409"} <= set(pay["responses"])
    for code in ("already_paid", "hold_expired", "cancelled", "gateway_unavailable"):
        assert code in pay["description"]
    cancel = paths["/api/v1/appointments/{id}/cancel/"]
    assert {"get", "post"} <= set(cancel) and "409" in cancel["post"]["responses"]
