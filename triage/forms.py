from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .scoring import MAX_CHARS

TOO_LONG = _(
    "Please keep the description under %(limit_value)d characters (it has %(show_value)d)."
)


class SymptomsForm(forms.Form):
    """A description of symptoms; an example button posts its own text as ``example``."""

    symptoms = forms.CharField(
        label=_("Your symptoms"),
        max_length=MAX_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": MAX_CHARS}),
        error_messages={"max_length": TOO_LONG},
    )
    example = forms.CharField(
        max_length=MAX_CHARS, required=False, error_messages={"max_length": TOO_LONG}
    )

    def clean(self) -> dict:
        data = super().clean()
        text = (data.get("example") or data.get("symptoms") or "").strip()
        if not text and not self.errors:
            raise forms.ValidationError(
                _("Please describe your symptoms, for example: 胸闷 心慌 两天."), code="empty"
            )
        data["text"] = text
        return data
