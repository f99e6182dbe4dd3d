"""The public catalogue: departments and doctors with their next open session, search, a doctor's
sessions."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AnonymousUser
from django.db.models import (
    Case,
    Count,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
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
from ..search import normalised_query

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
        booked__lt=F("capacity") - F("offered"),
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


# Sessions this many days ahead count as "有号" on the home page (the release window is 7 days).
BOOKABLE_DAYS = 7


def _open_until(now: dt.datetime, days: int) -> dt.date:
    return timezone.localdate(now) + dt.timedelta(days=days)


def _ranked(field: str, key: str, first: int) -> list[When]:
    """``first`` when ``key`` is one of the row's search keys, ``first + 1`` when a key starts
    with it, ``first + 2`` when it is inside one (appointments.search stores the keys with a
    space at both ends)."""
    return [
        When(**{f"{field}__contains": f" {key} "}, then=Value(first)),
        When(**{f"{field}__contains": f" {key}"}, then=Value(first + 1)),
        When(**{f"{field}__contains": key}, then=Value(first + 2)),
    ]


def search_doctors(*, query: str, now: dt.datetime | None = None) -> QuerySet[Doctor]:
    """Doctors matching ``query``, best first: by their own name (Chinese, full pinyin,
    initials, English; exact before a name's start before anywhere in it), then doctors of a
    matching department (name, alias such as 心内, pinyin, English) ranked the same way, then
    by specialty; seniority within a rank. One query; the keys were worked out on save."""
    key = normalised_query(query)
    rank = Case(
        *_ranked("search_keys", key, 0),
        *_ranked("department__search_keys", key, 3),
        default=Value(6),
    )
    return (
        doctors_with_next_slot(now)
        .filter(
            Q(search_keys__contains=key)
            | Q(department__search_keys__contains=key)
            | Q(specialties__icontains=key),
            department__is_active=True,
        )
        .annotate(search_rank=rank)
        .order_by("search_rank", TITLE_RANK, "name")
        .select_related("department")
    )


def search_departments(*, query: str, now: dt.datetime) -> QuerySet[Department]:
    """Active departments matching ``query`` (name, alias, pinyin, initials, English), exact
    before prefix before anywhere, each with its "有号" count as on the home page."""
    key = normalised_query(query)
    return (
        departments_with_open_counts(now=now)
        .filter(search_keys__contains=key)
        .annotate(search_rank=Case(*_ranked("search_keys", key, 0), default=Value(3)))
        .order_by("search_rank", "sort_order", "name")
    )


def departments_with_open_counts(
    *, now: dt.datetime, days: int = BOOKABLE_DAYS
) -> QuerySet[Department]:
    """Active departments in their order, each with ``doctor_count`` (active doctors) and
    ``open_doctors``: how many of them have a session open for booking in the next ``days``
    days ("有号"). One query."""
    open_doctors = (
        open_schedules(now)
        .filter(
            doctor__department=OuterRef("pk"),
            doctor__is_active=True,
            date__lt=_open_until(now, days),
        )
        .order_by()
        .values("doctor__department")
        .annotate(n=Count("doctor", distinct=True))
        .values("n")
    )
    doctor_count = (
        Doctor.objects.filter(department=OuterRef("pk"), is_active=True)
        .order_by()
        .values("department")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Department.objects.filter(is_active=True).annotate(
        open_doctors=Coalesce(Subquery(open_doctors), 0),
        doctor_count=Coalesce(Subquery(doctor_count), 0),
    )


def catalogue_doctors(
    *,
    department: str = "",
    query: str = "",
    now: dt.datetime,
    open_within: int | None = None,
) -> QuerySet[Doctor]:
    """Active doctors of active departments by seniority (or, with ``query``, ranked as the
    site's search ranks them), with their department and ``next_open``: of department
    ``department`` (its code), matching ``query``, with a session open for booking in the next
    ``open_within`` days ("只看有号"), each when given. One query."""
    doctors = (
        search_doctors(query=query, now=now)
        if normalised_query(query)
        else doctors_with_next_slot(now)
        .filter(department__is_active=True)
        .select_related("department")
    )
    if department:
        doctors = doctors.filter(department__code=department)
    if open_within is not None:
        doctors = doctors.filter(next_open__lt=_open_until(now, open_within))
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
