"""The front desk's in-person verification (核验原件) of a patient's ID document."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from medbook import refusals
from medbook.staff import staff_required

from . import selectors, services
from .forms import InPersonForm


@require_http_methods(["GET", "POST"])
@staff_required("identity.verify_in_person")
def verify_in_person(request: HttpRequest, pk: int) -> HttpResponse:
    """The desk looked at the original document and confirms it (logged); the patient is
    verified and their name and ID number are fixed."""
    patient = selectors.desk_patient(pk=pk)
    form = InPersonForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            with refusals.shown(request, form=form) as refusal:
                services.confirm_in_person(patient=patient, by=request.user, request=request)
            if not refusal:
                messages.success(
                    request, _("%(name)s is verified in person.") % {"name": patient.name}
                )
                return redirect("staff:member", pk=patient.member_id)
            status = refusal.status
        else:
            status = 400
    return render(
        request, "identity/verify_in_person.html", {"patient": patient, "form": form}, status=status
    )
