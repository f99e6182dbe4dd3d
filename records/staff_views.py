"""Visit records in the staff console: the doctor writes (completing the visit) or amends a
record, searching the ICD-10 list; the desk reads and prints one. Every staff view of a record
is in the operation log."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from appointments import selectors as appointment_selectors
from appointments.choices import AppointmentStatus
from medbook import refusals
from medbook.clinic import local_clinic
from medbook.staff import staff_required

from . import icd10, pdf, selectors, services
from .forms import RecordForm


def _initial(view: selectors.RecordView | None) -> dict:
    if view is None:
        return {}
    current = view.current
    return {
        "chief_complaint": current.chief_complaint,
        "diagnosis_code": current.diagnosis_code,
        "advice": current.advice,
        "prescriptions": current.prescriptions,
        "follow_up_on": current.follow_up_on,
    }


@require_http_methods(["GET", "POST"])
@staff_required("records.write_visit_record")
def appointment_record(request: HttpRequest, pk: int) -> HttpResponse:
    """The record of one of the doctor's patients: written (the visit completed with it) or,
    once written, amended with a reason."""
    appointment = appointment_selectors.queue_appointment(user=request.user, pk=pk)
    if appointment is None:
        raise Http404("not your patient")
    existing = selectors.record_of_appointment(appointment=appointment)
    form = RecordForm(
        request.POST or None, amending=existing is not None, initial=_initial(existing)
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            with refusals.shown(request, form=form) as refusal:
                if existing is None:
                    record = services.write_record(
                        appointment=appointment,
                        text=form.text(),
                        by=request.user,
                        now=timezone.now(),
                        request=request,
                    )
                else:
                    services.amend_record(
                        record=existing.record,
                        text=form.text(),
                        reason=form.cleaned_data["reason"],
                        by=request.user,
                        now=timezone.now(),
                        request=request,
                    )
                    record = existing.record
            if not refusal:
                if existing is None:
                    messages.success(
                        request,
                        _("Number %(n)d completed; the record is saved.")
                        % {"n": appointment.queue_number},
                    )
                    return redirect(f"{reverse('staff:queue')}?schedule={appointment.schedule_id}")
                messages.success(request, _("The record is amended."))
                return redirect("staff:record", record.pk)
            status = refusal.status
    elif existing is not None:
        services.log_staff_view(record=existing.record, by=request.user, what="form")
    code = form["diagnosis_code"].value() or ""
    context = {
        "appointment": appointment,
        "existing": existing,
        "form": form,
        "chosen": icd10.diagnosis(code),
        "completes": existing is None and appointment.status == AppointmentStatus.CHECKED_IN,
    }
    return render(request, "records/staff/record_form.html", context, status=status)


@require_GET
@staff_required("records.write_visit_record")
def diagnosis_search(request: HttpRequest) -> HttpResponse:
    """The ICD-10 choices for the record form (an HTMX fragment): the one chosen, then the
    matches of ``q``."""
    chosen = icd10.diagnosis(request.GET.get("diagnosis_code", ""))
    found = [d for d in icd10.search(request.GET.get("q", "")) if d != chosen]
    context = {"chosen": chosen, "found": found, "query": request.GET.get("q", "")}
    return render(request, "records/staff/partials/_diagnosis_options.html", context)


def _readable(request: HttpRequest, pk: int, what: str) -> selectors.RecordView:
    view = selectors.staff_record(user=request.user, pk=pk)
    if view is None:
        raise Http404("no such record")
    services.log_staff_view(record=view.record, by=request.user, what=what, request=request)
    return view


@require_GET
@staff_required()
def record(request: HttpRequest, pk: int) -> HttpResponse:
    """A record as staff read and print it (print-friendly page), logged."""
    view = _readable(request, pk, "page")
    can_amend = request.user.has_perm("records.write_visit_record") and (
        appointment_selectors.may_run_queue(
            user=request.user, schedule=view.record.appointment.schedule
        )
    )
    return render(request, "records/staff/record.html", {"view": view, "can_amend": can_amend})


@require_GET
@staff_required()
def record_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    view = _readable(request, pk, "pdf")
    response = HttpResponse(
        pdf.render_pdf(view=view, clinic=local_clinic()), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'inline; filename="{pdf.filename(view)}"'
    return response
