"""Staff console: member service (search, detail, unmask, points, level, ban) and the levels."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from medbook import refusals
from medbook.paginator import CappedPaginator
from medbook.staff import staff_required, stash_search, stashed_search

from . import patients, selectors, services
from .forms import LevelEditForm, MemberSearchForm, PatientForm


@require_http_methods(["GET", "POST"])
@staff_required("members.view_member")
def members(request: HttpRequest) -> HttpResponse:
    """Search by mobile or ID number (exact, through the blind index), name or level.

    The search is posted and kept in the session under a token (medbook.staff.stash_search):
    the results' address, its pages and the browser history hold no phone or ID number."""
    if request.method == "POST":
        form = MemberSearchForm(request.POST)
        if form.is_valid():
            level = form.cleaned_data["level"]
            search = selectors.MemberSearch.from_query(
                form.cleaned_data["q"], level.level if level else None
            )
            token = stash_search(request, kind="members", data=search.as_dict())
            return redirect(f"{reverse('staff:members')}?{urlencode({'search': token})}")
        return render(
            request,
            "staff/members.html",
            {"form": form, "page": None, "search": None},
            status=400,
        )
    token = request.GET.get("search", "")
    stashed = stashed_search(request, kind="members", token=token)
    try:
        search = selectors.MemberSearch(**stashed) if stashed else selectors.MemberSearch()
    except TypeError:  # kept by an older version: start afresh
        stashed, search = None, selectors.MemberSearch()
    form = MemberSearchForm(
        initial={
            "q": search.name,
            "level": str(search.level) if search.level is not None else "",
        }
    )
    page = CappedPaginator(selectors.search_members(search=search), 20).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "staff/members.html",
        {
            "form": form,
            "page": page,
            "search": search if stashed else None,
            "extra": urlencode({"search": token}) if stashed else "",
        },
    )


@require_GET
@staff_required("members.change_memberlevel")
def levels(request: HttpRequest) -> HttpResponse:
    overview = selectors.levels_overview()
    return render(
        request, "staff/levels.html", {"levels": overview.levels, "history": overview.history}
    )


@require_http_methods(["GET", "POST"])
@staff_required("members.change_memberlevel")
def level_edit(request: HttpRequest, pk: int) -> HttpResponse:
    level = selectors.member_level(pk=pk)
    form = LevelEditForm(request.POST or None, instance=level)
    if request.method == "POST" and form.is_valid():
        moved = services.change_level_terms(
            level=level,
            changes={name: form.cleaned_data[name] for name in form.changed_data},
            by=request.user,
            request=request,
        )
        messages.success(request, _("Level saved. It applies from now on."))
        if moved:
            messages.info(
                request,
                _("Members moved to the level the new threshold gives: %(n)d.") % {"n": moved},
            )
        return redirect("staff:levels")
    return render(
        request,
        "staff/form.html",
        {"form": form, "title": level.name, "back": reverse("staff:levels")},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@staff_required("members.add_patient")
def member_patient_add(request: HttpRequest, pk: int) -> HttpResponse:
    """The desk adds a patient (就诊人) to a member's account — a relative who came with the
    member and their ID — with the same rules as the member's own page (logged as the desk)."""
    member = selectors.member_for_staff(pk=pk)
    if member is None:
        raise Http404("no such member")
    form = PatientForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            with refusals.shown(request, form=form) as refusal:
                patient = patients.add_patient(
                    member=member, by=request.user, request=request, **form.details()
                )
            if not refusal:
                messages.success(request, _("%(name)s was added.") % {"name": patient.name})
                return redirect("staff:member", member.pk)
            status = refusal.status
    context = {
        "form": form,
        "title": _("Add a patient for %(name)s") % {"name": member.name},
        "back": reverse("staff:member", args=[member.pk]),
    }
    return render(request, "staff/form.html", context, status=status)
