"""The dashboards' filter forms (GET)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from appointments.choices import Channel
from appointments.models import Department, Doctor
from members.models import MemberLevel

from .choices import ExportFormat, ExportKind, Preset
from .selectors import BookingFilters

# The longest range a dashboard shows at once (two years and a day).
MAX_DAYS = 732


def preset_range(preset: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """The days a preset means, ending today (the clinic's date)."""
    if preset == Preset.TODAY:
        return today, today
    if preset == Preset.LAST_7:
        return today - dt.timedelta(days=6), today
    if preset == Preset.MONTH:
        return today.replace(day=1), today
    return today - dt.timedelta(days=29), today


class DoctorChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Doctor) -> str:
        return f"{obj.local_name} · {obj.department.local_name}"


class BookingFilterForm(forms.Form):
    """Range (a preset, or custom first and last day), department, doctor, level, channel.
    Built from the query string; a page without one shows the last 30 days."""

    range = forms.ChoiceField(label=_("Period"), choices=Preset.choices)
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.order_by("sort_order", "name"),
        required=False,
        empty_label=_("All departments"),
    )
    doctor = DoctorChoice(
        label=_("Doctor"),
        queryset=Doctor.objects.select_related("department").order_by(
            "department__sort_order", "department__name", "name"
        ),
        required=False,
        empty_label=_("All doctors"),
    )
    level = forms.ModelChoiceField(
        label=_("Member level"),
        queryset=MemberLevel.objects.order_by("level"),
        required=False,
        empty_label=_("All levels"),
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[("", _("All channels")), *Channel.choices],
        required=False,
    )

    OPTIONAL = ("department", "doctor", "level", "channel")

    def __init__(
        self, query: QueryDict, *, today: dt.date, only: tuple[str, ...] = OPTIONAL
    ) -> None:
        """``only``: the optional filters the dashboard has (the others are left out of the
        form, so they are neither shown nor read)."""
        data = query.copy()
        if not data.get("range"):
            data["range"] = Preset.CUSTOM if data.get("start") else Preset.LAST_30
        super().__init__(data)
        self.today = today
        for name in self.OPTIONAL:
            if name not in only:
                del self.fields[name]

    def clean(self) -> dict:
        data = super().clean()
        preset = data.get("range")
        if preset is None:
            return data
        if preset == Preset.CUSTOM:
            start, end = data.get("start"), data.get("end")
            if start is None:
                self.add_error("start", _("Give the first day, or pick a period."))
            if end is None:
                self.add_error("end", _("Give the last day, or pick a period."))
            if start is None or end is None:
                return data
            if end < start:
                self.add_error("end", _("The last day must not be before the first."))
                return data
            if (end - start).days + 1 > MAX_DAYS:
                self.add_error("end", _("Show at most %(days)d days at once.") % {"days": MAX_DAYS})
                return data
        else:
            data["start"], data["end"] = preset_range(preset, self.today)
        return data

    def filters(self) -> BookingFilters:
        """The filters, once the form is valid."""
        data = self.cleaned_data
        return BookingFilters(
            start=data["start"],
            end=data["end"],
            department=data.get("department"),
            doctor=data.get("doctor"),
            level=data.get("level"),
            channel=data.get("channel") or "",
        )

    def export_data(self) -> dict[str, str]:
        """The filters as a custom range with ids, once the form is valid: what an export
        keeps (a preset such as "last 30 days" is fixed to the days it meant when asked)."""
        data = self.cleaned_data
        chosen = {
            "department": str(data["department"].pk) if data.get("department") else "",
            "doctor": str(data["doctor"].pk) if data.get("doctor") else "",
            "level": str(data["level"].pk) if data.get("level") else "",
            "channel": data.get("channel") or "",
        }
        return {
            "range": Preset.CUSTOM,
            "start": data["start"].isoformat(),
            "end": data["end"].isoformat(),
            # Only the filters this dashboard has.
            **{name: value for name, value in chosen.items() if name in self.fields},
        }

    def names(self) -> dict[str, str]:
        """What the chosen department, doctor and level are called, in the request's language
        (an export's, which is written in it)."""
        data = self.cleaned_data
        names = {
            "department": data["department"].local_name if data.get("department") else "",
            "doctor": data["doctor"].local_name if data.get("doctor") else "",
            "level": data["level"].local_name if data.get("level") else "",
        }
        return {key: value for key, value in names.items() if value}


class ExportForm(forms.Form):
    """What to export (posted with the dashboard's filters): which dashboard, its tables or
    its list of records, as XLSX or CSV."""

    dashboard = forms.ChoiceField(label=_("Dashboard"))
    kind = forms.ChoiceField(label=_("Content"), choices=ExportKind.choices)
    format = forms.ChoiceField(label=_("Format"), choices=ExportFormat.choices)

    def __init__(self, data: QueryDict, *, dashboards: list[str]) -> None:
        super().__init__(data)
        self.fields["dashboard"].choices = [(slug, slug) for slug in dashboards]
