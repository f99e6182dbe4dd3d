"""The API tests ask for English often; a request leaves its language active in this thread
(as Django's own locale middleware does), so each test gives the clinic's language back for
the tests after it."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import translation


@pytest.fixture(autouse=True)
def _clinic_language_after_each_test():
    yield
    translation.activate(settings.LANGUAGE_CODE)
