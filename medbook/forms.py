"""Forms of the staff console's frame."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.http import QueryDict

from .models import ClinicProfile, Outcome

__all__ = ["ClinicProfileForm", "OperationLogFilter"]


class ClinicProfileForm(forms.ModelForm):
    class Meta:
        model = ClinicProfile
        fields = ["name", "address", "phone", "hours"]


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
