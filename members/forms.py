"""Forms of the members app: sign-up details, password reset, the staff member search and
level terms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from medbook.personal_data import mask_national_id, mask_phone

from .adapter import PhoneNumberField
from .models import (
    Gender,
    IdType,
    InsuranceType,
    InsurerChoice,
    MemberLevel,
    Patient,
    Relation,
    User,
)


class SignupDetailsForm(forms.Form):
    """What allauth's sign-up form asks on top of number and password: the patient's name.

    The adapter creates the member from it (``AccountAdapter.save_user``).
    """

    field_order = ["name", "phone", "password1", "password2", "accept_terms", "accept_privacy"]

    name = forms.CharField(
        label=_("Name"),
        max_length=64,
        help_text=_("As on your ID card; the clinic uses it to call you."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    # Unticked by default; both are needed (PIPL: consent is given, never presumed). The
    # adapter records the consents to the current versions with the new account.
    accept_terms = forms.BooleanField(
        label=_("I have read and agree to the Terms of service"),
        error_messages={"required": _("Please read and agree to the Terms of service.")},
    )
    accept_privacy = forms.BooleanField(
        label=_("I have read and agree to the Privacy policy"),
        error_messages={"required": _("Please read and agree to the Privacy policy.")},
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
            "name_en",
            "min_points",
            "booking_lead_hours",
            "can_cancel_late",
            "discount_rate",
            "max_active_appointments",
            "points_multiplier",
            "reschedules_per_booking",
            "reschedules_per_month",
        ]


class PatientForm(forms.Form):
    """A patient's details (就诊人) as the member (or the desk) enters them. Only the shapes:
    the rules (ID checksums, the child-without-ID fields, one ID one patient, the limit) are
    members.patients'. Editing, the ID number is left empty to keep the one on file (it is
    never shown in full); a verified patient's name and ID are shown and not editable."""

    name = forms.CharField(
        label=_("Name"),
        max_length=64,
        help_text=_("As on the patient's ID."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    relation = forms.ChoiceField(label=_("Relation to you"))
    id_type = forms.ChoiceField(label=_("ID type"), choices=IdType.choices)
    id_number = forms.CharField(
        label=_("ID document number"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    birth_date = forms.DateField(
        label=_("Date of birth"),
        required=False,
        help_text=_("Only for a child without an ID; taken from a resident ID otherwise."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    gender = forms.ChoiceField(
        label=_("Sex"),
        choices=Gender.choices,
        initial=Gender.UNDISCLOSED,
        required=False,
        help_text=_("Only for a child without an ID; taken from a resident ID otherwise."),
    )
    guardian_name = forms.CharField(
        label=_("Guardian's name"),
        max_length=64,
        required=False,
        help_text=_("Only for a child without an ID."),
    )
    guardian_id_number = forms.CharField(
        label=_("Guardian's ID number"),
        max_length=32,
        required=False,
        help_text=_("Only for a child without an ID: the guardian's resident ID."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Mobile number (optional)"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )

    def __init__(self, *args: Any, patient: Patient | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.patient = patient
        if patient is not None and patient.is_self:
            self.fields["relation"].choices = [(Relation.SELF, Relation.SELF.label)]
        else:
            self.fields["relation"].choices = [
                (value, label) for value, label in Relation.choices if value != Relation.SELF
            ]
        if patient is None:
            return
        for name in ("name", "relation", "id_type", "birth_date", "gender", "guardian_name"):
            self.fields[name].initial = getattr(patient, name)
        self.fields["id_number"].required = False
        if patient.id_number:
            self.fields["id_number"].help_text = _(
                "On file: %(masked)s. Leave empty to keep it."
            ) % {"masked": patient.masked_id_number}
        if patient.guardian_id_number:
            self.fields["guardian_id_number"].help_text = _(
                "On file: %(masked)s. Leave empty to keep it."
            ) % {"masked": mask_national_id(patient.guardian_id_number)}
        if patient.phone:
            self.fields["phone"].help_text = _("On file: %(masked)s. Leave empty to keep it.") % {
                "masked": mask_phone(patient.phone)
            }
        if patient.is_self:
            self.fields["relation"].disabled = True
            for name in ("name", "id_type", "id_number"):
                self.fields[name].disabled = True
            self.fields["id_number"].help_text = _(
                "Your own name and ID are corrected at the front desk, with your ID card."
            )
        if patient.is_verified:
            for name in ("name", "id_type", "id_number"):
                self.fields[name].disabled = True
            self.fields["id_number"].help_text = _(
                "Verified: the name and ID can no longer be changed."
            )

    def details(self) -> dict[str, Any]:
        """The entered details as the services take them (``add_patient``'s keywords)."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "relation": data["relation"],
            "id_type": data["id_type"],
            "id_number": data["id_number"],
            "gender": data.get("gender") or Gender.UNDISCLOSED,
            "birth_date": data.get("birth_date"),
            "phone": data["phone"],
            "guardian_name": data["guardian_name"],
            "guardian_id_number": data["guardian_id_number"],
        }

    def changes(self) -> dict[str, Any]:
        """What editing changes (``update_patient``'s ``changes``): empty secret fields keep
        what is on file; fixed fields are left out."""
        details = self.details()
        changes = {name: value for name, value in details.items() if not self.fields[name].disabled}
        for secret in ("id_number", "guardian_id_number", "phone"):
            if secret in changes and not changes[secret]:
                del changes[secret]
        if details["id_type"] == IdType.NONE and "id_type" in changes:
            changes["id_number"] = ""
        return changes


class ConsentForm(forms.Form):
    """Agreeing to the documents shown on the consent page (unticked by default)."""

    agree = forms.BooleanField(
        label=_("I have read and agree to the documents above"),
        error_messages={"required": _("Please tick the box to agree, or log out.")},
    )


class ChannelPreferencesForm(forms.Form):
    """A member's channels: which messages also come by text (the categories the clinic
    texts), and e-mail with the address to use."""

    sms_reminders = forms.BooleanField(
        label=_("Text me reminders of my appointments"), required=False
    )
    sms_appointments = forms.BooleanField(
        label=_(
            "Text me about bookings, cancellations, refunds and sessions cancelled by the clinic"
        ),
        required=False,
    )
    sms_membership = forms.BooleanField(
        label=_("Text me about points and membership level"), required=False
    )
    email_address = forms.EmailField(
        label=_("E-mail address"),
        required=False,
        max_length=254,
        help_text=_("Optional. Leave empty to get no e-mail."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    email = forms.BooleanField(label=_("Send my messages by e-mail too"), required=False)

    def __init__(self, *args: Any, categories: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("sms_reminders", "sms_appointments", "sms_membership"):
            if name not in categories:
                del self.fields[name]

    def choices(self, current: Any) -> dict[str, bool]:
        """Every preference: the form's, and the current ones for categories not shown."""
        data = self.cleaned_data
        names = ("sms_reminders", "sms_appointments", "sms_membership", "email")
        return {
            name: data[name] if name in self.fields else getattr(current, name) for name in names
        }


class InsuranceCardForm(forms.Form):
    """A patient's medical insurance card as the member enters it. Only the shapes: the card
    number's rules and uniqueness are members.insurance'. Editing, the number is left empty
    to keep the one on file (it is never shown in full)."""

    insurance_type = forms.ChoiceField(label=_("Insurance type"), choices=InsuranceType.choices)
    insurer = forms.ChoiceField(
        label=_("Insurer"), choices=InsurerChoice.choices, initial=InsurerChoice.SANDBOX
    )
    region = forms.CharField(
        label=_("Insured region"),
        max_length=32,
        help_text=_("The city or province where the insurance is held, for example 北京市."),
    )
    card_number = forms.CharField(
        label=_("Card number"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )

    def __init__(self, *args: Any, card: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if card is not None:
            self.initial.update(
                {
                    "insurance_type": card.insurance_type,
                    "insurer": card.insurer,
                    "region": card.region,
                }
            )
            self.fields["card_number"].help_text = _(
                "On file: %(number)s. Leave empty to keep it."
            ) % {"number": card.masked_card_number}

    def details(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in self.fields}
