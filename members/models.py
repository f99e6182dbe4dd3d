"""Members: accounts, membership levels and the points ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from medbook.fields import BlindIndexField, EncryptedTextField
from medbook.i18n import local_name
from medbook.personal_data import mask_name, mask_national_id, mask_phone

from .message_templates import LEGACY, TEMPLATES, render

PHONE_PURPOSE = "member.phone"
NATIONAL_ID_PURPOSE = "member.national_id"


class User(AbstractUser):
    """Login account of members and staff alike (custom from the first migration)."""

    # Raised when the user logs out: every other session of theirs ends with it.
    session_epoch = models.PositiveIntegerField(_("session generation"), default=0, editable=False)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("user")
        verbose_name_plural = _("users")


class MemberLevel(models.Model):
    """A membership tier (会员等级) and its privileges."""

    level = models.PositiveSmallIntegerField(_("level"), unique=True)
    name = models.CharField(_("name"), max_length=32, unique=True)
    name_en = models.CharField(
        _("English name"), max_length=32, blank=True, db_default="", default=""
    )
    min_points = models.PositiveIntegerField(_("points to reach"), default=0)
    booking_lead_hours = models.PositiveIntegerField(
        _("early booking (hours)"),
        default=0,
        help_text=_("How many hours before the public release members of this level may book."),
    )
    can_cancel_late = models.BooleanField(
        _("may cancel late"),
        default=False,
        help_text=_("Members of this level may cancel after the cancellation cutoff."),
    )
    discount_rate = models.DecimalField(
        _("price factor"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text=_("Share of the fee the member pays: 0.90 means 10% off."),
    )
    max_active_appointments = models.PositiveSmallIntegerField(
        _("upcoming appointments allowed"), default=3
    )
    points_multiplier = models.DecimalField(
        _("points multiplier"), max_digits=4, decimal_places=2, default=Decimal("1.00")
    )
    reschedules_per_booking = models.PositiveSmallIntegerField(
        _("moves per booking"),
        default=1,
        db_default=1,
        help_text=_("How often a member may move one booking online (0: not at all)."),
    )
    reschedules_per_month = models.PositiveSmallIntegerField(
        _("moves per month"),
        null=True,
        blank=True,
        help_text=_("How many moves a member may make online in a calendar month (empty: any)."),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["level"]
        verbose_name = _("member level")
        verbose_name_plural = _("member levels")
        constraints = [
            models.CheckConstraint(
                condition=Q(discount_rate__gte=0) & Q(discount_rate__lte=1),
                name="memberlevel_discount_rate_0_1",
            ),
            models.CheckConstraint(
                condition=Q(points_multiplier__gte=0), name="memberlevel_points_multiplier_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return self.local_name

    @property
    def local_name(self) -> str:
        """The name in the reader's language: the English name on English pages when set."""
        return local_name(self.name, self.name_en)

    @property
    def discount_percent(self) -> int:
        """The reduction in percent (a discount_rate of 0.90 is 10 % off)."""
        return int((1 - self.discount_rate) * 100)


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")
    UNDISCLOSED = "undisclosed", _("Not given")


