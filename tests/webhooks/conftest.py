"""Webhook fixtures: receivers on 127.0.0.1 are allowed (plain http, loopback)."""

from __future__ import annotations

import pytest

from medbook import webhooks
from medbook.webhooks import subscriptions


@pytest.fixture(autouse=True)
def _local_receivers(settings) -> None:
    settings.MEDBOOK_WEBHOOK_ALLOW_HOSTS = ["127.0.0.1"]


@pytest.fixture
def subscribe(clinic_admin, django_capture_on_commit_callbacks):
    """subscribe(url, events) -> (subscription, secret), made as a clinic admin would."""

    def make(url: str = "http://127.0.0.1:9/hook", events=None):
        with django_capture_on_commit_callbacks(execute=True):
            return subscriptions.create_subscription(
                url=url, events=list(events or webhooks.EVENTS), by=clinic_admin
            )

    return make
