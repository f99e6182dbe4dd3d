"""Member pages for the account's patients (就诊人管理): the list, add, edit and remove.

Thin: the form parses, members.patients decides; a refusal (ID already registered elsewhere,
the account's limit, bad details) is shown on the form with its 4xx and nothing is written.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from medbook import refusals

from . import insurance, patients
from .decorators import member_required
from .forms import InsuranceCardForm, PatientForm


@require_GET
@member_required
def patient_list(request: HttpRequest) -> HttpResponse:
    member = request.member
    patients.self_patient(member=member)  # an account from before patients gets its holder
    listed = list(patients.member_patients(member=member).select_related("insurance_card"))
    return render(
        request,
        "members/patients.html",
        {
            "patients": listed,
            "limit": settings.MEDBOOK_MAX_PATIENTS,
            "can_add": len(listed) < settings.MEDBOOK_MAX_PATIENTS,
        },
    )


@require_http_methods(["GET", "POST"])
@member_required
def patient_add(request: HttpRequest) -> HttpResponse:
    form = PatientForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            with refusals.shown(request, form=form) as refusal:
                patient = patients.add_patient(
                    member=request.member, by=request.user, request=request, **form.details()
                )
            if not refusal:
                messages.success(request, _("%(name)s was added.") % {"name": patient.name})
                return redirect("members:patients")
            status = refusal.status
    return render(request, "members/patient_form.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@member_required
def patient_edit(request: HttpRequest, pk: int) -> HttpResponse:
    patient = patients.member_patient(member=request.member, pk=pk)
    form = PatientForm(request.POST or None, patient=patient)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            with refusals.shown(request, form=form) as refusal:
                patients.update_patient(
                    patient=patient, changes=form.changes(), by=request.user, request=request
                )
            if not refusal:
                messages.success(request, _("The details were saved."))
                return redirect("members:patients")
            status = refusal.status
            patient.refresh_from_db()  # nothing was written: show what is on file
    return render(
        request, "members/patient_form.html", {"form": form, "patient": patient}, status=status
    )


@require_http_methods(["GET", "POST"])
@member_required
def patient_remove(request: HttpRequest, pk: int) -> HttpResponse:
    patient = patients.member_patient(member=request.member, pk=pk)
    if request.method == "POST":
        with refusals.shown(request) as refusal:
            patients.remove_patient(patient=patient, by=request.user, request=request)
        if not refusal:
            messages.success(
                request, _("%(name)s was removed from your patients.") % {"name": patient.name}
            )
            return redirect("members:patients")
        return render(
            request,
            "members/patient_remove.html",
            {"patient": patient, "refused": True},
            status=refusal.status,
        )
    return render(request, "members/patient_remove.html", {"patient": patient})


@require_http_methods(["GET", "POST"])
@member_required
def patient_insurance(request: HttpRequest, pk: int) -> HttpResponse:
    """Add, change or remove a patient's medical insurance card (医保)."""
    patient = patients.member_patient(member=request.member, pk=pk)
    card = insurance.insurance_card_of(patient)
    form = InsuranceCardForm(request.POST or None, card=card)
    status = 200
    if request.method == "POST":
        if request.POST.get("remove"):
            insurance.remove_insurance_card(patient=patient, by=request.user, request=request)
            messages.success(request, _("The medical insurance card was removed."))
            return redirect("members:patients")
        status = 400
        if form.is_valid():
            with refusals.shown(request, form=form) as refusal:
                insurance.save_insurance_card(
                    patient=patient, by=request.user, request=request, **form.details()
                )
            if not refusal:
                messages.success(request, _("The medical insurance card was saved."))
                return redirect("members:patients")
            status = refusal.status
    return render(
        request,
        "members/patient_insurance.html",
        {"form": form, "patient": patient, "card": card},
        status=status,
    )
