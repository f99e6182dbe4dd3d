"""The member's real-name verification page for one of their patients."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from medbook import refusals
from members.decorators import member_required

from . import selectors, services
from .choices import Channel, Outcome


@require_http_methods(["GET", "POST"])
@member_required
def verify_patient(request: HttpRequest, pk: int) -> HttpResponse:
    """实名认证: check the patient's name and ID number with the register (POST), or show the
    state and the last attempts (GET)."""
    state = selectors.member_patient_verification(member=request.member, pk=pk)
    status = 200
    if request.method == "POST":
        with refusals.shown(request) as refusal:
            attempt = services.verify_patient(
                patient=state.patient, by=request.user, channel=Channel.ONLINE, request=request
            )
        if not refusal:
            say = messages.success if attempt.outcome == Outcome.MATCH else messages.error
            say(request, services.outcome_message(attempt.outcome))
            return redirect("identity:verify_patient", pk=state.patient.pk)
        status = refusal.status
        state = selectors.member_patient_verification(member=request.member, pk=pk)
    return render(
        request,
        "identity/verify_patient.html",
        {"state": state, "sandbox": settings.MEDBOOK_REALNAME_PROVIDER == "sandbox"},
        status=status,
    )
