"""Forms of the members app: sign-up details, password reset, the staff member search and
level terms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .adapter import PhoneNumberField
from .models import MemberLevel, User


class SignupDetailsForm(forms.Form):
    """What allauth's sign-up form asks on top of number and password: the patient's name.

    The adapter creates the member from it (``AccountAdapter.save_user``).
    """

    field_order = ["name", "phone", "password1", "password2"]

    name = forms.CharField(
        label=_("Name"),
        max_length=64,
        help_text=_("As on your ID card; the clinic uses it to call you."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    def signup(self, request: HttpRequest, user: User) -> None:
        """Nothing left to do: the adapter saved the name with the member."""


class PasswordResetRequestForm(forms.Form):
    phone = PhoneNumberField()


class PasswordResetCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("New password (again)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            try:
                password_validation.validate_password(first, self.user)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class MemberSearchForm(forms.Form):
    """Staff member search (posted, never in an address): a full mobile or ID number, or part
    of a name; optionally one level."""

    q = forms.CharField(label=_("Mobile number, ID number or name"), max_length=64, required=False)
    level = forms.ModelChoiceField(
        label=_("Level"),
        queryset=MemberLevel.objects.all(),
        to_field_name="level",
        required=False,
        empty_label=_("Any level"),
    )


class LevelEditForm(forms.ModelForm):
    """Staff edit a level's terms (members.services.change_level_terms saves them)."""

    class Meta:
        model = MemberLevel
        fields = [
            "name",
            "min_points",
            "booking_lead_hours",
            "can_cancel_late",
            "discount_rate",
            "max_active_appointments",
            "points_multiplier",
        ]
