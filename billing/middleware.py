"""The release gate in front of the booking view: an attempt that cannot win is answered before
the login, the member or anything in the database is read.

At a popular release nearly every booking attempt loses. Django would load the user (and the
member, the schedule, the page's context) for each of them; here the attempt is decided from
the session alone (already read from Redis) and one round trip to the gate
(:mod:`appointments.gate`), and a loser gets a small page rendered without the request. Only
what the gate lets through (or cannot decide) goes on to the view, which runs as it would
without the gate.

Whatever the gate answers from a session is no secret of the member's ("fully booked", "your
booking is on its way", a redirect to a page that asks for the login again), so a session that
the login checks would refuse later (its user logged out elsewhere, the password changed) gains
nothing by it; when such a session is let through, its unit of stock goes back as soon as the
login check stops it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from appointments import exceptions as errors
from appointments import gate
from appointments.gate import Verdict
from medbook import metrics
from medbook.audit import client_ip
from medbook.middleware import SESSION_KIND

View = Callable[..., HttpResponse]


def release_gated(view: View) -> View:
    """Mark a view whose POST is a booking attempt on ``schedule_id``: the release gate
    answers it first (the view finds the verdict on ``request.release_gate``)."""
    view.release_gated = True
    return view


@dataclass
class Attempt:
    """A booking attempt the gate let through (or could not decide), for the view; the view
    sets ``settled`` once it has told the gate what the database decided."""

    schedule_id: int
    user_id: int
    verdict: Verdict
    patient: str = ""
    settled: bool = False


class ReleaseGateMiddleware:
    """Decides booking attempts in Redis before the login checks run (placed before them)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        finally:
            attempt = getattr(request, "release_gate", None)
            if attempt is not None and attempt.verdict == Verdict.GO and not attempt.settled:
                # Let through, then stopped before the booking (the login or the session
                # policy refused it, an error): the unit of stock goes back.
                gate.settle(
                    schedule_id=attempt.schedule_id,
                    user_id=attempt.user_id,
                    patient=attempt.patient,
                )

    def process_view(self, request, view_func, view_args, view_kwargs) -> HttpResponse | None:
        if request.method != "POST" or not getattr(view_func, "release_gated", False):
            return None
        user_id = request.session.get(SESSION_KEY)
        if user_id is None or request.session.get(SESSION_KIND) != "member":
            return None  # anonymous or staff: the view's own checks answer
        schedule_id = view_kwargs["schedule_id"]
        patient = attempt_patient(request)
        verdict, booked_id = gate.enter(
            schedule_id=schedule_id,
            user_id=int(user_id),
            address=client_ip(request) or "-",
            patient=patient,
        )
        metrics.GATE.labels(str(verdict)).inc()
        answer = _answer(request, schedule_id, verdict, booked_id)
        if answer is not None:
            add_never_cache_headers(answer)
            return answer
        request.release_gate = Attempt(schedule_id, int(user_id), verdict, patient)
        return None


def attempt_patient(request: HttpRequest) -> str:
    """The patient a booking attempt names (the id the form sent; "" for the account holder
    or anything that is not an id: the view refuses that with a message)."""
    value = request.POST.get("patient", "").strip()
    return value if value.isdigit() and len(value) <= 12 else ""


def _answer(
    request: HttpRequest, schedule_id: int, verdict: Verdict, booked_id: int | None
) -> HttpResponse | None:
    """The gate's own answers: sold out (one small page, rendered without the request: no
    context processor, no query), this member's booking already made or on its way
    (redirects to the pages that say so)."""
    if verdict == Verdict.SOLD_OUT:
        page = render_to_string(
            "billing/book_full.html",
            {
                "message": errors.SoldOut().message,
                "back": reverse("billing:book", args=[schedule_id]),
            },
        )
        return HttpResponse(page, status=409)
    if verdict == Verdict.BOOKED and booked_id is not None:
        messages.info(request, _("You already have this appointment."))
        return redirect("billing:appointment_detail", booked_id)
    if verdict == Verdict.TRYING:
        messages.info(
            request,
            _("Your booking of this session is on its way: it appears here in a moment."),
        )
        return redirect("billing:appointments")
    return None
