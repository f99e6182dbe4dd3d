"""How messages reach members beyond the inbox: every text and e-mail sent, with its outcome
(``SendRecord``), and each member's choice of channels (``ChannelPreferences``).

Models only; imported at the end of ``members.models`` so the app registry finds them. The
sending side is ``members.sms`` and ``members.delivery``; receipts are ``members.receipts``;
the preferences' rules are ``members.preferences``.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords


class Channel(models.TextChoices):
    SMS = "sms", _("Text message")
    EMAIL = "email", _("E-mail")


class SendStatus(models.TextChoices):
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")  # the provider accepted it
    DELIVERED = "delivered", _("Delivered")  # the provider's receipt says the phone got it
    FAILED = "failed", _("Failed")


class SendRecord(models.Model):
    """One attempt to send one text or e-mail: to whom (masked), through which provider, its
    provider's id (the receipt names it) and outcome. A retry is a new row."""

    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    purpose = models.CharField(
        _("what"), max_length=32, help_text=_("The text's template: a message kind or a code.")
    )
    message = models.ForeignKey(
        "members.Message",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="send_records",
        verbose_name=_("message"),
    )
    recipient = models.CharField(_("to"), max_length=64)  # masked: 138****1234, z***@example.com
    provider = models.CharField(pgettext_lazy("sms", "provider"), max_length=16)
    provider_id = models.CharField(_("provider's id"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=SendStatus.choices, default=SendStatus.SENDING
    )
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    error_message = models.CharField(_("error"), max_length=200, blank=True)
    retryable = models.BooleanField(_("retryable"), default=False)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("answered"), null=True, blank=True)
    reported_at = models.DateTimeField(_("receipt"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("send record")
        verbose_name_plural = _("send records")
        indexes = [
            # A delivery receipt finds its record by the provider's id.
            models.Index(fields=["provider", "provider_id"], name="sendrecord_provider_id_idx"),
            models.Index(fields=["started_at"], name="sendrecord_started_idx"),
        ]

    def __str__(self) -> str:
        # No text key (a code, not words): the admin's columns name the text.
        return f"{self.get_channel_display()} → {self.recipient}"

    @property
    def seconds(self) -> float | None:
        """How long the provider took to answer."""
        if self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 3)


class ChannelPreferences(models.Model):
    """Which messages a member also wants by text and e-mail (every message is in the inbox;
    security codes are always texted). No row: every channel on."""

    member = models.OneToOneField(
        "members.Member",
        on_delete=models.CASCADE,
        related_name="channel_preferences",
        verbose_name=_("member"),
    )
    sms_reminders = models.BooleanField(_("reminders by text"), default=True)
    sms_appointments = models.BooleanField(_("booking changes by text"), default=True)
    sms_membership = models.BooleanField(_("points and level by text"), default=True)
    email = models.BooleanField(_("messages by e-mail"), default=True)
    updated_at = models.DateTimeField(_("changed"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("channel preferences")
        verbose_name_plural = _("channel preferences")

    def __str__(self) -> str:
        return str(self.member_id)
