"""Staff console: member service (search, detail, unmask, points, level, ban) and the levels."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from medbook import audit
from medbook.staff import staff_required

from . import selectors, services
from .models import MemberLevel


@require_GET
@staff_required("members.view_member")
def members(request: HttpRequest) -> HttpResponse:
    """Search by mobile number (exact, through the blind index), name or level."""
    query = request.GET.get("q", "").strip()[:64]
    level = request.GET.get("level", "")
    found = selectors.search_members(query=query, level=int(level) if level.isdigit() else None)
    page = Paginator(found, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/members.html",
        {"page": page, "query": query, "level": level, "levels": MemberLevel.objects.all()},
    )


class LevelEditForm(forms.ModelForm):
    class Meta:
        model = MemberLevel
        fields = [
            "name",
            "min_points",
            "booking_lead_hours",
            "can_cancel_late",
            "discount_rate",
            "max_active_appointments",
            "points_multiplier",
        ]


@require_GET
@staff_required("members.change_memberlevel")
def levels(request: HttpRequest) -> HttpResponse:
    history = MemberLevel.history.select_related("history_user").order_by("-history_date")[:15]
    return render(
        request, "staff/levels.html", {"levels": MemberLevel.objects.all(), "history": history}
    )


@require_http_methods(["GET", "POST"])
@staff_required("members.change_memberlevel")
def level_edit(request: HttpRequest, pk: int) -> HttpResponse:
    level = get_object_or_404(MemberLevel, pk=pk)
    form = LevelEditForm(request.POST or None, instance=level)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            saved = form.save()
            audit.record(
                actor=request.user,
                action="level.change",
                target=saved,
                detail={name: str(form.cleaned_data[name]) for name in form.changed_data},
                request=request,
            )
            # Levels follow the level rule: a new threshold moves the members it concerns.
            moved = (
                services.apply_level_rule_to_all(by=request.user, request=request)
                if "min_points" in form.changed_data
                else 0
            )
        messages.success(request, _("Level saved. It applies from now on."))
        if moved:
            messages.info(
                request,
                _("%(n)d members moved to the level the new threshold gives.") % {"n": moved},
            )
        return redirect("staff:levels")
    return render(
        request,
        "staff/form.html",
        {"form": form, "title": level.name, "back": reverse("staff:levels")},
        status=400 if form.errors else 200,
    )
