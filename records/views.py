"""The member's health record (病历): the records of their account's patients, one record, and
its PDF. Another account's record is a 404."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from medbook.clinic import local_clinic
from members import patients
from members.decorators import member_required

from . import pdf, selectors
from .forms import PatientFilterForm


@require_GET
@member_required
def record_list(request: HttpRequest) -> HttpResponse:
    member = request.member
    account_patients = list(patients.member_patients(member=member))
    form = PatientFilterForm(request.GET or None)
    wanted = form.cleaned_data.get("patient") if form.is_valid() else None
    chosen = next((p for p in account_patients if p.pk == wanted), None)
    context = {
        "records": selectors.member_records(member=member, patient=chosen),
        "patients": account_patients,
        "chosen": chosen,
    }
    return render(request, "records/records.html", context)


def _own(request: HttpRequest, pk: int) -> selectors.RecordView:
    view = selectors.member_record(member=request.member, pk=pk)
    if view is None:
        raise Http404("no such record")
    return view


@require_GET
@member_required
def record_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "records/record.html", {"view": _own(request, pk)})


@require_GET
@member_required
def record_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    view = _own(request, pk)
    response = HttpResponse(
        pdf.render_pdf(view=view, clinic=local_clinic()), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="{pdf.filename(view)}"'
    return response
