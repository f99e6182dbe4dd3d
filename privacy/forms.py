"""Forms of the privacy pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class AccountClosureForm(forms.Form):
    """Closing one's account: the password again (as for other sensitive changes), and a tick
    that says what it means."""

    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    understand = forms.BooleanField(
        label=_("I understand that my account is closed for good and my personal data erased"),
        error_messages={"required": _("Please tick the box to confirm.")},
    )
