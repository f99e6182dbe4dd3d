"""allauth's per-address limits count the client's address as the rest of MedBook does
(medbook.audit.client_ip): behind a proxy listed in MEDBOOK_TRUSTED_PROXIES, the address
X-Forwarded-For gives; from anywhere else, the socket's. allauth's own reading took the
socket's address always, so behind the load balancer every member shared one address and the
clinic's sign-ups (20 an hour) and logins (30 a minute) were one visitor's."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

LIMITS = {"login": "2/m/ip"}


def attempt(client: Client, number: int, address: str) -> int:
    response = client.post(
        reverse("account_login"),
        {"login": f"1390000{number:04d}", "password": "not-the-password"},
        HTTP_X_FORWARDED_FOR=address,
    )
    return response.status_code


def test_behind_a_trusted_proxy_each_forwarded_address_has_its_own_login_limit(
    levels, settings
) -> None:
    settings.MEDBOOK_TRUSTED_PROXIES = ["127.0.0.1"]  # the test client's REMOTE_ADDR
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, **LIMITS}
    client = Client()
    assert [attempt(client, n, "198.18.0.1") for n in range(3)] == [200, 200, 429]
    assert attempt(client, 3, "198.18.0.2") == 200  # another visitor behind the balancer
    assert attempt(client, 4, "198.18.0.1") == 429  # the first one still limited


def test_a_forwarded_address_from_an_untrusted_peer_is_not_believed(levels, settings) -> None:
    settings.MEDBOOK_TRUSTED_PROXIES = []
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, **LIMITS}
    client = Client()
    statuses = [attempt(client, n, f"198.18.0.{n + 1}") for n in range(3)]
    assert statuses == [200, 200, 429]  # a new X-Forwarded-For each time does not help
