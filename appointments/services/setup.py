"""Writes of the clinic's setup from the staff console: weekly templates, building and releasing
sessions, holidays, the release rule, departments, fees by title, doctors, and staff edits of
one session.

Each is one transaction that writes its operation-log row (``medbook.audit.record``) naming the
staff login. The console's forms validate the input first; these validate again (the model's
rules and constraints) and refuse with :class:`~medbook.errors.Invalid`, so a caller without a
form gets the same answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from medbook import audit
from medbook.errors import Invalid
from members.models import User

from ..exceptions import LoginHeldByAnotherDoctor
from ..models import (
    Department,
    Doctor,
    Holiday,
    ReleaseRule,
    Schedule,
    ScheduleTemplate,
    TitleFee,
)
from .booking import update_schedule
from .scheduling import Generated, generate_schedules, release_due_schedules

TEMPLATE_FIELDS = frozenset(
    {
        "doctor",
        "weekday",
        "session",
        "start_time",
        "end_time",
        "capacity",
        "minutes_per_visit",
        "slot_minutes",
        "room",
        "room_en",
        "fee",
    }
)
DEPARTMENT_FIELDS = frozenset(
    {
        "code",
        "name",
        "name_en",
        "aliases",
        "location",
        "location_en",
        "description",
        "sort_order",
        "is_active",
    }
)
DOCTOR_FIELDS = frozenset(
    {
        "name",
        "name_en",
        "department",
        "title",
        "introduction",
        "introduction_en",
        "specialties",
        "specialties_en",
        "registration_fee",
        "is_active",
        "allows_extra_numbers",
        "user",
    }
)


def _only(fields: Mapping[str, object], allowed: Iterable[str]) -> dict[str, object]:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise Invalid(
            _("These fields cannot be changed: %(f)s") % {"f": ", ".join(sorted(unknown))}
        )
    return dict(fields)


def _logged(value: object) -> object:
    """A value as the operation log keeps it: rows by id, the rest as text."""
    if isinstance(value, models.Model):
        return value.pk
    if value is None or isinstance(value, bool | int):
        return value
    return str(value)[:200]


def _checked_save(instance: models.Model, *, update_fields: list[str] | None = None) -> None:
    """Save ``instance`` after the model's own checks (fields, uniqueness, constraints); a
    refusal is :class:`Invalid`, on the field it names. A unique value taken by a concurrent
    write between the check and the save is refused the same way."""
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise Invalid.from_validation_error(exc) from exc
    try:
        with transaction.atomic():
            instance.save(update_fields=update_fields)
    except IntegrityError as exc:
        try:
            instance.full_clean()
        except ValidationError as again:
            raise Invalid.from_validation_error(again) from exc
        raise


# -- weekly templates, building and releasing sessions ---------------------------------------------


@transaction.atomic
def add_schedule_template(*, by: User, fields: Mapping[str, object]) -> ScheduleTemplate:
    """A doctor's new weekly session, from which sessions are built; logged."""
    template = ScheduleTemplate(**_only(fields, TEMPLATE_FIELDS))
    _checked_save(template)
    audit.record(actor=by, action="schedule_template.add", target=template)
    return template


@transaction.atomic
def deactivate_schedule_template(*, by: User, pk: int) -> ScheduleTemplate | None:
    """Switch a weekly template off: no more sessions are built from it; those already built
    stay. Logged when it was on; an unknown id changes nothing (None)."""
    template = ScheduleTemplate.objects.select_for_update().filter(pk=pk).first()
    if template is None or not template.is_active:
        return template
    template.is_active = False
    template.save(update_fields=["is_active"])
    audit.record(actor=by, action="schedule_template.deactivate", target=template)
    return template


