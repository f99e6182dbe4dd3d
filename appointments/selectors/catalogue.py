"""The public catalogue: departments and doctors with their next open session, search, a doctor's
sessions."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AnonymousUser
from django.db.models import (
    Case,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from members.models import Member, User
from members.selectors import member_for_user

from ..choices import (
    DoctorTitle,
    ScheduleStatus,
)
from ..models import (
    Department,
    Doctor,
    Schedule,
)

TITLE_RANK = Case(
    *(When(title=title, then=Value(rank)) for rank, title in enumerate(DoctorTitle.values)),
    default=Value(len(DoctorTitle.values)),
)


def open_schedules(now: dt.datetime) -> QuerySet[Schedule]:
    """Published sessions still ahead, open to the public and with slots left."""
    local = timezone.localtime(now)
    return Schedule.objects.filter(
        Q(date__gt=local.date()) | Q(date=local.date(), start_time__gt=local.time()),
        status=ScheduleStatus.PUBLISHED,
        release_at__lte=now,
        booked__lt=F("capacity"),
    )


def doctors_with_next_slot(now: dt.datetime | None = None) -> QuerySet[Doctor]:
    """Active doctors by seniority, each with ``next_open``: the date of their next session
    with slots left (None when there is none)."""
    next_open = (
        open_schedules(now or timezone.now())
        .filter(doctor=OuterRef("pk"))
        .order_by("date", "start_time")
        .values("date")[:1]
    )
    return (
        Doctor.objects.filter(is_active=True)
        .annotate(next_open=Subquery(next_open))
        .order_by(TITLE_RANK, "name")
    )


def departments_with_doctors(now: dt.datetime | None = None) -> QuerySet[Department]:
    """Active departments, each with its active doctors prefetched (two queries)."""
    return Department.objects.filter(is_active=True).prefetch_related(
        Prefetch("doctors", queryset=doctors_with_next_slot(now), to_attr="active_doctors")
    )


def search_doctors(*, query: str, now: dt.datetime | None = None) -> QuerySet[Doctor]:
    """Doctors whose name, department or specialties contain ``query`` (one query)."""
    query = query.strip()[:50]
    return (
        doctors_with_next_slot(now)
        .filter(
            Q(name__icontains=query)
            | Q(department__name__icontains=query)
            | Q(specialties__icontains=query),
            department__is_active=True,
        )
        .select_related("department")
    )


def catalogue_doctors(
    *, department: str = "", query: str = "", now: dt.datetime
) -> QuerySet[Doctor]:
    """Active doctors of active departments by seniority, with their department and
    ``next_open``: of department ``department`` (its code) and matching ``query`` (as the
    site's search does), each when given. One query."""
    doctors = (
        search_doctors(query=query, now=now)
        if query.strip()
        else doctors_with_next_slot(now)
        .filter(department__is_active=True)
        .select_related("department")
    )
    if department:
        doctors = doctors.filter(department__code=department)
    return doctors


def catalogue_doctor(*, pk: int, now: dt.datetime) -> Doctor | None:
    """One active doctor as :func:`catalogue_doctors` shows them."""
    return catalogue_doctors(now=now).filter(pk=pk).first()


def schedules_for_doctor(*, doctor: Doctor, start: dt.date, days: int) -> QuerySet[Schedule]:
    """A doctor's visible schedules from ``start`` for ``days`` days."""
    return (
        Schedule.objects.filter(
            doctor=doctor,
            date__gte=start,
            date__lt=start + dt.timedelta(days=days),
        )
        .exclude(status=ScheduleStatus.DRAFT)
        .select_related("doctor__department")
        .order_by("date", "start_time")
    )


def open_sessions_of_department(*, code: str, now: dt.datetime, limit: int = 40) -> list[Schedule]:
    """The department's sessions open for booking at ``now``, soonest first."""
    return list(
        open_schedules(now)
        .filter(doctor__department__code=code)
        .select_related("doctor")
        .order_by("date", "start_time")[:limit]
    )


def viewing_member(*, user: User | AnonymousUser) -> Member | None:
    """The member a visitor is logged in as, with their level (it may open sessions earlier);
    None for anonymous visitors and staff."""
    if not user.is_authenticated:
        return None
    return member_for_user(user_id=user.pk)


def public_doctor(*, pk: int) -> Doctor | None:
    """An active doctor with their department, as the public pages show them."""
    return Doctor.objects.select_related("department").filter(pk=pk, is_active=True).first()