class Member(models.Model):
    """A patient with a membership. Phone and ID number are stored encrypted."""

    user = models.OneToOneField(
        User, on_delete=models.PROTECT, related_name="member", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=64)
    phone = EncryptedTextField(_("mobile number"), purpose=PHONE_PURPOSE)
    phone_index = BlindIndexField(source="phone", purpose=PHONE_PURPOSE, null=True)
    phone_verified = models.BooleanField(
        _("mobile number verified"),
        default=False,
        help_text=_("Confirmed with a code sent to the number; members log in only once it is."),
    )
    national_id = EncryptedTextField(
        _("ID number"), purpose=NATIONAL_ID_PURPOSE, blank=True, default=""
    )
    national_id_index = BlindIndexField(
        source="national_id", purpose=NATIONAL_ID_PURPOSE, null=True, blank=True
    )
    gender = models.CharField(
        _("gender"), max_length=16, choices=Gender.choices, default=Gender.UNDISCLOSED
    )
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    # Texts and e-mails are written in it; set from the language the member picks on the site.
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        db_default=settings.LANGUAGE_CODE,
    )
    level = models.ForeignKey(
        MemberLevel, on_delete=models.PROTECT, related_name="members", verbose_name=_("level")
    )
    # The level rule (members.selectors.level_by_rule) sets ``level``; only a level set by hand
    # by staff with the level permission may differ from it, and it is recorded here.
    level_grant = models.ForeignKey(
        MemberLevel,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("level set by staff"),
        help_text=_(
            "A level set by hand by staff with the level permission (logged). Points do not "
            "lower it; it ends when the member's points reach a higher level."
        ),
    )
    points_balance = models.IntegerField(_("points"), default=0)
    registered_at = models.DateTimeField(_("registered"), default=timezone.now)
    banned_until = models.DateTimeField(
        _("booking banned until"),
        null=True,
        blank=True,
        help_text=_("Set by the no-show rule; the member cannot book before this time."),
    )
    no_show_ban_lifted_at = models.DateTimeField(
        _("no-show ban last lifted"),
        null=True,
        blank=True,
        help_text=_("No-shows before this time no longer count towards a ban."),
    )
    history = HistoricalRecords(excluded_fields=["phone_index", "national_id_index"])

    class Meta:
        ordering = ["-registered_at"]
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [
            models.UniqueConstraint(fields=["phone_index"], name="member_phone_unique"),
            models.UniqueConstraint(
                fields=["national_id_index"],
                condition=Q(national_id_index__isnull=False),
                name="member_national_id_unique",
            ),
            models.CheckConstraint(
                condition=Q(points_balance__gte=0), name="member_points_balance_gte_0"
            ),
        ]
        indexes = [
            models.Index(fields=["name"], name="member_name_idx"),
            # The reports' new members: the registrations of a range of days.
            models.Index(fields=["registered_at"], name="member_registered_idx"),
            # The members paused for no-shows (reports): a few rows among many.
            models.Index(
                fields=["banned_until"],
                name="member_banned_until_idx",
                condition=Q(banned_until__isnull=False),
            ),
        ]
        permissions = [
            ("view_personal_data", _("Can see full phone and ID numbers (logged)")),
            ("change_member_level", _("Can change a member's level, with a reason")),
            ("lift_ban", _("Can lift a member's no-show ban, with a reason")),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.masked_phone})"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def audit_label(self) -> str:
        """The operation log's name for the member: no name, as the log is kept (and cannot
        be edited) after the member's personal data is erased."""
        return f"#{self.pk} ({self.masked_phone})"

    @property
    def masked_national_id(self) -> str:
        return mask_national_id(self.national_id)

    @property
    def last_login(self) -> dt.datetime | None:
        return self.user.last_login

    def is_banned(self, now: dt.datetime) -> bool:
        return self.banned_until is not None and self.banned_until > now


class Relation(models.TextChoices):
    """Who a patient is to the account holder (就诊人关系)."""

    SELF = "self", pgettext_lazy("patient relation", "Self")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    SPOUSE = "spouse", _("Spouse")
    SIBLING = "sibling", _("Brother or sister")
    OTHER = "other", _("Other relative")


class IdType(models.TextChoices):
    """The identity documents a patient may be registered with."""

    RESIDENT = "resident", _("Resident ID card")
    RESIDENCE_PERMIT = "residence_permit", _("Residence permit for Hong Kong, Macao and Taiwan")
    HK_MACAO_PASS = "hk_macao_pass", _("Mainland travel permit for Hong Kong and Macao")
    TAIWAN_PASS = "taiwan_pass", _("Mainland travel permit for Taiwan")
    PASSPORT = "passport", _("Passport")
    FOREIGN_PERMANENT = "foreign_permanent", _("Foreign permanent resident ID card")
    NONE = "none", _("No ID yet (child, with a guardian)")


