"""Staff console forms of scheduling. They check the input; the services in
appointments.services save it."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.validators import MaxValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import AppointmentStatus, ScheduleStatus, Session
from .models import Department, Doctor, Holiday, ReleaseRule, Schedule, ScheduleTemplate, TitleFee

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class CatalogueFilterForm(forms.Form):
    """The home page's doctor list: of one department (its code), only doctors "有号"."""

    department = forms.SlugField(max_length=32, required=False)
    open_only = forms.BooleanField(required=False)


class DateStripForm(forms.Form):
    """The date chosen on a department's date strip: a day of the strip, or none (the page
    picks the first with a free slot)."""

    date = forms.DateField(required=False, input_formats=["%Y-%m-%d"])

    def __init__(self, *args, first: dt.date, last: dt.date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.first, self.last = first, last

    def clean_date(self) -> dt.date | None:
        day = self.cleaned_data.get("date")
        if day is not None and not self.first <= day <= self.last:
            raise forms.ValidationError(
                _("Choose a date from %(first)s to %(last)s."),
                params={"first": self.first.isoformat(), "last": self.last.isoformat()},
            )
        return day


class SlotMinutesMixin:
    """``slot_minutes`` (分时段) may be left out or empty: the session is not split."""

    def _optional_slot_minutes(self) -> None:
        if self.is_bound and "slot_minutes" not in self.data:
            # Left out (an older form, a script): unchanged, not reset.
            self.data = self.data.copy()
            self.data["slot_minutes"] = self.initial.get("slot_minutes", 0)
        field = self.fields["slot_minutes"]
        field.required = False
        field.widget.attrs.update(min=0, max=240)
        field.validators.append(MaxValueValidator(240))

    def clean_slot_minutes(self) -> int:
        return self.cleaned_data.get("slot_minutes") or 0


class ScheduleForm(SlotMinutesMixin, forms.ModelForm):
    """What staff may change on one session; ``booked`` is never here."""

    class Meta:
        model = Schedule
        fields = [
            "start_time",
            "end_time",
            "capacity",
            "minutes_per_visit",
            "slot_minutes",
            "room",
            "room_en",
            "fee",
            "release_at",
            "status",
        ]
        widgets = {
            "start_time": TIME,
            "end_time": TIME,
            "release_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._optional_slot_minutes()
        # Suspending goes through its own form (it cancels and refunds); finishing is the job's.
        self.fields["status"].choices = [
            (ScheduleStatus.DRAFT, ScheduleStatus.DRAFT.label),
            (ScheduleStatus.PUBLISHED, ScheduleStatus.PUBLISHED.label),
        ]
        if self.instance.status not in (ScheduleStatus.DRAFT, ScheduleStatus.PUBLISHED):
            self.fields["status"].disabled = True
            self.fields["status"].choices = ScheduleStatus.choices


class TemplateForm(SlotMinutesMixin, forms.ModelForm):
    class Meta:
        model = ScheduleTemplate
        fields = [
            "doctor",
            "weekday",
            "session",
            "start_time",
            "end_time",
            "capacity",
            "minutes_per_visit",
            "slot_minutes",
            "room",
            "room_en",
            "fee",
        ]
        widgets = {"start_time": TIME, "end_time": TIME}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._optional_slot_minutes()
        self.fields["doctor"].queryset = Doctor.objects.filter(is_active=True).select_related(
            "department"
        )


class GenerateForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=DATE)
    weeks = forms.IntegerField(label=_("Weeks"), min_value=1, max_value=8, initial=1)
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.filter(is_active=True),
        required=False,
        empty_label=_("All departments"),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["start"].initial = today + dt.timedelta(days=7 - today.weekday())


class HolidayForm(forms.ModelForm):
    class Meta:
        model = Holiday
        fields = ["date", "name"]
        widgets = {"date": DATE}


class ReleaseRuleForm(forms.ModelForm):
    class Meta:
        model = ReleaseRule
        fields = ["days_ahead", "release_time"]
        widgets = {"release_time": TIME}


class DoctorForm(forms.ModelForm):
    class Meta:
        model = Doctor
        fields = [
            "name",
            "name_en",
            "department",
            "title",
            "introduction",
            "introduction_en",
            "specialties",
            "specialties_en",
            "registration_fee",
            "is_active",
            "allows_extra_numbers",
            "user",
        ]
        widgets = {
            "introduction": forms.Textarea(attrs={"rows": 3}),
            "introduction_en": forms.Textarea(attrs={"rows": 3}),
        }

    move_login = forms.BooleanField(
        label=_("Move the login to this doctor"),
        required=False,
        help_text=_("Only when the login belongs to another doctor: it is taken from them."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from medbook.roles import DOCTOR

        self.fields["user"].queryset = self.fields["user"].queryset.filter(groups__name=DOCTOR)
        self.fields["user"].help_text = _(
            "A login in the 医生 group, so the doctor sees their queue."
        )
        # The services (add_doctor, change_doctor) apply it.
        self.fields["registration_fee"].help_text = _(
            "Leave at 0 for a new doctor to take the fee of their title."
        )

    def validate_unique(self) -> None:
        """A login another doctor has is the services' to refuse (naming that doctor) or move
        (``move_login``), not the model form's anonymous "already exists"."""
        exclude = self._get_validation_exclusions() | {"user"}
        try:
            self.instance.validate_unique(exclude=exclude)
        except forms.ValidationError as exc:
            self._update_errors(exc)

    def doctor_fields(self) -> dict:
        """The doctor's fields, for add_doctor / change_doctor."""
        return {k: v for k, v in self.cleaned_data.items() if k != "move_login"}


class DepartmentForm(forms.ModelForm):
    class Meta:
        model = Department
        fields = [
            "code",
            "name",
            "name_en",
            "aliases",
            "location",
            "location_en",
            "description",
            "sort_order",
            "is_active",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class DepartmentEditForm(DepartmentForm):
    """A department as staff change it: its code (in addresses) stays."""

    class Meta(DepartmentForm.Meta):
        fields = [name for name in DepartmentForm.Meta.fields if name != "code"]


class TitleFeeForm(forms.ModelForm):
    class Meta:
        model = TitleFee
        fields = ["title", "fee"]


class CheckInLookupForm(forms.Form):
    phone = forms.CharField(label=_("Mobile number"), max_length=32, required=False)
    schedule = forms.ModelChoiceField(
        label=_("Session"), queryset=Schedule.objects.none(), required=False
    )
    number = forms.IntegerField(label=_("Queue number"), min_value=1, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["schedule"].queryset = (
            Schedule.objects.filter(date=timezone.localdate(), status=ScheduleStatus.PUBLISHED)
            .select_related("doctor__department")
            .order_by("doctor__department__sort_order", "start_time")
        )
        self.fields["schedule"].label_from_instance = lambda s: (
            f"{s.doctor.department.local_name} · {s.doctor.local_name} · {s.start_time:%H:%M}"
        )

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("phone") and not (data.get("schedule") and data.get("number")):
            raise forms.ValidationError(
                _("Enter the patient's mobile number, or a session and queue number.")
            )
        return data


class BoardFilterForm(forms.Form):
    """The today board's filters (in the address: they hold nothing personal)."""

    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.filter(is_active=True).order_by("sort_order", "name"),
        to_field_name="code",
        required=False,
        empty_label=_("All departments"),
    )
    doctor = forms.ModelChoiceField(
        label=_("Doctor"),
        queryset=Doctor.objects.filter(is_active=True).order_by("name"),
        required=False,
        empty_label=_("All doctors"),
    )
    session = forms.ChoiceField(
        label=_("Half of the day"),
        choices=[("", _("All day")), *Session.choices],
        required=False,
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("Any status"))]
        + [(v, label) for v, label in AppointmentStatus.choices if v != "cancelled"],
        required=False,
    )


class BoardSearchForm(forms.Form):
    """The board's search: a queue number, a full mobile or ID number, or part of a name.
    Posted, and kept in the session (never in the address)."""

    q = forms.CharField(label=_("Search"), max_length=64, required=False)


class QuickCheckInForm(forms.Form):
    """Keyboard check-in at the top of the board: a queue number, and the session when that
    number is in more than one of today's sessions."""

    number = forms.IntegerField(
        label=_("Queue number"),
        min_value=1,
        max_value=9999,
        error_messages={"required": _("Type the queue number to check in.")},
    )
    schedule = forms.ModelChoiceField(
        label=_("Session"), queryset=Schedule.objects.none(), required=False
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["schedule"].queryset = (
            Schedule.objects.filter(date=timezone.localdate(), status=ScheduleStatus.PUBLISHED)
            .select_related("doctor__department")
            .order_by("doctor__department__sort_order", "start_time")
        )
        self.fields["schedule"].label_from_instance = lambda s: (
            f"{s.doctor.department.local_name} · {s.doctor.local_name} · {s.start_time:%H:%M}"
        )


class PickForm(forms.Form):
    """One row picked from a list on a page (its id), e.g. the holiday to delete."""

    pk = forms.IntegerField(min_value=1, max_value=2**31 - 1)


class BookForMemberForm(forms.Form):
    """The desk books a member into one session (staff:member_book): the session must exist,
    whatever was posted for it."""

    schedule = forms.ModelChoiceField(
        label=_("Session"),
        queryset=Schedule.objects.all(),
        error_messages={
            "required": _("Choose a session from the list."),
            "invalid_choice": _("Choose a session from the list."),
        },
    )
    override_reason = forms.CharField(
        label=_("Reason to override the member's limits (optional)"),
        max_length=200,
        required=False,
    )
    patient = forms.CharField(
        label=_("Patient"),
        max_length=20,
        required=False,
        help_text=_("One of the member's patients (就诊人); empty: the member."),
    )


class ScheduleAdminForm(SlotMinutesMixin, forms.ModelForm):
    """Django admin's session form: ``slot_minutes`` as in the console."""

    class Meta:
        model = Schedule
        fields = [
            "doctor",
            "date",
            "session",
            "start_time",
            "end_time",
            "capacity",
            "minutes_per_visit",
            "slot_minutes",
            "room",
            "room_en",
            "fee",
            "status",
            "release_at",
            "suspended_reason",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._optional_slot_minutes()


class TemplateAdminForm(SlotMinutesMixin, forms.ModelForm):
    """Django admin's weekly template form: ``slot_minutes`` as in the console."""

    class Meta:
        model = ScheduleTemplate
        fields = [
            "doctor",
            "weekday",
            "session",
            "start_time",
            "end_time",
            "capacity",
            "minutes_per_visit",
            "slot_minutes",
            "room",
            "room_en",
            "fee",
            "is_active",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._optional_slot_minutes()
