"""django-allauth glue: members sign up and log in with their mobile number.

The number lives encrypted on :class:`~members.models.Member` (looked up by its blind index);
allauth asks this adapter to read, set and verify it and to send the codes.
"""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medbook.audit import client_ip
from medbook.errors import DomainError
from medbook.personal_data import normalize_phone

from . import consents, lockout, services, sms
from .consent import SIGNUP_KINDS
from .models import Member, User
from .selectors import member_by_phone
from .sms import send_sms


class PhoneNumberField(forms.CharField):
    """A mobile number as typed by a patient (13812345678, +86 138 1234 5678), cleaned to E.164."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["label"] = gettext_lazy("Mobile number")  # allauth passes a bare "Phone"
        kwargs.setdefault("max_length", 32)
        kwargs["widget"] = forms.TextInput(
            attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}
        )
        kwargs.pop("validators", None)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        return normalize_phone(value) if value else value


class AccountAdapter(DefaultAccountAdapter):
    def phone_form_field(self, **kwargs: Any) -> forms.Field:
        return PhoneNumberField(**kwargs)

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        """Staff land in the console, members on the booking site."""
        from django.urls import reverse

        from medbook.staff import is_staff_user

        if request.user.is_staff or is_staff_user(request.user):
            return reverse("staff:home")
        return super().get_login_redirect_url(request)

    def get_client_ip(self, request: HttpRequest) -> str:
        """The address allauth's per-address limits (login, signup, verify_phone, …) count:
        the client's, as everywhere in MedBook (medbook.audit.client_ip) — X-Forwarded-For only
        from a proxy listed in MEDBOOK_TRUSTED_PROXIES. allauth's own reads REMOTE_ADDR, which
        behind the load balancer is the balancer's: every member would share one address, and
        20 sign-ups an hour (or 30 logins a minute) would be the whole clinic's."""
        return client_ip(request) or super().get_client_ip(request)

    # -- failed logins, counted per account on a shared atomic counter (members/lockout.py) ---

    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "login_code_required": gettext_lazy(
            "Too many failed logins for this account. For your security, enter the code we "
            "texted to its number together with your password."
        ),
    }

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """Past MEDBOOK_LOGIN_FAILURES failed passwords for one account within the window, a
        member needs a texted code too (the password is not checked without it) and a staff
        login is checked only after a delay (its TOTP code still follows).

        The attempt is counted before the password is checked (one atomic increment), so
        parallel guesses from many processes cannot slip past the limit; a good password
        gives its attempt back."""
        key = lockout.login_key(credentials)
        if lockout.code_verified(request, key):
            return  # the texted code was right: the password decides
        if lockout.count_attempt(key=key):
            return
        if lockout.needs_code(key):
            request.medbook_login_code_for = key  # type: ignore[attr-defined]
            raise self.validation_error("login_code_required")
        lockout.wait_before_checking()

    def authenticate(self, request: HttpRequest, **credentials: Any) -> AbstractBaseUser | None:
        user = super().authenticate(request, **credentials)
        if user is not None:
            lockout.give_back_attempt(key=lockout.login_key(credentials))
        return user

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        """Counted already in pre_authenticate."""

    @transaction.atomic
    def save_user(
        self, request: HttpRequest, user: AbstractBaseUser, form: forms.Form, commit: bool = True
    ) -> User:
        """Create the login and the member together, at the lowest level, number not verified."""
        data = form.cleaned_data
        try:
            member = services.register_member(
                name=data["name"], phone=data["phone"], password=data["password1"]
            )
        except DomainError as exc:
            # A race with another sign-up for the same number: say so on the form.
            raise forms.ValidationError(exc.message) from exc
        # The form refused to go on without both ticks: the consents to the current versions.
        consents.accept(user=member.user, kinds=SIGNUP_KINDS, request=request, log=False)
        return member.user

    def get_phone(self, user: AbstractBaseUser) -> tuple[str, bool] | None:
        member = Member.objects.filter(user_id=user.pk).only("phone", "phone_verified").first()
        if member is None:
            # Staff logins have no number to verify: allauth's phone stage lets them through.
            return "", True
        return member.phone, member.phone_verified

    def set_phone(self, user: AbstractBaseUser, phone: str, verified: bool) -> None:
        member = Member.objects.get(user_id=user.pk)
        member.phone = phone
        member.phone_verified = verified
        member.save(update_fields=["phone", "phone_index", "phone_verified"])

    def set_phone_verified(self, user: AbstractBaseUser, phone: str) -> None:
        """The code sent to ``phone`` was confirmed: on sign-up, or when changing the number."""
        services.set_verified_phone(member=Member.objects.get(user_id=user.pk), phone=phone)

    def get_user_by_phone(self, phone: str) -> AbstractBaseUser | None:
        member = member_by_phone(phone)
        return member.user if member is not None else None

    def send_verification_code_sms(
        self, user: AbstractBaseUser, phone: str, code: str, **kwargs: Any
    ) -> None:
        send_sms(
            phone=phone,
            body=_("Your verification code is %(code)s, valid for 10 minutes. Do not share it.")
            % {"code": code},
            template=sms.VERIFICATION_CODE,
            params={"code": code},
        )

    def send_account_already_exists_sms(self, phone: str) -> None:
        send_sms(
            phone=phone,
            body=_(
                "Someone tried to sign up with this number, which already has an account. "
                "If that was you, log in or reset your password."
            ),
            template=sms.ACCOUNT_EXISTS,
        )

    def send_unknown_account_sms(self, phone: str, **kwargs: Any) -> None:
        send_sms(
            phone=phone,
            body=_("No MedBook account uses this number."),
            template=sms.NO_ACCOUNT,
        )