class Patient(models.Model):
    """A real person an account books for (就诊人): the holder (本人) and up to a few relatives.

    The account holder pays and earns points; the per-person rules (one visit per department
    a day, the level's cap, one slot per session) count the patient. An ID number belongs to
    one patient record in the whole clinic (its blind index is unique; the same key as the
    members' ID numbers, so the front desk finds either with one search). A child without an
    ID is registered with birth date, sex and a guardian's ID. A removed patient is kept
    (``removed_at``) for the appointments that name it."""

    # An account deleted (only possible with no appointments: they protect both) takes its
    # patients with it; a patient with appointments is protected by them.
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="patients", verbose_name=_("account")
    )
    name = models.CharField(_("name"), max_length=64)
    relation = models.CharField(_("relation"), max_length=16, choices=Relation.choices)
    id_type = models.CharField(
        _("ID type"), max_length=24, choices=IdType.choices, default=IdType.RESIDENT
    )
    id_number = EncryptedTextField(
        _("ID number"), purpose=NATIONAL_ID_PURPOSE, blank=True, default=""
    )
    id_number_index = BlindIndexField(
        source="id_number", purpose=NATIONAL_ID_PURPOSE, null=True, blank=True
    )
    gender = models.CharField(
        _("gender"), max_length=16, choices=Gender.choices, default=Gender.UNDISCLOSED
    )
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    phone = EncryptedTextField(_("mobile number"), purpose=PHONE_PURPOSE, blank=True, default="")
    # The desk finds a patient by their own number too (not unique: relatives may share one).
    phone_index = BlindIndexField(source="phone", purpose=PHONE_PURPOSE, null=True, blank=True)
    guardian_name = models.CharField(_("guardian's name"), max_length=64, blank=True)
    guardian_id_number = EncryptedTextField(
        _("guardian's ID number"), purpose=NATIONAL_ID_PURPOSE, blank=True, default=""
    )
    verified_at = models.DateTimeField(_("real name verified at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verified by"),
        help_text=_("Staff who checked the ID in person; empty when verified online."),
    )
    created_at = models.DateTimeField(_("added"), default=timezone.now)
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["id_number_index", "phone_index"])

    class Meta:
        ordering = ["created_at", "id"]  # the holder (本人) comes first: added first
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_index"],
                condition=Q(id_number_index__isnull=False),
                name="patient_id_number_unique",
            ),
            models.UniqueConstraint(
                fields=["member"], condition=Q(relation="self"), name="patient_one_self"
            ),
        ]
        indexes = [
            models.Index(fields=["name"], name="patient_name_idx"),
            models.Index(fields=["phone_index"], name="patient_phone_idx"),
            models.Index(fields=["created_at", "id"], name="patient_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_relation_display()})"

    @property
    def is_self(self) -> bool:
        return self.relation == Relation.SELF

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    @property
    def masked_id_number(self) -> str:
        return mask_national_id(self.id_number)

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    @property
    def audit_label(self) -> str:
        """The operation log's name for the patient: no name (the log outlives an erasure)."""
        return f"#{self.pk} ({self.get_relation_display()})"


class PointsReason(models.TextChoices):
    VISIT = "visit", _("Completed visit")
    ADJUSTMENT = "adjustment", _("Staff adjustment")
    REDEMPTION = "redemption", _("Redemption")
    REVERSAL = "reversal", _("Reversal")
    MIGRATION = "migration", _("Opening balance")


class PointsEntry(models.Model):
    """One line of a member's points ledger (积分流水). Append-only: never changed or deleted."""

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="points_entries", verbose_name=_("member")
    )
    delta = models.IntegerField(_("change"))
    balance_after = models.IntegerField(_("balance after"))
    reason = models.CharField(_("reason"), max_length=16, choices=PointsReason.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("points entry")
        verbose_name_plural = _("points ledger")
        permissions = [("adjust_points", _("Can adjust a member's points with a reason"))]
        constraints = [
            models.CheckConstraint(condition=~Q(delta=0), name="pointsentry_delta_not_zero"),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="pointsentry_balance_after_gte_0"
            ),
        ]
        indexes = [
            models.Index(fields=["member", "created_at"], name="pointsentry_member_idx"),
            # The reports' points per day: the entries of a range of days.
            models.Index(fields=["created_at"], name="pointsentry_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.delta:+d}"


class MessageKind(models.TextChoices):
    BOOKED = "booked", pgettext_lazy("message kind", "Booking")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")
    REFUNDED = "refunded", _("Refunded")
    SUSPENDED = "suspended", _("Session cancelled by the clinic")
    REMINDER = "reminder", _("Reminder")
    LEVEL_UP = "level_up", _("Membership level")
    POINTS = "points", _("Points")
    NO_SHOW = "no_show", _("Missed appointments")
    RESCHEDULED = "rescheduled", _("Rescheduled")
    WAITLIST = "waitlist", _("Waitlist")


class Message(models.Model):
    """An in-app message (站内信) to a member about something they care about."""

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="messages", verbose_name=_("member")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=MessageKind.choices)
    # What the message says, rendered in the reader's language (members.message_templates);
    # "legacy" messages are their stored title and body.
    template = models.CharField(_("template"), max_length=48, default="legacy", db_default="legacy")
    params = models.JSONField(_("parameters"), default=dict, db_default={}, blank=True)
    # The text as written, in the clinic's default language (support, search, legacy rows).
    title = models.CharField(_("subject"), max_length=100)
    body = models.TextField(_("message"))
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Delivery by text and e-mail (members/delivery.py): when each went out, and the tries.
    texted_at = models.DateTimeField(_("texted at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    delivery_attempts = models.PositiveSmallIntegerField(_("delivery attempts"), default=0)
    delivery_error = models.CharField(_("last delivery error"), max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [
            models.Index(fields=["member", "read_at"], name="message_member_unread_idx"),
            models.Index(fields=["member", "-created_at"], name="message_member_recent_idx"),
            # The periodic re-send looks at the last day's messages of every member.
            models.Index(fields=["created_at"], name="message_created_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def rendered(self) -> tuple[str, str]:
        """Title and body in the active language."""
        if self.template == LEGACY or self.template not in TEMPLATES:
            return self.title, self.body
        return render(self.template, self.params)

    @property
    def subject(self) -> str:
        """The title in the reader's language."""
        return self.rendered()[0]

    @property
    def text(self) -> str:
        """The body in the reader's language."""
        return self.rendered()[1]

    @property
    def appointment_id(self) -> int | None:
        """The appointment the message is about, from its reference."""
        kind, _sep, pk = self.reference.partition(":")
        if kind in {"appointment", "reminder"} and pk.isdigit():
            return int(pk)
        return None

    @property
    def session_id(self) -> int | None:
        """The session a release reminder (放号提醒) is about, from its reference."""
        kind, _sep, pk = self.reference.partition(":")
        return int(pk) if kind == "release" and pk.isdigit() else None


# The consent documents and members' consents (PIPL), and the send records and channel
# preferences, live in their own modules.
from .channel_models import Channel, ChannelPreferences, SendRecord, SendStatus  # noqa: E402, F401
from .consent import Agreement, AgreementKind, Consent  # noqa: E402, F401

INSURANCE_CARD_PURPOSE = "patient.insurance_card"


class InsuranceType(models.TextChoices):
    """The kinds of basic medical insurance (基本医疗保险) a patient may hold."""

    EMPLOYEE = "employee", _("Employee basic medical insurance")  # 职工医保
    RESIDENT = "resident", _("Urban and rural resident medical insurance")  # 居民医保
    RETIRED = "retired", _("Retired employee medical insurance")  # 离退休职工医保
    OTHER_REGION = "other_region", _("Medical insurance of another region")  # 异地医保


class InsurerChoice(models.TextChoices):
    """Which insurer (医保经办) settles the card: the codes of billing's insurer adapters."""

    SANDBOX = "sandbox", _("Medical insurance (test)")
    PROVINCIAL = "provincial", _("Provincial medical insurance mobile payment")


class InsuranceCard(models.Model):
    """A patient's medical insurance card (医保卡): the type, the insurer and region that
    settle it, and the card number (encrypted; its blind index is unique, so one card belongs
    to one patient). Removing the card deletes the row (its history keeps no number)."""

    patient = models.OneToOneField(
        Patient,
        on_delete=models.CASCADE,
        related_name="insurance_card",
        verbose_name=_("patient"),
    )
    insurance_type = models.CharField(
        _("insurance type"), max_length=16, choices=InsuranceType.choices
    )
    insurer = models.CharField(_("insurer"), max_length=16, choices=InsurerChoice.choices)
    region = models.CharField(_("insured region"), max_length=32)
    card_number = EncryptedTextField(_("card number"), purpose=INSURANCE_CARD_PURPOSE)
    card_number_index = BlindIndexField(source="card_number", purpose=INSURANCE_CARD_PURPOSE)
    created_at = models.DateTimeField(_("added"), default=timezone.now)
    history = HistoricalRecords(excluded_fields=["card_number", "card_number_index"])

    class Meta:
        verbose_name = _("medical insurance card")
        verbose_name_plural = _("medical insurance cards")
        constraints = [
            models.UniqueConstraint(
                fields=["card_number_index"], name="insurancecard_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_insurance_type_display()} {self.masked_card_number}"

    @property
    def masked_card_number(self) -> str:
        number = self.card_number or ""
        if len(number) <= 6:
            return "*" * len(number)
        return f"{number[:2]}{'*' * (len(number) - 6)}{number[-4:]}"
