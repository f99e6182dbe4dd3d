"""allauth's sign-up form, made to answer alike whether or not the number is registered."""

from __future__ import annotations

from typing import Any

from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.core import ratelimit
from allauth.core.exceptions import RateLimited
from django.contrib.auth.hashers import make_password
from django.http import HttpRequest

from .unverified import expire_unverified_signups


class SignupForm(AllauthSignupForm):
    """Sign-up by mobile number.

    A registered number creates no account (allauth texts its owner instead), which would
    answer much faster than a new number, whose password is hashed: the time alone would tell
    who is a patient here. So the password is hashed with the configured hasher either way.

    A sign-up whose code cannot be texted now (one was sent to the number moments ago) writes
    nothing and answers 429, instead of creating an account it cannot verify."""

    def _clean_phone(self) -> None:
        """An expired sign-up that never confirmed this number does not hold it: it goes
        first, so the real owner's sign-up simply gets a code."""
        if phone := self.cleaned_data.get("phone"):
            expire_unverified_signups(phone=phone)
        super()._clean_phone()

    def try_save(self, request: HttpRequest) -> tuple[Any, Any]:
        phone = self.cleaned_data.get("phone")
        if phone and not ratelimit.consume(request, action="verify_phone", key=phone, dry_run=True):
            raise RateLimited
        if self.account_already_exists:
            make_password(self.cleaned_data.get("password1"))  # the work a new account does
        return super().try_save(request)
