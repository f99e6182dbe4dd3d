"""An API login checked exactly as the login pages check one, by the same code.

allauth's ``LoginForm`` runs the account adapter (members.adapter): the failed-login counter per
account (members.lockout, shared with the web in Redis), the texted code past the limit, the
per-address login limit, the failed-login log. Staff then pass allauth's own TOTP form (its rate
limit and single-use codes). Nothing here decides who may log in; it only asks.
"""

from __future__ import annotations

from typing import Any

from allauth.account.forms import LoginForm
from allauth.core import ratelimit
from allauth.mfa.base.forms import AuthenticateForm
from allauth.mfa.utils import is_mfa_enabled
from django.http import HttpRequest
from rest_framework.exceptions import Throttled

from medbook.api.authentication import needs_second_factor

from .. import lockout
from ..exceptions import (
    LoginCodeRequired,
    PhoneNotVerified,
    SecondFactorMissing,
    SecondFactorSetupRequired,
    WrongCode,
    WrongLogin,
    WrongSecondFactor,
)
from ..selectors import member_for_user


def check_login(
    request: HttpRequest, *, login: str, password: str, code: str = "", otp: str = ""
) -> tuple[Any, bool]:
    """The login ``login``/``password`` may have (and whether it passed a second factor), or the
    refusal: WrongLogin, LoginCodeRequired (a code is texted), WrongCode, PhoneNotVerified,
    SecondFactorSetupRequired / SecondFactorMissing / WrongSecondFactor, or Throttled."""
    if not ratelimit.consume(request, action="login"):  # the login page's limit per address
        raise Throttled()
    key = lockout.key_for(login)
    if code and not lockout.check_login_code(request=request, key=key, code=code):
        raise WrongCode()
    form = LoginForm(data={"login": login, "password": password}, request=request)
    if not form.is_valid():
        errors = {error.code for error in form.non_field_errors().as_data()}
        if "login_code_required" in errors:
            lockout.send_login_code(key=key, request=request)
            raise LoginCodeRequired()
        if "too_many_login_attempts" in errors:
            raise Throttled()
        messages = [str(m) for m in form.non_field_errors()] or [
            str(m) for errors in form.errors.values() for m in errors
        ]
        raise WrongLogin(" ".join(messages) or None)
    user = form.user
    if code:
        lockout.forget_failures(key=key)  # as the login-code page does after a good login
    if not needs_second_factor(user):
        member = member_for_user(user_id=user.pk)
        if member is not None and not member.phone_verified:
            raise PhoneNotVerified()
        return user, False
    if not is_mfa_enabled(user):
        raise SecondFactorSetupRequired()
    if not otp:
        raise SecondFactorMissing()
    if not AuthenticateForm(data={"code": otp}, user=user).is_valid():
        raise WrongSecondFactor()
    return user, True
