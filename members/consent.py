"""Agreements a member consents to (PIPL): 《用户协议》, 《隐私政策》 and the separate consent to
the processing of sensitive personal information (health data), each a versioned document.

Models only; imported at the end of ``members.models`` so the app registry finds them. The
clinic edits the documents in Django admin: a new version is a new row, and the current one of
a kind is the latest published (``published_at`` reached). A member's consent names the exact
row (kind and version) they accepted, when and from where.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

CHINESE = re.compile("[\u4e00-\u9fff]")


class AgreementKind(models.TextChoices):
    TERMS = "terms", _("Terms of service")
    PRIVACY = "privacy", _("Privacy policy")
    SENSITIVE = "sensitive", _("Consent to process sensitive personal information")


# Accepted at sign-up and asked again at login when a new version is published.
SIGNUP_KINDS = (AgreementKind.TERMS, AgreementKind.PRIVACY)


class Agreement(models.Model):
    """One version of a document members agree to. Published rows are not meant to be edited
    (publish a new version instead): consents point at the row they accepted."""

    kind = models.CharField(_("document"), max_length=16, choices=AgreementKind.choices)
    version = models.CharField(
        _("version"), max_length=32, help_text=_("For example 2026-12 or 1.1; unique per document.")
    )
    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(_("text"), help_text=_("Plain text; blank lines separate paragraphs."))
    published_at = models.DateTimeField(
        _("published"),
        null=True,
        blank=True,
        help_text=_(
            "From this time the version is the current one and members are asked to accept it "
            "(at their next login, or before their next booking for the sensitive-information "
            "consent). Empty: a draft."
        ),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["kind", "-published_at", "-id"]
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="agreement_kind_version"),
        ]
        indexes = [models.Index(fields=["kind", "published_at"], name="agreement_current_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.version}"

    @property
    def paragraphs(self) -> list[str]:
        return [part.strip() for part in self.body.replace("\r\n", "\n").split("\n\n") if part]

    @property
    def language(self) -> str:
        """The text's language as HTML names it: "zh-Hans" when it is written in Chinese (the
        clinic's documents are), else "" (not known)."""
        return "zh-Hans" if CHINESE.search(self.title + self.body) else ""


class Consent(models.Model):
    """A login's acceptance of one agreement version. Append-only: a new version gets a new row;
    kept after the account is closed (the pseudonymous login), as evidence of consent."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="consents",
        verbose_name=_("user"),
    )
    agreement = models.ForeignKey(
        Agreement, on_delete=models.PROTECT, related_name="consents", verbose_name=_("agreement")
    )
    kind = models.CharField(_("document"), max_length=16, choices=AgreementKind.choices)
    version = models.CharField(_("version"), max_length=32)
    accepted_at = models.DateTimeField(_("accepted"), default=timezone.now)
    ip = models.GenericIPAddressField(_("from"), null=True, blank=True)

    class Meta:
        ordering = ["-accepted_at", "-id"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(fields=["user", "agreement"], name="consent_user_agreement"),
        ]
        indexes = [models.Index(fields=["accepted_at", "id"], name="consent_accepted_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.version}"
