from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from medbook.operations import kind_named
from medbook.paginator import LargeTableAdmin
from medbook.personal_data import mask_national_id, mask_phone
from medbook.roles import permission_label

from . import sms
from .consents import forget_current_agreements
from .models import (
    Agreement,
    Consent,
    InsuranceCard,
    Member,
    MemberLevel,
    Message,
    MessageKind,
    Patient,
    PointsEntry,
    SendRecord,
    User,
)
from .selectors import MemberSearch, latest_points, members_named, name_matches

# Lines of a member's ledger on their admin page; the whole ledger is the points entries' list
# filtered to the member (paginated).
RECENT_POINTS = 10

# A name search over a table of a member's rows (appointments, orders …) needs this many
# characters: a surname alone is ~1 % of the members, tens of thousands of rows at a million
# appointments (0.3 s to read and sort), and no list anyone reads; two (surname and the first
# given character) narrow it to a few dozen members.
MEMBER_ROWS_NAME_MIN = 2


class MemberNumberSearch:
    """A ModelAdmin mixin: a full mobile number or ID number in the search box finds the rows of
    that member through the blind index (the numbers are stored encrypted, so no ``LIKE`` can
    find them; a part of a number finds nothing); anything else is a part of the member's name
    (members.selectors.name_matches: the indexes on names, not a scan of a big table) or,
    exactly, one of ``exact_search_fields`` (order numbers, references: unique or indexed).
    ``member_lookup`` is the path from the admin's model to the member ("" for Member);
    ``search_fields`` only shows the search box."""

    member_lookup = "member"
    exact_search_fields: tuple[str, ...] = ()
    search_fields = ["name"]
    search_help_text = _("Search by name, or by a member's full mobile number or ID number.")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        search = MemberSearch.from_query(search_term)
        prefix = f"{self.member_lookup}__" if self.member_lookup else ""
        if search.phone_index:
            return queryset.filter(**{f"{prefix}phone_index": search.phone_index}), False
        if search.national_id_index:
            return queryset.filter(
                **{f"{prefix}national_id_index": search.national_id_index}
            ), False
        term = search_term.strip()
        if not term:
            return queryset, False
        if self.member_lookup and len(term) < MEMBER_ROWS_NAME_MIN:
            messages.warning(
                request,
                _(
                    "Type at least two characters of the name (the surname and the first "
                    "given character), or a full mobile or ID number."
                ),
            )
            return queryset.none(), False
        if self.member_lookup:
            found = members_named(term, prefix=self.member_lookup)
        else:
            found = name_matches(term)
        for field in self.exact_search_fields:
            found |= Q(**{field: term})
        return queryset.filter(found), False


class PermissionChoices(forms.ModelMultipleChoiceField):
    """Permissions named in the reader's language (Django stores their names in English)."""

    def label_from_instance(self, obj) -> str:
        return permission_label(obj)


class PermissionNames:
    """Lists the permissions of a login or a role by their names in the reader's language."""

    permission_fields = ("permissions", "user_permissions")

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        if db_field.name in self.permission_fields:
            kwargs["form_class"] = PermissionChoices
        return super().formfield_for_manytomany(db_field, request=request, **kwargs)


@admin.register(User)
class MedBookUserAdmin(PermissionNames, LargeTableAdmin, UserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "is_staff", "is_active"]


admin.site.unregister(Group)


@admin.register(Group)
class RoleAdmin(PermissionNames, GroupAdmin):
    pass


@admin.register(MemberLevel)
class MemberLevelAdmin(SimpleHistoryAdmin):
    list_display = [
        "level",
        "name",
        "min_points",
        "booking_lead_hours",
        "can_cancel_late",
        "discount_rate",
        "max_active_appointments",
        "points_multiplier",
        "reschedules_per_booking",
        "reschedules_per_month",
    ]
    ordering = ["level"]


