"""What the members API reads and answers (shapes only: the rules are the services')."""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from medbook.api.inputs import (
    LOCAL_NAME_HELP,
    JsonBooleanField,
    QueryBooleanField,
    QuerySerializer,
)
from medbook.personal_data import mask_national_id, mask_phone

from ..consent import AgreementKind
from ..models import (
    Gender,
    IdType,
    Member,
    Message,
    MessageKind,
    Patient,
    PointsEntry,
    PointsReason,
    Relation,
)


class LoginSerializer(serializers.Serializer):
    login = serializers.CharField(
        max_length=150,
        help_text=_("A member's mobile number (13812345678 or +86…), or a staff username."),
    )
    password = serializers.CharField(max_length=256, trim_whitespace=False)
    code = serializers.RegexField(
        r"^\d{6}$",
        required=False,
        help_text=_(
            "The code texted to the account's number; needed only after too many failed logins "
            "(the answer says login_code_required and the code is sent)."
        ),
    )
    otp = serializers.CharField(
        max_length=64,
        required=False,
        help_text=_("Staff only: the code of the authenticator app (or a recovery code)."),
    )


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)


class LogoutSerializer(serializers.Serializer):
    everywhere = JsonBooleanField(
        default=False,
        help_text=_("End every login of this account, on the web and in apps, not only this one."),
    )


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(help_text=_("Send as 'Authorization: Bearer <access>'."))
    refresh = serializers.CharField(
        help_text=_("Good for one exchange at /api/v1/auth/token/refresh/; keep it secret.")
    )
    token_type = serializers.CharField(default="Bearer")
    access_expires_at = serializers.DateTimeField()
    refresh_expires_at = serializers.DateTimeField()


class SignupCodeSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=32)


class SignupCodeSentSerializer(serializers.Serializer):
    masked_phone = serializers.CharField()


class SignupSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64)
    phone = serializers.CharField(max_length=32)
    code = serializers.RegexField(r"^\d{6}$")
    password = serializers.CharField(max_length=256, trim_whitespace=False)
    # The web's two ticks: true, or no account (PIPL: consent is given, never presumed).
    accept_terms = JsonBooleanField()
    accept_privacy = JsonBooleanField()

    def validate_password(self, value: str) -> str:
        """The web's password rules (AUTH_PASSWORD_VALIDATORS)."""
        password_validation.validate_password(value)
        return value

    def validate_accept_terms(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError(_("Please read and agree to the Terms of service."))
        return value

    def validate_accept_privacy(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError(_("Please read and agree to the Privacy policy."))
        return value


class LevelSerializer(serializers.Serializer):
    level = serializers.IntegerField()
    name = serializers.CharField(source="local_name", help_text=LOCAL_NAME_HELP)
    discount_rate = serializers.DecimalField(max_digits=4, decimal_places=2)


class ProfileSerializer(serializers.ModelSerializer):
    """The member's profile as the profile page shows it: number and ID number masked."""

    masked_phone = serializers.CharField(read_only=True)
    masked_national_id = serializers.SerializerMethodField()
    gender = serializers.ChoiceField(choices=Gender.choices, read_only=True)
    gender_label = serializers.CharField(source="get_gender_display", read_only=True)
    level = LevelSerializer(read_only=True)

    class Meta:
        model = Member
        fields = [
            "id",
            "name",
            "masked_phone",
            "masked_national_id",
            "gender",
            "gender_label",
            "birth_date",
            "registered_at",
            "level",
            "points_balance",
        ]
        read_only_fields = fields

    def get_masked_national_id(self, member: Member) -> str | None:
        return member.masked_national_id if member.national_id else None


class ProfileChangeSerializer(serializers.Serializer):
    """What a member may change in the app, as on the website: the mobile number, confirmed by a
    code texted to the new number. Name and ID number are corrected at the front desk."""

    phone = serializers.CharField(
        max_length=32, help_text=_("The new mobile number (13812345678 or +86…).")
    )
    code = serializers.RegexField(
        r"^\d{6}$",
        required=False,
        help_text=_(
            "Leave out to have a code texted to the new number; send it with the same number "
            "to make the change."
        ),
    )

    FRONT_DESK_ONLY = ("name", "national_id", "gender", "birth_date")

    def validate(self, attrs: dict) -> dict:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {
                    name: [
                        _("This is corrected at the front desk, with your ID card.")
                        if name in self.FRONT_DESK_ONLY
                        else _("This cannot be changed here.")
                    ]
                    for name in unknown
                }
            )
        return attrs


class PhoneCodeSentSerializer(serializers.Serializer):
    masked_phone = serializers.CharField(
        help_text=_("The new number, masked; it becomes yours once its code is sent back.")
    )


class PrivilegesSerializer(serializers.Serializer):
    """A level and what it gives, as the membership page lists it."""

    level = serializers.IntegerField()
    name = serializers.CharField(help_text=LOCAL_NAME_HELP)
    min_points = serializers.IntegerField(help_text=_("Points that reach this level."))
    discount_rate = serializers.DecimalField(
        max_digits=4,
        decimal_places=2,
        help_text=_("Share of the fee the member pays: 0.90 means 10% off."),
    )
    discount_percent = serializers.IntegerField()
    booking_lead_hours = serializers.IntegerField(
        help_text=_("How many hours before the public release members of this level may book.")
    )
    max_active_appointments = serializers.IntegerField(
        help_text=_("Upcoming appointments allowed at a time.")
    )
    can_cancel_late = serializers.BooleanField(
        help_text=_("May cancel even after the free cancellation time.")
    )
    free_cancellation_hours = serializers.IntegerField(
        help_text=_("Cancellation is free until this many hours before the visit.")
    )
    points_multiplier = serializers.DecimalField(max_digits=4, decimal_places=2)


class MembershipSerializer(serializers.Serializer):
    level = PrivilegesSerializer(help_text=_("The member's level and its privileges."))
    points_balance = serializers.IntegerField()
    next_level = PrivilegesSerializer(
        allow_null=True, help_text=_("The next level up; null at the highest.")
    )
    points_needed = serializers.IntegerField(
        help_text=_("Points still needed to reach the next level (0 at the highest).")
    )
    progress_percent = serializers.IntegerField(
        help_text=_("How far from this level's threshold to the next (100 at the highest).")
    )
    levels = PrivilegesSerializer(many=True, help_text=_("Every level, lowest first."))


class PointsEntrySerializer(serializers.ModelSerializer):
    reason = serializers.ChoiceField(choices=PointsReason.choices, read_only=True)
    reason_label = serializers.CharField(source="get_reason_display", read_only=True)

    class Meta:
        model = PointsEntry
        fields = ["id", "created_at", "delta", "balance_after", "reason", "reason_label", "note"]
        read_only_fields = fields


class MessageFilterSerializer(QuerySerializer):
    unread = QueryBooleanField(default=False, help_text=_("Only the messages not read yet."))


class MessageSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=MessageKind.choices, read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    appointment_id = serializers.IntegerField(
        read_only=True, allow_null=True, help_text=_("The appointment it is about, if any.")
    )
    is_read = serializers.SerializerMethodField()
    title = serializers.CharField(
        source="subject", read_only=True, help_text=_("In the language the request asks for.")
    )
    body = serializers.CharField(source="text", read_only=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "kind",
            "kind_label",
            "title",
            "body",
            "created_at",
            "read_at",
            "is_read",
            "appointment_id",
        ]
        read_only_fields = fields

    def get_is_read(self, message: Message) -> bool:
        return message.read_at is not None


class PatientSerializer(serializers.ModelSerializer):
    """One of the account's patients (就诊人): ID, guardian's ID and phone masked, as the
    patients page shows them."""

    relation = serializers.ChoiceField(choices=Relation.choices, read_only=True)
    relation_label = serializers.CharField(source="get_relation_display", read_only=True)
    id_type = serializers.ChoiceField(choices=IdType.choices, read_only=True)
    id_type_label = serializers.CharField(source="get_id_type_display", read_only=True)
    masked_id_number = serializers.SerializerMethodField()
    gender = serializers.ChoiceField(choices=Gender.choices, read_only=True)
    masked_phone = serializers.SerializerMethodField()
    masked_guardian_id_number = serializers.SerializerMethodField()
    is_self = serializers.BooleanField(read_only=True, help_text=_("The account holder (本人)."))
    is_verified = serializers.BooleanField(
        read_only=True, help_text=_("Real name verified: name and ID can no longer be changed.")
    )

    class Meta:
        model = Patient
        fields = [
            "id",
            "name",
            "relation",
            "relation_label",
            "id_type",
            "id_type_label",
            "masked_id_number",
            "gender",
            "birth_date",
            "masked_phone",
            "guardian_name",
            "masked_guardian_id_number",
            "is_self",
            "is_verified",
            "verified_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_masked_id_number(self, patient: Patient) -> str | None:
        return patient.masked_id_number if patient.id_number else None

    def get_masked_phone(self, patient: Patient) -> str | None:
        return mask_phone(patient.phone) if patient.phone else None

    def get_masked_guardian_id_number(self, patient: Patient) -> str | None:
        if not patient.guardian_id_number:
            return None
        return mask_national_id(patient.guardian_id_number)


class PatientInputSerializer(serializers.Serializer):
    """A patient's details to add or to correct (only shapes; members.patients checks them).
    Correcting (PATCH), send only what changes; a verified patient's name and ID are fixed."""

    name = serializers.CharField(max_length=64, help_text=_("As on the patient's ID."))
    relation = serializers.ChoiceField(
        choices=Relation.choices, help_text=_("Not self: the holder is made with the account.")
    )
    id_type = serializers.ChoiceField(choices=IdType.choices, default=IdType.RESIDENT)
    id_number = serializers.CharField(
        max_length=32, required=False, allow_blank=True, default="", trim_whitespace=True
    )
    gender = serializers.ChoiceField(
        choices=Gender.choices,
        default=Gender.UNDISCLOSED,
        help_text=_("Only for a child without an ID; a resident ID's own otherwise."),
    )
    birth_date = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("Only for a child without an ID; a resident ID's own otherwise."),
    )
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    guardian_name = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default=""
    )
    guardian_id_number = serializers.CharField(
        max_length=32, required=False, allow_blank=True, default=""
    )

    def validate(self, attrs: dict) -> dict:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {name: [_("This cannot be changed here.")] for name in unknown}
            )
        return attrs


class PatientChangeSerializer(PatientInputSerializer):
    relation = serializers.ChoiceField(
        choices=Relation.choices, help_text=_("The holder stays self; a relative is not self.")
    )


class AgreementSerializer(serializers.Serializer):
    """A current agreement version and whether the member accepted it."""

    kind = serializers.CharField()
    version = serializers.CharField()
    title = serializers.CharField()
    url = serializers.CharField()
    accepted = serializers.BooleanField()


class AcceptConsentSerializer(serializers.Serializer):
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=AgreementKind.choices), min_length=1, max_length=3
    )
