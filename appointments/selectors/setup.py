"""The clinic's setup pages: departments, weekly templates, holidays, the release rule, fees by
title."""

from __future__ import annotations

import datetime as dt

from django.db.models import (
    Count,
    Q,
    QuerySet,
)

from ..choices import (
    ScheduleStatus,
    WaitlistStatus,
)
from ..models import (
    Department,
    Holiday,
    ReleaseRule,
    Schedule,
    ScheduleTemplate,
    TitleFee,
)


def active_departments() -> QuerySet[Department]:
    return Department.objects.filter(is_active=True)


def active_department(*, code: str) -> Department | None:
    return Department.objects.filter(code=code, is_active=True).first()


def departments_for_staff() -> QuerySet[Department]:
    """Every department, active or not, with all its doctors (two queries)."""
    return Department.objects.prefetch_related("doctors")


def department_for_staff(*, code: str) -> Department | None:
    """One department, active or not, by its code."""
    return Department.objects.filter(code=code).first()


def sessions_of_week(*, start: dt.date, department: str = "") -> QuerySet[Schedule]:
    """The sessions of the seven days from ``start`` (of one department, by its code, when
    given), by date, department and doctor; each with ``waiting``: members on its waitlist."""
    rows = (
        Schedule.objects.filter(date__gte=start, date__lt=start + dt.timedelta(days=7))
        .annotate(
            waiting=Count(
                "waitlist_entries", filter=Q(waitlist_entries__status=WaitlistStatus.WAITING)
            )
        )
        .select_related("doctor__department")
        .order_by("date", "doctor__department__sort_order", "doctor__name", "start_time")
    )
    if department:
        rows = rows.filter(doctor__department__code=department)
    return rows


def active_templates(*, department: str = "") -> QuerySet[ScheduleTemplate]:
    """The weekly templates in use (of one department, by its code, when given)."""
    templates = ScheduleTemplate.objects.filter(is_active=True)
    if department:
        templates = templates.filter(doctor__department__code=department)
    return templates.select_related("doctor__department").order_by(
        "doctor__department__sort_order", "doctor__name", "weekday", "start_time"
    )


def holidays_from(*, day: dt.date) -> QuerySet[Holiday]:
    return Holiday.objects.filter(date__gte=day)


def drafts_waiting(*, today: dt.date) -> int:
    """Sessions from today on still waiting for the release job."""
    return Schedule.objects.filter(status=ScheduleStatus.DRAFT, date__gte=today).count()


def release_rule() -> ReleaseRule:
    """The clinic's release rule (放号), created with its defaults on first use."""
    return ReleaseRule.current()


def title_fees() -> QuerySet[TitleFee]:
    return TitleFee.objects.all()


def title_fee(*, title: str | None) -> TitleFee | None:
    return TitleFee.objects.filter(title=title).first() if title else None
