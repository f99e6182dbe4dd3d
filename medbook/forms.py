"""Forms of the staff console's frame."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from .models import ClinicProfile, Outcome

__all__ = ["ClinicProfileForm", "OperationLogFilter", "WebhookSubscriptionForm"]


class ClinicProfileForm(forms.ModelForm):
    class Meta:
        model = ClinicProfile
        fields = [
            "name",
            "name_en",
            "address",
            "address_en",
            "phone",
            "hours",
            "hours_en",
            "booking_requires_verified_patient",
        ]


class OperationLogFilter:
    """The operation log's filters from the query string: trimmed, bounded, a bad day ignored."""

    def __init__(self, query: QueryDict) -> None:
        self.action = query.get("action", "").strip()[:64]
        self.actor = query.get("actor", "").strip()[:150]
        outcome = query.get("outcome", "")
        self.outcome = outcome if outcome in Outcome.values else ""
        try:
            self.day = dt.date.fromisoformat(query.get("day", "")) if query.get("day") else None
        except ValueError:
            self.day = None

    def criteria(self) -> dict:
        return {
            "action": self.action,
            "actor": self.actor,
            "outcome": self.outcome,
            "day": self.day,
        }

    def shown(self) -> dict[str, str]:
        return {
            "action": self.action,
            "actor": self.actor,
            "outcome": self.outcome,
            "day": self.day.isoformat() if self.day else "",
        }


class WebhookSubscriptionForm(forms.Form):
    """A webhook subscription's settings (the rules on the address live in the service)."""

    url = forms.URLField(
        label=_("Address"),
        max_length=500,
        assume_scheme="https",
        help_text=_("Where the partner system receives events; https:// and a public address."),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label=_("Events"), widget=forms.CheckboxSelectMultiple, choices=()
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, **kwargs) -> None:
        from .webhooks.subscriptions import event_choices

        super().__init__(*args, **kwargs)
        self.fields["events"].choices = event_choices()
