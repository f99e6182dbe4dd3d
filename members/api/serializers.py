"""What the members API reads and answers (shapes only: the rules are the services')."""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..models import Gender, Member, Message, MessageKind


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
    everywhere = serializers.BooleanField(
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

    def validate_password(self, value: str) -> str:
        """The web's password rules (AUTH_PASSWORD_VALIDATORS)."""
        password_validation.validate_password(value)
        return value


class LevelSerializer(serializers.Serializer):
    level = serializers.IntegerField()
    name = serializers.CharField()
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


class MessageFilterSerializer(serializers.Serializer):
    unread = serializers.BooleanField(default=False, help_text=_("Only the messages not read yet."))


class MessageSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=MessageKind.choices, read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    appointment_id = serializers.IntegerField(
        read_only=True, allow_null=True, help_text=_("The appointment it is about, if any.")
    )
    is_read = serializers.SerializerMethodField()

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
