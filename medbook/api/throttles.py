"""API request limits per address and per login, on the shared counters the web's limits use
(medbook.throttle: one atomic increment in Redis, so every web process counts together)."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from typing import Any

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from .. import throttle
from ..audit import client_ip

__all__ = ["PerAddressThrottle", "PerLoginThrottle"]


class _SharedThrottle(BaseThrottle, ABC):
    """A limit on one of medbook.throttle's shared counters: ``scope`` names it, ``setting`` its
    rate, and ``who`` the caller it counts (None: not limited by this one)."""

    scope = ""
    setting = ""

    @abstractmethod
    def who(self, request: Any) -> str | None: ...

    def allow_request(self, request: Any, view: Any) -> bool:
        who = self.who(request)
        if who is None:
            return True
        self.rate = getattr(settings, self.setting)
        return throttle.allow(scope=self.scope, who=who, rate=self.rate)

    def wait(self) -> float:
        """Until the shortest window of the rate starts again."""
        windows = [throttle.parse_rate(part.strip())[1] for part in self.rate.split(",")]
        window = min(windows)
        return window - time.time() % window


class PerAddressThrottle(_SharedThrottle):
    scope = "api-ip"
    setting = "MEDBOOK_API_RATE_IP"

    def who(self, request: Any) -> str | None:
        return client_ip(request) or "-"


class PerLoginThrottle(_SharedThrottle):
    scope = "api-user"
    setting = "MEDBOOK_API_RATE_USER"

    def who(self, request: Any) -> str | None:
        user = request.user
        return str(user.pk) if user is not None and user.is_authenticated else None
