"""Real-name verifier adapters, chosen by MEDBOOK_REALNAME_PROVIDER: ``sandbox`` (the default,
deterministic answers for demo IDs) or ``tencent`` (Tencent Cloud FaceID IdCardVerification,
with MEDBOOK_TENCENT_SECRET_ID / MEDBOOK_TENCENT_SECRET_KEY)."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from .base import Result, Verifier
from .sandbox import SandboxVerifier

PROVIDERS = ("sandbox", "tencent")


@cache
def configured_verifier() -> Verifier:
    """The verifier the settings choose (made once; settings changes in tests start again)."""
    if settings.MEDBOOK_REALNAME_PROVIDER == "tencent":
        from .tencent import TencentIdCardVerifier

        return TencentIdCardVerifier(
            secret_id=settings.MEDBOOK_TENCENT_SECRET_ID,
            secret_key=settings.MEDBOOK_TENCENT_SECRET_KEY,
            url=settings.MEDBOOK_TENCENT_FACEID_URL,
            timeout=settings.MEDBOOK_REALNAME_TIMEOUT_SECONDS,
        )
    return SandboxVerifier()


@receiver(setting_changed)
def _reset(**kwargs: object) -> None:
    if str(kwargs.get("setting", "")).startswith("MEDBOOK_"):
        configured_verifier.cache_clear()


__all__ = ["PROVIDERS", "Result", "Verifier", "configured_verifier"]
