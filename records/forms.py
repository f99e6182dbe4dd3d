"""The doctor's record form and the member's patient filter. They check the shape of the input;
records.services decides the rest (a refusal lands on its field)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from . import services
from .services import RecordText

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RecordForm(forms.Form):
    """A record's text; amending, the reason too. The diagnosis is a code chosen from the
    searched ICD-10 list (radio buttons the search fills in)."""

    chief_complaint = forms.CharField(
        label=_("Chief complaint"),
        max_length=services.CHIEF_COMPLAINT_MAX,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": services.CHIEF_COMPLAINT_MAX}),
    )
    diagnosis_code = forms.CharField(
        label=_("Diagnosis (ICD-10)"),
        max_length=10,
        error_messages={"required": _("Choose the diagnosis from the ICD-10 list.")},
    )
    advice = forms.CharField(
        label=_("Advice"),
        required=False,
        max_length=services.TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": services.TEXT_MAX}),
    )
    prescriptions = forms.CharField(
        label=_("Prescriptions (one per line)"),
        required=False,
        max_length=services.TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": services.TEXT_MAX}),
    )
    follow_up_on = forms.DateField(
        label=_("Follow-up date"), required=False, widget=DATE, input_formats=["%Y-%m-%d"]
    )
    reason = forms.CharField(
        label=_("Reason for the amendment"),
        max_length=services.REASON_MAX,
        required=False,
        widget=forms.TextInput(attrs={"maxlength": services.REASON_MAX}),
    )

    def __init__(self, *args, amending: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.amending = amending
        if amending:
            self.fields["reason"].required = True
        else:
            del self.fields["reason"]

    def text(self) -> RecordText:
        data = self.cleaned_data
        return RecordText(
            chief_complaint=data["chief_complaint"],
            diagnosis_code=data["diagnosis_code"],
            advice=data["advice"],
            prescriptions=data["prescriptions"],
            follow_up_on=data["follow_up_on"],
        )


class PatientFilterForm(forms.Form):
    """The member's records of one patient (an unknown value shows them all)."""

    patient = forms.IntegerField(required=False, min_value=1)
