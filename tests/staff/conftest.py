"""Fixtures of the staff console's and admin's tests."""

from __future__ import annotations

import pytest

from tests.conftest import enable_totp
from tests.members.factories import UserFactory


@pytest.fixture
def admin_client(client):
    """A superuser with two-factor on, logged in (Django admin wants both)."""
    user = UserFactory(is_staff=True, is_superuser=True)
    enable_totp(user)
    client.force_login(user)
    return client
