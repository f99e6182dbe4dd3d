"""Orders for paid appointments (支付结算)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from appointments.models import Appointment, Department, Doctor
from members.models import InsuranceType, InsurerChoice, Member, MemberLevel, Patient, User

from .choices import Gateway, MismatchKind, NotificationOutcome, OrderStatus, RefundStatus


class Order(models.Model):
    """What a member owes for one appointment: the fee times their level's price factor."""

    appointment = models.OneToOneField(
        Appointment, on_delete=models.PROTECT, related_name="order", verbose_name=_("appointment")
    )
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="orders", verbose_name=_("member")
    )
    out_trade_no = models.CharField(_("order number"), max_length=32, unique=True)
    gateway = models.CharField(_("payment method"), max_length=16, choices=Gateway.choices)
    original_amount = models.DecimalField(_("fee"), max_digits=10, decimal_places=2)
    discount_rate = models.DecimalField(_("price factor"), max_digits=3, decimal_places=2)
    amount = models.DecimalField(_("amount payable"), max_digits=10, decimal_places=2)
    refunded_amount = models.DecimalField(
        _("refunded"), max_digits=10, decimal_places=2, default=Decimal("0.00")
    )
    status = models.CharField(
        _("status"), max_length=24, choices=OrderStatus.choices, default=OrderStatus.UNPAID
    )
    gateway_trade_no = models.CharField(
        _("gateway transaction"), max_length=64, null=True, blank=True, unique=True
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("pay before"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # A top-up (补差价): the difference of a move to a dearer session, paid on top of this
    # earlier order of the same booking, which stays paid and counts towards the visit.
    top_up_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="top_ups",
        verbose_name=_("top-up of"),
        db_index=False,  # the partial index below: few orders are top-ups
    )
    # When the reconciliation job asked the gateway about an order it closed unpaid.
    gateway_checked_at = models.DateTimeField(_("checked at the gateway"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        permissions = [("take_counter_payment", _("Can take payment at the front desk"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(original_amount__gte=0) & Q(amount__gte=0),
                name="order_amounts_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(discount_rate__gte=0) & Q(discount_rate__lte=1),
                name="order_discount_rate_0_1",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("amount")),
                name="order_refunds_within_amount",
            ),
            # Invariant 5: an order is never both paid and closed.
            models.CheckConstraint(
                condition=~(Q(status=OrderStatus.CLOSED) & Q(paid_at__isnull=False)),
                name="order_closed_never_paid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[OrderStatus.UNPAID, OrderStatus.CLOSED])
                | Q(paid_at__isnull=False),
                name="order_paid_has_paid_at",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="order_status_expiry_idx"),
            # The reports' money rollup rebuilds a range of days by when orders were paid.
            models.Index(fields=["paid_at"], name="order_paid_at_idx"),
            # Admin's list, newest first (its default ordering; issue 17 at 1M).
            models.Index(fields=["created_at"], name="order_created_idx"),
            models.Index(
                fields=["top_up_of"],
                name="order_top_up_of_idx",
                condition=Q(top_up_of__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.out_trade_no


class GatewayNotification(models.Model):
    """Every asynchronous notification a gateway sent, stored raw before anything else."""

    gateway = models.CharField(_("payment method"), max_length=16, choices=Gateway.choices)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    body = models.TextField(_("body"))
    # "text" (UTF-8 as sent) or "base64" (bytes that are not plain text, kept exactly).
    body_encoding = models.CharField(_("body encoding"), max_length=8, default="text")
    headers = models.JSONField(_("headers"), default=dict)
    remote_addr = models.GenericIPAddressField(_("from"), null=True, blank=True)
    signature_valid = models.BooleanField(_("signature valid"), default=False)
    out_trade_no = models.CharField(_("order number"), max_length=64, blank=True)
    gateway_trade_no = models.CharField(_("gateway transaction"), max_length=64, blank=True)
    outcome = models.CharField(
        _("outcome"),
        max_length=24,
        choices=NotificationOutcome.choices,
        default=NotificationOutcome.RECEIVED,
    )
    detail = models.CharField(_("detail"), max_length=200, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("gateway notification")
        verbose_name_plural = _("gateway notifications")
        indexes = [
            models.Index(fields=["out_trade_no"], name="notification_order_idx"),
            models.Index(fields=["received_at"], name="notification_received_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.gateway} {self.out_trade_no or '?'} {self.outcome}"


class SandboxTrade(models.Model):
    """The sandbox gateway's own ledger: one payment per order, as a real gateway keeps it."""

    trade_no = models.CharField(_("gateway transaction"), max_length=64, unique=True)
    out_trade_no = models.CharField(_("order number"), max_length=32, unique=True)
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    paid_at = models.DateTimeField(_("paid at"))
    notify_attempts = models.PositiveSmallIntegerField(_("notify attempts"), default=0)
    notified_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)

    class Meta:
        ordering = ["-paid_at"]
        verbose_name = _("sandbox payment")
        verbose_name_plural = _("sandbox payments")
        indexes = [models.Index(fields=["paid_at"], name="sandboxtrade_paid_idx")]

    def __str__(self) -> str:
        return self.trade_no


class Refund(models.Model):
    """Money going back for an order, requested once and carried out by the gateway that took
    it (the order's, or ``gateway`` for a stray payment taken elsewhere)."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("order")
    )
    out_refund_no = models.CharField(_("refund number"), max_length=40, unique=True)
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=RefundStatus.choices, default=RefundStatus.REQUESTED
    )
    gateway_refund_no = models.CharField(_("gateway refund number"), max_length=64, blank=True)
    stray_trade_no = models.CharField(
        _("returned payment"),
        max_length=64,
        blank=True,
        help_text=_("Set when the money returned is a payment the order never took (paid late)."),
    )
    # The gateway the money goes back through when it is not the order's: a stray payment
    # taken by a gateway the member switched away from. Empty: the order's gateway.
    gateway = models.CharField(
        _("payment method"),
        max_length=16,
        choices=Gateway.choices,
        blank=True,
        default="",
        db_default="",
    )
    requested_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    completed_at = models.DateTimeField(_("refunded at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_gt_0"),
        ]
        # The reports' money rollup rebuilds a range of days by when refunds completed.
        indexes = [
            models.Index(fields=["completed_at"], name="refund_completed_at_idx"),
            models.Index(fields=["created_at"], name="refund_created_idx"),
        ]

    def __str__(self) -> str:
        return self.out_refund_no

    @property
    def through(self) -> str:
        """The gateway that carries the refund out (the one that took the money)."""
        return self.gateway or self.order.gateway


class SandboxRefund(models.Model):
    """The sandbox gateway's record of a refund; one per refund number, however often asked."""

    trade = models.ForeignKey(
        SandboxTrade, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("payment")
    )
    out_refund_no = models.CharField(_("refund number"), max_length=40, unique=True)
    refund_no = models.CharField(_("gateway refund number"), max_length=64, unique=True)
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    refunded_at = models.DateTimeField(_("refunded at"))

    class Meta:
        ordering = ["-refunded_at"]
        verbose_name = _("sandbox refund")
        verbose_name_plural = _("sandbox refunds")
        indexes = [models.Index(fields=["refunded_at"], name="sandboxrefund_refunded_idx")]

    def __str__(self) -> str:
        return self.refund_no


class Settlement(models.Model):
    """One gateway's takings for one clinic day, reconciled against the gateway's records."""

    day = models.DateField(_("day"))
    gateway = models.CharField(_("payment method"), max_length=16, choices=Gateway.choices)
    payments_count = models.PositiveIntegerField(_("payments"), default=0)
    payments_total = models.DecimalField(
        _("paid in"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    refunds_count = models.PositiveIntegerField(_("refunds"), default=0)
    refunds_total = models.DecimalField(
        _("refunded"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    mismatch_count = models.PositiveIntegerField(_("mismatches"), default=0)
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)

    class Meta:
        ordering = ["-day", "gateway"]
        verbose_name = _("daily settlement")
        verbose_name_plural = _("daily settlements")
        constraints = [
            models.UniqueConstraint(fields=["day", "gateway"], name="settlement_day_gateway"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.get_gateway_display()}"

    @property
    def net_total(self) -> Decimal:
        return self.payments_total - self.refunds_total


class SettlementLine(models.Model):
    """A settlement's totals for one doctor (and so their department)."""

    settlement = models.ForeignKey(
        Settlement, on_delete=models.CASCADE, related_name="lines", verbose_name=_("settlement")
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("department")
    )
    doctor = models.ForeignKey(
        Doctor, on_delete=models.PROTECT, related_name="+", verbose_name=_("doctor")
    )
    payments_count = models.PositiveIntegerField(_("payments"), default=0)
    payments_total = models.DecimalField(_("paid in"), max_digits=12, decimal_places=2)
    refunds_count = models.PositiveIntegerField(_("refunds"), default=0)
    refunds_total = models.DecimalField(_("refunded"), max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["department__sort_order", "doctor__name"]
        verbose_name = _("settlement line")
        verbose_name_plural = _("settlement lines")
        constraints = [
            models.UniqueConstraint(fields=["settlement", "doctor"], name="settlementline_doctor"),
        ]

    def __str__(self) -> str:
        return f"{self.settlement} {self.doctor_id}"


class SettlementMismatch(models.Model):
    """A transaction on which MedBook and the gateway disagree, for staff to resolve."""

    settlement = models.ForeignKey(
        Settlement,
        on_delete=models.CASCADE,
        related_name="mismatches",
        verbose_name=_("settlement"),
    )
    kind = models.CharField(_("kind"), max_length=24, choices=MismatchKind.choices)
    transaction_type = models.CharField(_("type"), max_length=8)  # payment / refund
    reference = models.CharField(_("gateway reference"), max_length=64)
    out_trade_no = models.CharField(_("order number"), max_length=32, blank=True)
    medbook_amount = models.DecimalField(
        _("MedBook amount"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    gateway_amount = models.DecimalField(
        _("gateway amount"), max_digits=12, decimal_places=2, null=True, blank=True
    )

    class Meta:
        ordering = ["kind", "reference"]
        verbose_name = _("settlement mismatch")
        verbose_name_plural = _("settlement mismatches")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reference}"


class BookingKey(models.Model):
    """An ``Idempotency-Key`` a member's app sent with a booking (POST /api/v1/appointments/):
    written in the booking's own transaction, so a key names at most one booking, and a
    request repeated with the key (a retry after a lost answer, or two at once) gets the first
    one's answer back instead of a second booking. A refused booking writes no key: nothing was
    booked, and the app may try again with it."""

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="+", verbose_name=_("member")
    )
    key = models.CharField(_("idempotency key"), max_length=255)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    # Written first (it is what makes a second request with the key wait), then filled in by
    # the same transaction: a committed key always has its booking and its answer.
    appointment = models.ForeignKey(
        Appointment,
        on_delete=models.CASCADE,
        null=True,
        related_name="+",
        verbose_name=_("appointment"),
    )
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True)
    response_body = models.JSONField(_("response body"), null=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("booking idempotency key")
        verbose_name_plural = _("booking idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["member", "key"], name="bookingkey_member_key"),
        ]

    def __str__(self) -> str:
        return self.key


class InsurancePlan(models.Model):
    """The sandbox insurer's rules for one type of insurance (医保报销规则), edited in admin:
    the share of a visit the fund pays (统筹, by member level and department, most specific
    first), the deductible each patient pays themselves each year before the fund pays (起付线),
    the most the fund pays for one patient a year (年度封顶), and the share of the rest the
    patient's personal account pays (个人账户)."""

    insurance_type = models.CharField(
        _("insurance type"), max_length=16, choices=InsuranceType.choices, unique=True
    )
    ratio = models.DecimalField(
        _("reimbursement ratio"),
        max_digits=3,
        decimal_places=2,
        help_text=_("The share the fund pays, 0 to 1, unless a rule below says otherwise."),
    )
    deductible = models.DecimalField(
        _("yearly deductible"), max_digits=10, decimal_places=2, default=Decimal("0.00")
    )
    annual_cap = models.DecimalField(_("yearly fund cap"), max_digits=12, decimal_places=2)
    personal_account_ratio = models.DecimalField(
        _("personal account share"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.00"),
        help_text=_("The share of what the fund does not pay that the personal account pays."),
    )
    active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["insurance_type"]
        verbose_name = _("medical insurance plan")
        verbose_name_plural = _("medical insurance plans")
        constraints = [
            models.CheckConstraint(
                condition=Q(ratio__gte=0) & Q(ratio__lte=1), name="insuranceplan_ratio_0_1"
            ),
            models.CheckConstraint(
                condition=Q(personal_account_ratio__gte=0) & Q(personal_account_ratio__lte=1),
                name="insuranceplan_personal_0_1",
            ),
            models.CheckConstraint(
                condition=Q(deductible__gte=0) & Q(annual_cap__gte=0),
                name="insuranceplan_amounts_gte_0",
            ),
        ]

    def __str__(self) -> str:
        return self.get_insurance_type_display()


class InsuranceRatio(models.Model):
    """A plan's reimbursement ratio for a member level, a department, or both."""

    plan = models.ForeignKey(
        InsurancePlan, on_delete=models.CASCADE, related_name="ratios", verbose_name=_("plan")
    )
    level = models.ForeignKey(
        MemberLevel,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("member level"),
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("department"),
    )
    ratio = models.DecimalField(_("reimbursement ratio"), max_digits=3, decimal_places=2)

    class Meta:
        verbose_name = _("reimbursement ratio")
        verbose_name_plural = _("reimbursement ratios")
        constraints = [
            models.CheckConstraint(
                condition=Q(ratio__gte=0) & Q(ratio__lte=1), name="insuranceratio_0_1"
            ),
            models.CheckConstraint(
                condition=Q(level__isnull=False) | Q(department__isnull=False),
                name="insuranceratio_level_or_department",
            ),
            models.UniqueConstraint(
                fields=["plan", "level", "department"],
                name="insuranceratio_unique",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} {self.level or ''} {self.department or ''} {self.ratio}"


class InsuranceUsage(models.Model):
    """What one patient has used of the sandbox insurer's yearly limits: the deductible paid
    and the fund paid. Locked while a visit is settled, so two visits at once never pass the
    cap together."""

    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="+", verbose_name=_("patient")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    deductible_used = models.DecimalField(
        _("deductible paid"), max_digits=10, decimal_places=2, default=Decimal("0.00")
    )
    fund_used = models.DecimalField(
        _("fund paid"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )

    class Meta:
        verbose_name = _("medical insurance usage")
        verbose_name_plural = _("medical insurance usage")
        constraints = [
            models.UniqueConstraint(fields=["patient", "year"], name="insuranceusage_patient_year"),
            models.CheckConstraint(
                condition=Q(deductible_used__gte=0) & Q(fund_used__gte=0),
                name="insuranceusage_gte_0",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} {self.year}"


# The parts of a claim, which add up to its total.
CLAIM_PARTS = F("fund") + F("personal") + F("self_pay")


class InsuranceClaim(models.Model):
    """How an insured visit's order was split (医保结算): the fund (统筹), the personal account
    (个人账户) and the member's own payment (自付, the order's amount, through the gateway);
    the parts add up to the charge. Refunds reverse the parts in the same proportions."""

    order = models.OneToOneField(
        Order, on_delete=models.PROTECT, related_name="insurance_claim", verbose_name=_("order")
    )
    insurer = models.CharField(_("insurer"), max_length=16, choices=InsurerChoice.choices)
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="+", verbose_name=_("patient")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    total = models.DecimalField(_("charge"), max_digits=10, decimal_places=2)
    fund = models.DecimalField(_("fund (pooled)"), max_digits=10, decimal_places=2)
    personal = models.DecimalField(_("personal account"), max_digits=10, decimal_places=2)
    self_pay = models.DecimalField(_("self-pay"), max_digits=10, decimal_places=2)
    deductible_applied = models.DecimalField(
        _("deductible applied"), max_digits=10, decimal_places=2, default=Decimal("0.00")
    )
    reference = models.CharField(_("insurer settlement reference"), max_length=64, unique=True)
    reversed_fund = models.DecimalField(
        _("fund reversed"), max_digits=10, decimal_places=2, default=Decimal("0.00")
    )
    reversed_personal = models.DecimalField(
        _("personal account reversed"), max_digits=10, decimal_places=2, default=Decimal("0.00")
    )
    reversed_self_pay = models.DecimalField(
        _("self-pay refunded"), max_digits=10, decimal_places=2, default=Decimal("0.00")
    )
    settled_at = models.DateTimeField(_("settled at"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["-settled_at"]
        verbose_name = _("medical insurance settlement")
        verbose_name_plural = _("medical insurance settlements")
        constraints = [
            models.CheckConstraint(
                # Within half a cent, not equal: SQLite keeps decimals as floating point, where
                # 33.25 + 7.12 + 7.13 is not 47.50 (PostgreSQL's numeric is exact either way).
                condition=Q(total__gte=CLAIM_PARTS - Decimal("0.005"))
                & Q(total__lte=CLAIM_PARTS + Decimal("0.005")),
                name="insuranceclaim_parts_add_up",
            ),
            models.CheckConstraint(
                condition=Q(fund__gte=0) & Q(personal__gte=0) & Q(self_pay__gte=0),
                name="insuranceclaim_parts_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(reversed_fund__gte=0, reversed_fund__lte=F("fund"))
                & Q(reversed_personal__gte=0, reversed_personal__lte=F("personal"))
                & Q(reversed_self_pay__gte=0, reversed_self_pay__lte=F("self_pay")),
                name="insuranceclaim_reversals_within_parts",
            ),
        ]
        indexes = [models.Index(fields=["settled_at"], name="insuranceclaim_settled_idx")]

    def __str__(self) -> str:
        return self.reference

    @property
    def insured(self) -> Decimal:
        return self.fund + self.personal


class InsuranceSettlement(models.Model):
    """One insurer's part of one clinic day (医保日结): the insured visits settled that day,
    split into the fund's, the personal accounts' and the members' own parts, and how much of
    the insurer's parts has been given back since (refunds, holds that ran out)."""

    day = models.DateField(_("day"))
    insurer = models.CharField(_("insurer"), max_length=16, choices=InsurerChoice.choices)
    claims_count = models.PositiveIntegerField(_("insured visits"), default=0)
    total = models.DecimalField(_("charges"), max_digits=12, decimal_places=2, default=0)
    fund = models.DecimalField(_("fund (pooled)"), max_digits=12, decimal_places=2, default=0)
    personal = models.DecimalField(
        _("personal account"), max_digits=12, decimal_places=2, default=0
    )
    self_pay = models.DecimalField(_("self-pay"), max_digits=12, decimal_places=2, default=0)
    reversed_fund = models.DecimalField(
        _("fund reversed"), max_digits=12, decimal_places=2, default=0
    )
    reversed_personal = models.DecimalField(
        _("personal account reversed"), max_digits=12, decimal_places=2, default=0
    )
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)

    class Meta:
        ordering = ["-day", "insurer"]
        verbose_name = _("daily medical insurance settlement")
        verbose_name_plural = _("daily medical insurance settlements")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "insurer"], name="insurancesettlement_day_insurer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.get_insurer_display()}"

    @property
    def insurer_owes(self) -> Decimal:
        """What the insurer owes the clinic for the day's visits, net of reversals."""
        return self.fund + self.personal - self.reversed_fund - self.reversed_personal