@transaction.atomic
def build_sessions(
    *,
    by: User,
    start: dt.date,
    weeks: int,
    department: Department | None = None,
    now: dt.datetime | None = None,
) -> Generated:
    """Build draft sessions from the active templates (of ``department``'s doctors, or all)
    for ``weeks`` weeks from ``start`` (scheduling.generate_schedules); logged with the counts."""
    doctors = list(Doctor.objects.filter(department=department)) if department else None
    result = generate_schedules(start=start, weeks=weeks, doctors=doctors, now=now)
    audit.record(
        actor=by,
        action="schedule.generate",
        target=department,
        detail={
            "start": start.isoformat(),
            "weeks": weeks,
            "created": result.created,
            "existing": result.existing,
            "holidays": result.holidays,
        },
    )
    return result


@transaction.atomic
def release_now(*, by: User, now: dt.datetime | None = None) -> int:
    """Run the release job (放号) at once from the console; logged with how many sessions it
    published. Returns that number."""
    released = release_due_schedules(now=now)
    audit.record(actor=by, action="schedule.release", detail={"released": released})
    return released


# -- holidays and the release rule ---------------------------------------------------------------


@transaction.atomic
def add_holiday(*, by: User, date: dt.date, name: str) -> Holiday:
    """A day the clinic is closed: no sessions are built for it; logged."""
    holiday = Holiday(date=date, name=name)
    _checked_save(holiday)
    audit.record(actor=by, action="holiday.add", target=holiday)
    return holiday


@transaction.atomic
def remove_holiday(*, by: User, pk: int) -> bool:
    """Remove a holiday (sessions already built are not touched); logged. An unknown id changes
    nothing (False)."""
    holiday = Holiday.objects.select_for_update().filter(pk=pk).first()
    if holiday is None:
        return False
    audit.record(actor=by, action="holiday.remove", target=holiday)
    holiday.delete()
    return True


@transaction.atomic
def change_release_rule(*, by: User, days_ahead: int, release_time: dt.time) -> ReleaseRule:
    """When sessions built from now on open to the public; logged with the new terms."""
    rule = ReleaseRule.objects.select_for_update().get(pk=ReleaseRule.current().pk)
    rule.days_ahead = days_ahead
    rule.release_time = release_time
    _checked_save(rule, update_fields=["days_ahead", "release_time"])
    audit.record(
        actor=by,
        action="release_rule.change",
        target=rule,
        detail={"days_ahead": days_ahead, "release_time": release_time.strftime("%H:%M")},
    )
    return rule


# -- departments, fees by title, doctors -----------------------------------------------------------


@transaction.atomic
def add_department(*, by: User, fields: Mapping[str, object]) -> Department:
    department = Department(**_only(fields, DEPARTMENT_FIELDS))
    _checked_save(department)
    audit.record(actor=by, action="department.add", target=department)
    return department


@transaction.atomic
def change_department(
    *, department: Department, by: User, fields: Mapping[str, object]
) -> Department:
    """Staff edit a department (names, aliases patients search for, place, order, active);
    logged with what changed. Nothing changed, nothing written."""
    wanted = _only(fields, DEPARTMENT_FIELDS - {"code"})
    locked = Department.objects.select_for_update().get(pk=department.pk)
    changed = {name: value for name, value in wanted.items() if getattr(locked, name) != value}
    if not changed:
        return locked
    for name, value in changed.items():
        setattr(locked, name, value)
    _checked_save(locked, update_fields=list(changed))
    audit.record(
        actor=by,
        action="department.change",
        target=locked,
        detail={name: _logged(value) for name, value in changed.items()},
    )
    return locked


@transaction.atomic
def set_title_fee(*, by: User, title: str, fee: Decimal) -> TitleFee:
    """The registration fee of a title (doctors of it take it unless theirs is set); logged
    with the fee before."""
    existing = TitleFee.objects.select_for_update().filter(title=title).first()
    before = existing.fee if existing is not None else None
    row = existing or TitleFee(title=title)
    row.fee = fee
    _checked_save(row, update_fields=["fee"] if existing is not None else None)
    audit.record(
        actor=by,
        action="title_fee.change",
        target=row,
        detail={"title": title, "fee": str(fee), "before": _logged(before)},
    )
    return row


