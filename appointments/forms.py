"""Staff console forms of scheduling. They check the input; the services in
appointments.services save it."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import ScheduleStatus
from .models import Department, Doctor, Holiday, ReleaseRule, Schedule, ScheduleTemplate, TitleFee

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class ScheduleForm(forms.ModelForm):
    """What staff may change on one session; ``booked`` is never here."""

    class Meta:
        model = Schedule
        fields = [
            "start_time",
            "end_time",
            "capacity",
            "minutes_per_visit",
            "room",
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
        # Suspending goes through its own form (it cancels and refunds); finishing is the job's.
        self.fields["status"].choices = [
            (ScheduleStatus.DRAFT, ScheduleStatus.DRAFT.label),
            (ScheduleStatus.PUBLISHED, ScheduleStatus.PUBLISHED.label),
        ]
        if self.instance.status not in (ScheduleStatus.DRAFT, ScheduleStatus.PUBLISHED):
            self.fields["status"].disabled = True
            self.fields["status"].choices = ScheduleStatus.choices


class TemplateForm(forms.ModelForm):
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
            "room",
            "fee",
        ]
        widgets = {"start_time": TIME, "end_time": TIME}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
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
            "department",
            "title",
            "introduction",
            "specialties",
            "registration_fee",
            "is_active",
            "allows_extra_numbers",
            "user",
        ]
        widgets = {"introduction": forms.Textarea(attrs={"rows": 3})}

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


class DepartmentForm(forms.ModelForm):
    class Meta:
        model = Department
        fields = ["code", "name", "location", "description", "sort_order", "is_active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


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
            f"{s.doctor.department.name} · {s.doctor.name} · {s.start_time:%H:%M}"
        )

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("phone") and not (data.get("schedule") and data.get("number")):
            raise forms.ValidationError(
                _("Enter the patient's mobile number, or a session and queue number.")
            )
        return data


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
