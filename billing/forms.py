"""Staff console forms of billing's pages: a walk-in at the desk, and what staff do for a member
(show their personal data, adjust points, change level, lift a no-show pause)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appointments.models import Schedule

from . import selectors


class WalkInForm(forms.Form):
    phone = forms.CharField(label=gettext_lazy("Mobile number"), max_length=32)
    name = forms.CharField(label=gettext_lazy("Name (new patients)"), max_length=64, required=False)
    schedule = forms.ModelChoiceField(label=gettext_lazy("Session"), queryset=None)
    extra_number = forms.BooleanField(
        label=gettext_lazy("Add an extra number if the session is full (加号)"), required=False
    )

    def __init__(self, *args, now: dt.datetime, **kwargs) -> None:
        """``now``: the sessions offered are today's that have not ended by then."""
        super().__init__(*args, **kwargs)
        self.fields["schedule"].queryset = selectors.walk_in_sessions(now=now)
        self.fields["schedule"].label_from_instance = _session_label


def _session_label(schedule: Schedule) -> str:
    left = _("%(n)d left") % {"n": schedule.remaining} if schedule.remaining else _("full")
    return (
        f"{schedule.doctor.department.name} · {schedule.doctor.name} · "
        f"{schedule.start_time:%H:%M}–{schedule.end_time:%H:%M} · {left}"
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)


class PointsForm(ReasonForm):
    field_order = ["delta", "reason"]
    delta = forms.IntegerField(label=gettext_lazy("Points (+ or −)"))


class LevelForm(ReasonForm):
    field_order = ["level", "reason"]
    level = forms.ModelChoiceField(label=gettext_lazy("New level"), queryset=None)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["level"].queryset = selectors.member_levels()


class RescheduleForm(forms.Form):
    """The session to move a booking to (改约); staff moving it for the member give a reason."""

    schedule = forms.IntegerField(label=gettext_lazy("New session"), min_value=1)
    accept_late = forms.BooleanField(required=False)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200, required=False)
