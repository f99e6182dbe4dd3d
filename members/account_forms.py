"""Forms of the login pages MedBook adds to allauth's (the texted login code)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class LoginCodeForm(forms.Form):
    """Past the failed-login limit: the code texted to the account's number and the password,
    checked together."""

    code = forms.CharField(
        label=_("Code"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
