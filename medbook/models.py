"""The operation log (操作日志): who did what to which record, when, from where, and how it went.

Rows are only ever added (medbook.audit.record), chained by hashes; on PostgreSQL a trigger
refuses UPDATE and DELETE (only ``purge_audit_log`` may remove rows past the retention).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .fields import EncryptedTextField


class Outcome(models.TextChoices):
    SUCCESS = "success", _("Succeeded")
    FAILURE = "failure", _("Failed")
    DENIED = "denied", _("Denied")


class OperationLog(models.Model):
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    action = models.CharField(_("operation"), max_length=64)
    target_type = models.CharField(_("object type"), max_length=64, blank=True)
    target_id = models.CharField(_("object id"), max_length=64, blank=True)
    target_label = models.CharField(_("object"), max_length=200, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.SUCCESS
    )
    ip = models.GenericIPAddressField(_("from"), null=True, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    # Each row's hash covers its content and the previous row's hash, so an edited, inserted or
    # removed row breaks the chain (manage.py verify_audit_log).
    prev_hash = models.CharField(_("previous hash"), max_length=64, blank=True, editable=False)
    hash = models.CharField(_("hash"), max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("operation log entry")
        verbose_name_plural = _("operation log")
        indexes = [
            models.Index(fields=["action", "created_at"], name="oplog_action_idx"),
            models.Index(fields=["target_type", "target_id"], name="oplog_target_idx"),
            # One login's operations, newest first (the console's and admin's filter).
            models.Index(fields=["actor", "created_at"], name="oplog_actor_idx"),
        ]
        permissions = [("view_operation_log", _("Can browse the operation log"))]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action_label} {self.object_label}"

    @property
    def action_label(self) -> str:
        """The operation's name in the reader's language."""
        from .operations import action_label

        return action_label(self.action)

    @property
    def object_label(self) -> str:
        """The object's kind in the reader's language and its label."""
        from .operations import object_label

        return object_label(
            action=self.action, target_type=self.target_type, target_label=self.target_label
        )


class OutboxTask(models.Model):
    """A background job promised by a business change (a payment notice, a refund, a message).

    Written in the same transaction as the change, so the promise exists exactly when the change
    does; handed to the broker after commit and marked sent, or by the relay job when the broker
    was down (medbook.outbox). Jobs are idempotent, so a row relayed twice does no harm.
    """

    task = models.CharField(_("job"), max_length=200)
    args = models.JSONField(_("arguments"), default=list, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # The relay job leaves a row alone until then: the hand-over after commit goes first.
    relay_after = models.DateTimeField(_("relay after"), default=timezone.now)
    sent_at = models.DateTimeField(_("handed to the broker"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("promised job")
        verbose_name_plural = _("promised jobs (outbox)")
        indexes = [
            models.Index(
                fields=["relay_after"],
                name="outbox_unsent_idx",
                condition=models.Q(sent_at__isnull=True),
            ),
            models.Index(fields=["sent_at"], name="outbox_sent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)}"


class JobHeartbeat(models.Model):
    """When a periodic job (medbook.jobs) last succeeded and last failed, written by the worker
    as each run ends, read by ``/metrics`` (medbook.metrics): an alert fires on a job that
    stopped succeeding, whichever worker ran it."""

    task = models.CharField(_("job"), max_length=200, unique=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    last_failure_at = models.DateTimeField(_("last failure"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("job heartbeat")
        verbose_name_plural = _("job heartbeats")

    def __str__(self) -> str:
        return self.task


class CacheEntry(models.Model):
    """The shared cache's stand-in while Redis is unreachable (medbook.cache): counters stay
    atomic and shared by every process, so rate limits hold during a Redis outage."""

    key = models.CharField(max_length=250, primary_key=True)
    value = models.BinaryField(null=True)  # pickled; None when the entry is a counter
    number = models.BigIntegerField(null=True)  # counters, so increments happen in SQL
    expires_at = models.DateTimeField(null=True, db_index=True)  # None: never

    class Meta:
        verbose_name = _("fallback cache entry")
        verbose_name_plural = _("fallback cache entries")

    def __str__(self) -> str:
        return self.key


class ClinicProfile(models.Model):
    """The clinic's name, address, phone and opening hours (one row, pk 1), edited by clinic
    admins in the console; shown in every page's footer, on the ticket and wherever a page asks
    the patient to call."""

    name = models.CharField(_("clinic name"), max_length=64, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    hours = models.CharField(
        _("opening hours"),
        max_length=200,
        blank=True,
        help_text=_("As patients should read them, e.g. 周一至周日 08:00–17:30"),
    )
    # The same in English, for pages read in English (blank: the Chinese one is shown).
    name_en = models.CharField(
        _("clinic name (English)"), max_length=64, blank=True, db_default="", default=""
    )
    address_en = models.CharField(
        _("address (English)"), max_length=200, blank=True, db_default="", default=""
    )
    hours_en = models.CharField(
        _("opening hours (English)"),
        max_length=200,
        blank=True,
        db_default="",
        default="",
        help_text=_("e.g. Daily 08:00–17:30"),
    )
    # 实名制: only a patient whose real name is verified (identity) may be booked for.
    booking_requires_verified_patient = models.BooleanField(
        _("booking requires a verified patient"),
        default=False,
        db_default=False,
        help_text=_(
            "On: appointments are booked only for patients whose name and ID number are "
            "verified (online or at the front desk)."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("clinic details")
        verbose_name_plural = _("clinic details")

    def __str__(self) -> str:
        return self.name or str(_("clinic details"))


class TokenRevocation(models.TextChoices):
    LOGOUT = "logout", _("logged out")
    REUSE = "reuse", _("a used refresh token came back")
    EPOCH = "epoch", _("logged out everywhere or password changed")


class ApiTokenFamily(models.Model):
    """One API login (medbook.api.tokens): the chain of refresh tokens it rotates through.

    Only the newest refresh token (``current_jti``) is good, once. Every refresh token of the
    family was signed by us, so one whose id is not the current one was rotated before: someone
    kept a copy, and the whole family is revoked. Logging out revokes it too. One row per login,
    whatever the number of refreshes."""

    id = models.UUIDField(primary_key=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # The login passed the second factor (TOTP): staff need it to use the API.
    second_factor = models.BooleanField(_("second factor"), default=False)
    current_jti = models.CharField(_("current refresh token"), max_length=64)
    refreshed_at = models.DateTimeField(_("last refreshed"), null=True, blank=True)
    # When the current refresh token expires: a family past it has ended by itself.
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_reason = models.CharField(
        _("why revoked"), max_length=16, choices=TokenRevocation.choices, blank=True
    )

    class Meta:
        verbose_name = _("API login")
        verbose_name_plural = _("API logins")
        indexes = [
            models.Index(
                fields=["user"],
                name="api_family_live_idx",
                condition=models.Q(revoked_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return str(self.id)


class WebhookSubscription(models.Model):
    """A partner system's address that MedBook POSTs chosen events to (medbook.webhooks),
    signed with the subscription's own secret (stored encrypted, shown to the admin once)."""

    url = models.URLField(_("address"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list)
    secret = EncryptedTextField(_("signing secret"), purpose="webhook.secret")
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    secret_rotated_at = models.DateTimeField(_("secret made"), default=timezone.now)
    history = HistoricalRecords(excluded_fields=["secret"])

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        permissions = [("manage_webhooks", _("Can manage webhook subscriptions"))]

    def __str__(self) -> str:
        return self.description or self.url


class WebhookEvent(models.Model):
    """One thing that happened (an appointment booked, a refund done), with its payload; its
    ``id`` is the ``MedBook-Event-Id`` receivers deduplicate on. Written by ``emit`` in the
    transaction of the change, only when some active subscription wants the event."""

    id = models.UUIDField(primary_key=True, editable=False)
    type = models.CharField(_("event"), max_length=64)
    payload = models.JSONField(_("payload"), default=dict)
    created_at = models.DateTimeField(_("happened"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Sending")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One event to one subscription: tried until a 2xx answer, with exponential backoff, for
    ``MEDBOOK_WEBHOOK_RETRY_HOURS``; then failed (an admin may send it again)."""

    event = models.ForeignKey(
        WebhookEvent, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("event")
    )
    subscription = models.ForeignKey(
        WebhookSubscription,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("subscription"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # When the next attempt is due (a job that claims the row moves it on by a lease).
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    # Retries stop after this; a re-send from the console starts a new window.
    give_up_at = models.DateTimeField(_("retry until"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last answer"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=200, blank=True)
    # An admin asked to send it again; the next attempt names them.
    resent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent again by"),
    )

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["event", "subscription"], name="hooks_one_delivery")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="hooks_due_idx",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["subscription", "-created_at"], name="hooks_sub_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.subscription_id}"

    @property
    def status_tone(self) -> str:
        return {"pending": "wait", "succeeded": "ok", "failed": "full"}[self.status]


class WebhookAttempt(models.Model):
    """One POST of a delivery: what came back and how long it took."""

    delivery = models.ForeignKey(
        WebhookDelivery,
        on_delete=models.CASCADE,
        related_name="attempt_rows",
        verbose_name=_("delivery"),
    )
    number = models.PositiveIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("sent"))
    status_code = models.PositiveSmallIntegerField(_("answer"), null=True, blank=True)
    response_ms = models.PositiveIntegerField(_("response time (ms)"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=200, blank=True)
    ok = models.BooleanField(_("delivered"), default=False)
    resent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent again by"),
    )

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="hooks_attempt_number")
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}"