def _with_title_fee(fields: dict[str, object]) -> dict[str, object]:
    """A doctor whose fee is left at 0 takes the fee of their title, when one is set."""
    if fields.get("title") and not fields.get("registration_fee"):
        by_title = TitleFee.objects.filter(title=fields["title"]).first()
        if by_title is not None:
            fields["registration_fee"] = by_title.fee
    return fields


def _take_login(*, doctor: Doctor | None, login: User | None, move_login: bool, by: User) -> None:
    """A login is one doctor's: when ``login`` is another doctor's, refuse naming that doctor,
    or — ``move_login`` — unlink it from them (logged) so ``doctor`` can have it."""
    if login is None:
        return
    holders = Doctor.objects.select_for_update().select_related("department").filter(user=login)
    if doctor is not None and doctor.pk is not None:
        holders = holders.exclude(pk=doctor.pk)
    holder = holders.first()
    if holder is None:
        return
    if not move_login:
        raise LoginHeldByAnotherDoctor(holder.name, holder.department.name)
    holder.user = None
    holder.save(update_fields=["user"])
    audit.record(
        actor=by,
        action="doctor.change",
        target=holder,
        reason=_("Login moved to %(doctor)s") % {"doctor": doctor.name if doctor else ""},
        detail={"user": None},
    )


@transaction.atomic
def add_doctor(*, by: User, fields: Mapping[str, object], move_login: bool = False) -> Doctor:
    """A new doctor (a fee left at 0 is their title's); logged. A login another doctor has is
    refused with that doctor's name, or moved over with ``move_login``."""
    doctor = Doctor(**_with_title_fee(_only(fields, DOCTOR_FIELDS)))
    _take_login(doctor=doctor, login=doctor.user, move_login=move_login, by=by)
    _checked_save(doctor)
    audit.record(actor=by, action="doctor.add", target=doctor)
    return doctor


@transaction.atomic
def change_doctor(
    *, doctor: Doctor, by: User, fields: Mapping[str, object], move_login: bool = False
) -> Doctor:
    """Staff edit a doctor (a fee left at 0 is their title's); logged with what changed.
    Nothing changed, nothing written. A login another doctor has is refused with that
    doctor's name, or moved over with ``move_login``."""
    wanted = _with_title_fee(_only(fields, DOCTOR_FIELDS))
    # This doctor and the one holding the wanted login, locked in primary-key order: two
    # moves of logins between the same doctors never deadlock.
    login = wanted.get("user")
    mine = Q(pk=doctor.pk) | Q(user=login) if login is not None else Q(pk=doctor.pk)
    rows = {row.pk: row for row in Doctor.objects.select_for_update().filter(mine).order_by("pk")}
    locked = rows[doctor.pk]
    changed = {name: value for name, value in wanted.items() if getattr(locked, name) != value}
    if not changed:
        return locked
    if "user" in changed:
        _take_login(doctor=locked, login=changed["user"], move_login=move_login, by=by)
    for name, value in changed.items():
        setattr(locked, name, value)
    _checked_save(locked, update_fields=list(changed))
    audit.record(
        actor=by,
        action="doctor.change",
        target=locked,
        detail={name: _logged(value) for name, value in changed.items()},
    )
    return locked


# -- one session ---------------------------------------------------------------------------------


@transaction.atomic
def change_schedule(*, schedule: Schedule, by: User, changes: Mapping[str, object]) -> Schedule:
    """Staff edit one session (booking.update_schedule: never below what is booked); logged with
    what changed."""
    changed = update_schedule(schedule=schedule, changes=dict(changes))
    if changes:
        audit.record(
            actor=by,
            action="schedule.change",
            target=changed,
            detail={name: _logged(value) for name, value in changes.items()},
        )
    return changed
