"""Every route of MedBook for every role, from one table (tests/security/matrix.py); a route
without a row fails the build."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse

from tests.security.matrix import MATRIX, ROLES, A, L, S, routes_without_a_row
from tests.security.world import matrix_world, route_url  # noqa: F401  (fixture: world)

pytestmark = pytest.mark.django_db

LOGIN_PAGES = {L: "account_login", S: "staff:login", A: "admin:login"}


def test_every_route_has_a_row() -> None:
    assert routes_without_a_row() == []


@override_settings(ROOT_URLCONF="tests.security.urls_with_a_new_route")
def test_a_route_added_without_a_row_fails() -> None:
    assert routes_without_a_row() == ["brand_new_report"]


def _call_api(client, method: str, url: str, payload: dict, user):
    """An app's call: JSON, with the login's bearer token (staff past their second factor)."""
    from medbook.api.authentication import needs_second_factor
    from medbook.api.tokens import issue_tokens

    headers = {}
    if user is not None:
        pair = issue_tokens(user=user, second_factor=needs_second_factor(user))
        headers["HTTP_AUTHORIZATION"] = f"Bearer {pair.access}"
    if method == "get":
        return client.get(url, payload, **headers)
    return getattr(client, method)(url, payload, content_type="application/json", **headers)


def _cases():
    for name, rows in MATRIX.items():
        for method, arg, data, expected in rows:
            for role, status in zip(ROLES, expected, strict=True):
                yield pytest.param(
                    name, method, arg, data, role, status, id=f"{name}-{method}-{arg}-{role}"
                )


@pytest.mark.parametrize(("name", "method", "arg", "data", "role", "expected"), list(_cases()))
def test_each_role_gets_what_the_matrix_says(
    client, world, name, method, arg, data, role, expected
) -> None:
    user = world["people"][role]
    payload = {key: world.get(value, value) for key, value in data.items()}
    if name.startswith(("api:", "fhir:")):
        response = _call_api(client, method, route_url(name, arg, world), payload, user)
    else:
        if user is not None:
            client.force_login(user)
        response = getattr(client, method)(route_url(name, arg, world), payload)
    if expected in LOGIN_PAGES:
        assert response.status_code == 302, response.status_code
        assert response["Location"].startswith(reverse(LOGIN_PAGES[expected]) + "?next=")
    else:
        assert response.status_code == expected, response.content[:300]
