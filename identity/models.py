"""Real-name verification attempts: who asked to verify which ID number, with which provider,
through which channel, and what came back. Never the name or the ID number in plain text: the
number is kept as its keyed blind index only (enough to count and find the attempts on one ID)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import NATIONAL_ID_PURPOSE

from .choices import Channel, Outcome

# The ID numbers attempts are about are kept as the same keyed blind index as the patients'
# and members' ID numbers (medbook.crypto.blind_index): the attempts on one number are found
# with one search, and nothing in the table reveals the number.
SUBJECT_PURPOSE = NATIONAL_ID_PURPOSE


class VerificationAttempt(models.Model):
    """One question to a verifier (or one check of a document in person at the desk).
    Rows are only added (identity.services)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("asked by"),
    )
    patient = models.ForeignKey(
        "members.Patient",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="verification_attempts",
        verbose_name=_("for patient"),
    )
    subject_index = models.CharField(_("ID number (blind index)"), max_length=64, editable=False)
    id_type = models.CharField(_("document type"), max_length=32)
    provider = models.CharField(_("provider"), max_length=32)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    reference = models.CharField(_("provider reference"), max_length=64, blank=True)
    code = models.CharField(_("provider code"), max_length=64, blank=True)
    message = models.CharField(_("provider message"), max_length=200, blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("verification attempt")
        verbose_name_plural = _("verification attempts")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="idv_user_recent_idx"),
            models.Index(fields=["subject_index", "-created_at"], name="idv_subject_recent_idx"),
        ]
        permissions = [
            ("verify_in_person", _("Can verify a patient's real name in person")),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.outcome} #{self.pk}"