@admin.register(Member)
class MemberAdmin(LargeTableAdmin, MemberNumberSearch, SimpleHistoryAdmin):
    """Members register through the portal or the front desk; here personal data stays masked."""

    list_display = [
        "name",
        "masked_phone",
        "level",
        "points_balance",
        "registered_at",
        "banned_until",
    ]
    list_filter = ["level", "gender", "registered_at"]
    list_select_related = ["level"]
    member_lookup = ""
    fields = [
        "name",
        "masked_phone",
        "masked_national_id",
        "gender",
        "birth_date",
        "level",
        "points_balance",
        "registered_at",
        "banned_until",
        "recent_points",
    ]
    readonly_fields = [
        "masked_phone",
        "masked_national_id",
        "points_balance",
        "registered_at",
        "recent_points",
    ]

    @admin.display(description=_("mobile number"))
    def masked_phone(self, obj: Member) -> str:
        return obj.masked_phone

    @admin.display(description=_("ID number"))
    def masked_national_id(self, obj: Member) -> str:
        return obj.masked_national_id

    @admin.display(description=_("points ledger"))
    def recent_points(self, obj: Member) -> str:
        """The latest lines and a link to the whole ledger, paginated: a member with years of
        visits has thousands of lines, and the page rendered every one of them."""
        if obj.pk is None:
            return ""
        return render_to_string(
            "admin/members/recent_points.html",
            {
                "entries": latest_points(member=obj, limit=RECENT_POINTS),
                "ledger_url": reverse("admin:members_pointsentry_changelist")
                + f"?member__id__exact={obj.pk}",
            },
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Patient)
class PatientAdmin(LargeTableAdmin, SimpleHistoryAdmin):
    """Patients (就诊人) are added and corrected by their account (or the desk) through
    members.patients, which checks IDs and keeps one ID to one patient: here they are read,
    their numbers masked. A full ID number in the search box finds the patient through the
    blind index; a mobile number finds the account's patients."""

    list_display = [
        "name",
        "relation",
        "member",
        "id_type",
        "masked_id_number",
        "verified_at",
        "created_at",
        "removed_at",
    ]
    list_filter = ["relation", "id_type", "removed_at"]
    ordering = ["-created_at", "-id"]  # newest first, from patient_created_idx
    list_select_related = ["member"]
    search_fields = ["name", "member__name"]
    search_help_text = _("Search by name, a full ID number, or the account's full mobile number.")
    fields = [
        "member",
        "name",
        "relation",
        "id_type",
        "masked_id_number",
        "gender",
        "birth_date",
        "masked_phone",
        "guardian_name",
        "masked_guardian_id_number",
        "verified_at",
        "verified_by",
        "created_at",
        "removed_at",
    ]
    readonly_fields = fields

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        search = MemberSearch.from_query(search_term)
        if search.phone_index:
            return queryset.filter(member__phone_index=search.phone_index), False
        if search.national_id_index:
            return queryset.filter(id_number_index=search.national_id_index), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=_("ID number"))
    def masked_id_number(self, obj: Patient) -> str:
        return obj.masked_id_number

    @admin.display(description=_("mobile number"))
    def masked_phone(self, obj: Patient) -> str:
        return mask_phone(obj.phone)

    @admin.display(description=_("guardian's ID number"))
    def masked_guardian_id_number(self, obj: Patient) -> str:
        return mask_national_id(obj.guardian_id_number)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Patient | None = None) -> bool:
        return False


@admin.register(PointsEntry)
class PointsEntryAdmin(LargeTableAdmin, MemberNumberSearch, admin.ModelAdmin):
    """The ledger is append-only: readable here, written only by the points services."""

    list_display = ["created_at", "member", "delta", "balance_after", "reason", "source"]
    list_filter = ["reason", "created_at"]
    list_select_related = ["member"]
    exact_search_fields = ("reference",)
    fields = ["created_at", "member", "delta", "balance_after", "reason", "note", "source"]
    fields += ["created_by"]
    readonly_fields = ["source"]
    search_help_text = _(
        "Search by name, reference, or a member's full mobile number or ID number."
    )

    @admin.display(description=_("reference"), ordering="reference")
    def source(self, entry: PointsEntry) -> str:
        """ "appointment:983" as 预约 #983 (what the points were for)."""
        kind, _sep, key = entry.reference.partition(":")
        named = kind_named(kind)
        return f"{named} #{key}" if named and key else entry.reference

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: PointsEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: PointsEntry | None = None) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(LargeTableAdmin, MemberNumberSearch, admin.ModelAdmin):
    """In-app messages are written by the services; readable here for support."""

    list_display = ["created_at", "member", "kind", "title", "read_at"]
    list_filter = ["kind", "created_at"]
    list_select_related = ["member"]
    exact_search_fields = ("reference",)
    search_help_text = _(
        "Search by name, reference, or a member's full mobile number or ID number."
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Message | None = None) -> bool:
        return False


