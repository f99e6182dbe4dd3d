"""Forms of real-name verification."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class InPersonForm(forms.Form):
    """The front desk confirms it saw the original document."""

    document_seen = forms.BooleanField(
        label=_(
            "I have seen the original ID document: the name and the number match this "
            "patient's record, and the photo matches the person."
        ),
        error_messages={"required": _("Tick the box to confirm you have seen the document.")},
    )