@admin.register(Agreement)
class AgreementAdmin(SimpleHistoryAdmin):
    """The clinic's agreements. A new version is a new row (consents point at the version they
    accepted); a published version is not edited, only superseded."""

    list_display = ["kind", "version", "title", "published_at", "created_at"]
    list_filter = ["kind"]
    ordering = ["kind", "-published_at"]

    def save_model(self, request: HttpRequest, obj: Agreement, form: object, change: bool) -> None:
        super().save_model(request, obj, form, change)
        forget_current_agreements()

    def get_readonly_fields(self, request: HttpRequest, obj: Agreement | None = None) -> list:
        if obj is not None and obj.published_at is not None and obj.consents.exists():
            return ["kind", "version", "title", "body", "published_at"]
        return []


@admin.register(Consent)
class ConsentAdmin(LargeTableAdmin, admin.ModelAdmin):
    """Members' consents: evidence, read only."""

    list_display = ["user", "kind", "version", "accepted_at"]
    list_select_related = ["user"]
    # By agreement (its versions, from the small agreements table): a filter on ``version``
    # reads every consent for its distinct values.
    list_filter = ["kind", "agreement"]
    raw_id_fields = ["user", "agreement"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


def text_name(purpose: str) -> str:
    """A send record's text in the reader's language: a message kind's name or a security
    text's (the key itself when neither)."""
    if purpose in MessageKind.values:
        return str(MessageKind(purpose).label)
    return str(sms.SECURITY_TEXT_NAMES.get(purpose, purpose))


class WhatFilter(admin.SimpleListFilter):
    """Send records by text, named (a fixed list: no scan for the distinct keys)."""

    title = _("what")
    parameter_name = "purpose"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        keys = [*MessageKind.values, *sms.SECURITY_TEXT_NAMES]
        return [(key, text_name(key)) for key in keys]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(purpose=self.value()) if self.value() else queryset


class SentThroughFilter(admin.SimpleListFilter):
    title = pgettext_lazy("sms", "provider")
    parameter_name = "provider"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [(key, str(name)) for key, name in sms.PROVIDER_NAMES.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(provider=self.value()) if self.value() else queryset


@admin.register(SendRecord)
class SendRecordAdmin(LargeTableAdmin, admin.ModelAdmin):
    """Every text and e-mail sent, one row per attempt, with the provider's answer and its
    delivery receipt: read only, for support ("did the reminder go out?")."""

    list_display = [
        "started_at",
        "channel",
        "what",
        "recipient",
        "sent_through",
        "status",
        "error_code",
        "seconds",
        "reported_at",
    ]
    list_filter = ["status", "channel", SentThroughFilter, WhatFilter, "started_at"]
    fields = ["started_at", "channel", "what", "message", "recipient", "sent_through"]
    fields += ["provider_id", "status", "error_code", "error_message", "retryable"]
    fields += ["finished_at", "reported_at"]
    readonly_fields = ["what", "sent_through"]
    search_fields = ["=provider_id"]
    search_help_text = _("Search by the provider's id of the text (BizId, SerialNo).")
    raw_id_fields = ["message"]

    @admin.display(description=_("what"), ordering="purpose")
    def what(self, record: SendRecord) -> str:
        return text_name(record.purpose)

    @admin.display(description=pgettext_lazy("sms", "provider"), ordering="provider")
    def sent_through(self, record: SendRecord) -> str:
        return str(sms.PROVIDER_NAMES.get(record.provider, record.provider))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description=_("answered in (s)"))
    def seconds(self, record: SendRecord) -> float | None:
        return record.seconds


@admin.register(InsuranceCard)
class InsuranceCardAdmin(LargeTableAdmin, SimpleHistoryAdmin):
    """Patients' medical insurance cards, read here with the number masked; the member changes
    them on their patients page (members.insurance checks the number and keeps one card to one
    patient)."""

    list_display = ["patient", "insurance_type", "insurer", "region", "masked_number", "created_at"]
    list_filter = ["insurance_type", "insurer"]
    list_select_related = ["patient"]
    fields = ["patient", "insurance_type", "insurer", "region", "masked_number", "created_at"]
    readonly_fields = fields

    @admin.display(description=_("card number"))
    def masked_number(self, obj: InsuranceCard) -> str:
        return obj.masked_card_number

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
